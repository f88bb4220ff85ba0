package kafkaapi

// OffsetCommit (key 8), versions 0-8.
//
// Offsets are records of __consumer_offsets (OffsetCommitKey v1,
// OffsetCommitValue v3, or v1 with an expire timestamp when v2-v4 give a
// retention time), in the log before the answer. Members commit with
// their member id and generation (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
// FENCED_INSTANCE_ID, REBALANCE_IN_PROGRESS as in Kafka); simple consumers
// commit with generation -1 while the group has no members. Partitions
// the broker does not have are UNKNOWN_TOPIC_OR_PARTITION; metadata over
// offset.metadata.max.bytes is OFFSET_METADATA_TOO_LARGE. v1's per-partition
// commit timestamp and v6's leader epoch are stored.
//
// Unlike Kafka in ZooKeeper mode, v0 commits go to __consumer_offsets too,
// not to ZooKeeper. Needs Read on the group (else every partition is
// GROUP_AUTHORIZATION_FAILED) and on each topic (TOPIC_AUTHORIZATION_FAILED
// for its partitions; the others are committed).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { register(8, 0, 8, serveOffsetCommit) }

func serveOffsetCommit(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.OffsetCommitRequest)
	if rc.h.authz == nil {
		return rc.respond(rc.h.groups.OffsetCommit(req))
	}
	resp := kmsg.NewPtrOffsetCommitResponse()
	if !rc.authorize(acl.OpRead, acl.ResourceGroup, req.Group) {
		resp.Topics = offsetCommitRefused(req.Topics, kerr.GroupAuthorizationFailed.Code)
		return rc.respond(resp)
	}
	readable := rc.filterAuthorized(acl.OpRead, acl.ResourceTopic, TopicNames(req.Topics, func(t *kmsg.OffsetCommitRequestTopic) string { return t.Topic }), false)
	sub := *req
	sub.Topics = nil
	var refused []kmsg.OffsetCommitRequestTopic
	for _, t := range req.Topics {
		if readable.has(t.Topic) {
			sub.Topics = append(sub.Topics, t)
		} else {
			refused = append(refused, t)
		}
	}
	if len(sub.Topics) > 0 {
		resp = rc.h.groups.OffsetCommit(&sub)
	}
	resp.Topics = append(resp.Topics, offsetCommitRefused(refused, kerr.TopicAuthorizationFailed.Code)...)
	return rc.respond(resp)
}

// offsetCommitRefused answers every partition of topics with code.
func offsetCommitRefused(topics []kmsg.OffsetCommitRequestTopic, code int16) []kmsg.OffsetCommitResponseTopic {
	out := make([]kmsg.OffsetCommitResponseTopic, 0, len(topics))
	for _, t := range topics {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, code
			rt.Partitions = append(rt.Partitions, rp)
		}
		out = append(out, rt)
	}
	return out
}
