package kafkaapi

// OffsetForLeaderEpoch (key 23), versions 0-4.
//
// For each partition, the largest leader epoch at or below the one asked
// and the offset its leadership ended at (the next epoch's start, or the
// log end for the current epoch), from the leader's epoch cache (Kafka's
// endOffsetFor); -1/-1 when the epoch is newer than any held. Consumers use
// it to detect a log truncated under them (KIP-320), followers on paths
// without Fetch's diverging epoch. Served by the leader only, whoever asks
// (replica_id, v3+, changes nothing), as in Kafka: a follower answers
// NOT_LEADER_OR_FOLLOWER. current_leader_epoch (v2+) is fenced as in Fetch:
// FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH. Needs ClusterAction on the
// cluster (brokers) or else Describe on each topic
// (TOPIC_AUTHORIZATION_FAILED for its partitions).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { register(23, 0, 4, serveOffsetForLeaderEpoch) }

func serveOffsetForLeaderEpoch(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.OffsetForLeaderEpochRequest)
	h := rc.h
	resp := kmsg.NewPtrOffsetForLeaderEpochResponse()
	var describable allowed // a broker's follower has ClusterAction; a consumer (KIP-320) Describe on the topic
	if h.authz != nil && !rc.authorizeAction(acl.Action{Operation: acl.OpClusterAction, Type: acl.ResourceCluster, Name: acl.ClusterName, QuietDenied: true}) {
		describable = rc.filterAuthorized(acl.OpDescribe, acl.ResourceTopic, TopicNames(req.Topics, func(t *kmsg.OffsetForLeaderEpochRequestTopic) string { return t.Topic }), false)
	}
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetForLeaderEpochResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			sp.Partition, sp.LeaderEpoch, sp.EndOffset = rp.Partition, -1, -1
			if !describable.has(rt.Topic) {
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			_, p, err := h.rm.Lookup(rt.Topic, rp.Partition)
			if err == nil {
				err = p.CheckLeader(rp.CurrentLeaderEpoch)
			}
			if err != nil {
				sp.ErrorCode = codeOf(err)
			} else {
				sp.LeaderEpoch, sp.EndOffset = p.Log.EpochEndOffset(rp.LeaderEpoch)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return rc.respond(resp)
}
