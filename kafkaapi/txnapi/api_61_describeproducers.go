package txnapi

// DescribeProducers (key 61), version 0 (KIP-664).
//
// The active producers of each partition this broker leads, from its
// producer state (Kafka's ReplicaManager.activeProducerState): producer id
// and epoch, last sequence, the time of its last append, the coordinator
// epoch of its last transaction marker and the first offset of its open
// transaction (-1: none). Per partition: TOPIC_AUTHORIZATION_FAILED
// without Read on its topic, UNKNOWN_TOPIC_OR_PARTITION for a partition
// the cluster does not have, NOT_LEADER_OR_FOLLOWER for one this broker
// does not lead.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(61, 0, 0, serveDescribeProducers) }

func serveDescribeProducers(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.DescribeProducersRequest)
	resp := kmsg.NewPtrDescribeProducersResponse()
	readable := rc.FilterAuthorized(acl.OpRead, acl.ResourceTopic, kafkaapi.TopicNames(req.Topics, func(t *kmsg.DescribeProducersRequestTopic) string { return t.Topic }), false)
	for _, rt := range req.Topics {
		st := kmsg.NewDescribeProducersResponseTopic()
		st.Topic = rt.Topic
		for _, i := range rt.Partitions {
			sp := kmsg.NewDescribeProducersResponseTopicPartition()
			sp.Partition = i
			if !readable.Has(rt.Topic) {
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			switch _, p, err := rc.Handler().Replicas().Lookup(rt.Topic, i); {
			case err != nil:
				sp.ErrorCode, sp.ErrorMessage = codeOf(err), msgOf(err)
			case !p.IsLeader():
				sp.ErrorCode = kerr.NotLeaderForPartition.Code
			default:
				for _, e := range p.ActiveProducers() {
					ap := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
					ap.ProducerID, ap.ProducerEpoch, ap.LastSequence = e.ProducerID, int32(e.Epoch), e.LastSequence
					ap.LastTimestamp, ap.CoordinatorEpoch, ap.CurrentTxnStartOffset = e.LastTimestamp, e.CoordinatorEpoch, e.CurrentTxnStartOffset
					sp.ActiveProducers = append(sp.ActiveProducers, ap)
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return rc.Respond(resp)
}
