package metadata

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/security"
)

// LeaderDuringDelete is the leader an UpdateMetadata names for a partition
// of a topic being deleted (Kafka's LeaderAndIsr.LeaderDuringDelete): the
// cache forgets the topic.
const LeaderDuringDelete = -2

// ApplyUpdateMetadata applies a controller's UpdateMetadata (v5+) to the
// cache: the live brokers with every endpoint (Host and Port those of
// listener, the inter-broker one), the controller,
// and the partition states it names; a partition whose leader is
// LeaderDuringDelete removes its topic. Topics it does not name keep their
// state: the controller sends every partition when it starts and when a
// broker (re)joins.
func (c *Cache) ApplyUpdateMetadata(req *kmsg.UpdateMetadataRequest, listener string) {
	c.Update(func(e *Edit) {
		e.SetController(req.ControllerID)
		var bs []Broker
		for _, lb := range req.LiveBrokers {
			b := Broker{ID: lb.ID, Host: lb.Host, Port: lb.Port, Rack: lb.Rack, Epoch: -1}
			for _, ep := range lb.Endpoints {
				if ep.ListenerName == listener || len(lb.Endpoints) == 1 {
					b.Host, b.Port = ep.Host, ep.Port
				}
				proto, _ := security.ProtocolForID(ep.SecurityProtocol)
				b.Endpoints = append(b.Endpoints, Endpoint{Listener: ep.ListenerName, Protocol: proto, Host: ep.Host, Port: ep.Port})
			}
			bs = append(bs, b)
		}
		e.SetBrokers(bs)
		apply := func(topic string, id TopicID, ps kmsg.UpdateMetadataRequestTopicPartition) {
			if ps.Leader == LeaderDuringDelete {
				e.DeleteTopic(topic)
				return
			}
			t := e.s.Topics[topic]
			if t == nil {
				t = &TopicInfo{Name: topic, ID: id, Internal: IsInternal(topic)}
				e.PutTopic(t)
			}
			if id != (TopicID{}) && t.ID != id {
				// A topic deleted and created again under the same name.
				e.PutTopic(&TopicInfo{Name: topic, ID: id, Internal: IsInternal(topic)})
			}
			e.SetPartition(topic, ps.Partition, PartitionState{
				Leader: ps.Leader, LeaderEpoch: ps.LeaderEpoch, Replicas: ps.Replicas,
				ISR: ps.ISR, Offline: ps.OfflineReplicas, PartitionEpoch: ps.ZKVersion,
			})
		}
		for _, ps := range req.PartitionStates {
			apply(ps.Topic, TopicID{}, ps)
		}
		for _, ts := range req.TopicStates {
			for _, ps := range ts.PartitionStates {
				apply(ts.Topic, TopicID(ts.TopicID), ps)
			}
		}
	})
}
