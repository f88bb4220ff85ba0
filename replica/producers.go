package replica

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/apierr"
)

// DescribeProducers answers DescribeProducers (KIP-664; Kafka's
// ReplicaManager.activeProducerState): the producers of each partition
// this broker leads, from its producer state, under the partition's
// append lock. A partition the cluster does not have is
// UNKNOWN_TOPIC_OR_PARTITION; one this broker does not lead
// NOT_LEADER_OR_FOLLOWER.
func (m *Manager) DescribeProducers(req *kmsg.DescribeProducersRequest) *kmsg.DescribeProducersResponse {
	resp := kmsg.NewPtrDescribeProducersResponse()
	for _, rt := range req.Topics {
		st := kmsg.NewDescribeProducersResponseTopic()
		st.Topic = rt.Topic
		for _, i := range rt.Partitions {
			sp := kmsg.NewDescribeProducersResponseTopicPartition()
			sp.Partition = i
			_, p, err := m.Lookup(rt.Topic, i)
			switch {
			case err != nil:
				sp.ErrorCode, sp.ErrorMessage = apierr.Code(err), apierr.Message(err)
			case !p.IsLeader():
				sp.ErrorCode = kerr.NotLeaderForPartition.Code
			default:
				p.prod.Mu.Lock()
				entries := p.prod.State.Entries()
				p.prod.Mu.Unlock()
				for _, e := range entries {
					ap := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
					ap.ProducerID, ap.ProducerEpoch, ap.LastSequence = e.ProducerID, int32(e.Epoch), e.LastSequence
					ap.LastTimestamp, ap.CoordinatorEpoch, ap.CurrentTxnStartOffset = e.Timestamp, e.CoordinatorEpoch, e.CurrentTxnFirstOffset
					sp.ActiveProducers = append(sp.ActiveProducers, ap)
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}
