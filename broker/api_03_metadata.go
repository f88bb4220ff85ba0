package broker

// Metadata (key 3), versions 0-12.
//
// Brokers (this one, at its advertised listener), the cluster ID (v2+), the
// controller (v1+: this broker), and topics with their partitions: leader,
// leader epoch (v7+), replicas, ISR, offline replicas (v5+), topic IDs
// (v10+). A null topic list (v1+) or an empty one (v0) asks for every
// topic. Unknown topics are created when allow_auto_topic_creation (v4+;
// always for v0-v3) and auto.create.topics.enable are both set, as Kafka
// does; v12 may name topics by ID (KIP-516). Authorized operations
// (KIP-430) are reported as everything allowed when asked for.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/metadata"
	"samsa/netpoll"
)

func init() { register(3, 0, 12, serveMetadata) }

// allOperations is the KIP-430 bitfield of every topic operation (read,
// write, create, delete, alter, describe, describe configs, alter configs).
const allTopicOperations = 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<10 | 1<<11
const allClusterOperations = 1<<4 | 1<<5 | 1<<7 | 1<<8 | 1<<9 | 1<<10 | 1<<11 | 1<<12

func serveMetadata(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.MetadataRequest)
	b := rc.b
	resp := kmsg.NewPtrMetadataResponse()
	adv := b.cfg.AdvertisedListeners[0]
	br := kmsg.NewMetadataResponseBroker()
	br.NodeID, br.Host, br.Port = b.cfg.BrokerID, adv.Host, adv.Port
	resp.Brokers = []kmsg.MetadataResponseBroker{br}
	resp.ClusterID = strptr(b.meta.ClusterID())
	resp.ControllerID = b.cfg.BrokerID
	if req.IncludeClusterAuthorizedOperations {
		resp.AuthorizedOperations = allClusterOperations
	}

	all := req.Topics == nil || (rc.version == 0 && len(req.Topics) == 0)
	autoCreate := b.cfg.AutoCreateTopics && (rc.version < 4 || req.AllowAutoTopicCreation)
	if all {
		for _, name := range b.topicNames() {
			if ts := b.topic(name); ts != nil {
				resp.Topics = append(resp.Topics, metadataTopic(b, ts, req.IncludeTopicAuthorizedOperations))
			}
		}
		return rc.respond(resp)
	}
	for _, rt := range req.Topics {
		var ts *topicState
		switch {
		case rt.Topic != nil:
			ts = b.topic(*rt.Topic)
			if ts == nil && autoCreate {
				ts = b.autoCreate(*rt.Topic)
			}
		case rt.TopicID != [16]byte{}:
			if t, ok := b.meta.TopicByID(metadata.TopicID(rt.TopicID)); ok {
				ts = b.topic(t.Name)
			}
		}
		if ts != nil {
			resp.Topics = append(resp.Topics, metadataTopic(b, ts, req.IncludeTopicAuthorizedOperations))
			continue
		}
		mt := kmsg.NewMetadataResponseTopic()
		mt.Topic, mt.TopicID = rt.Topic, rt.TopicID
		mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
		if rt.Topic == nil {
			mt.ErrorCode = kerr.UnknownTopicID.Code
		} else if err := validTopicName(*rt.Topic); err != nil {
			mt.ErrorCode = kerr.InvalidTopicException.Code
		}
		resp.Topics = append(resp.Topics, mt)
	}
	return rc.respond(resp)
}

// autoCreate creates a topic for a metadata request; a concurrent creation
// of the same topic is fine.
func (b *Broker) autoCreate(name string) *topicState {
	if validTopicName(name) != nil || isInternal(name) {
		return nil
	}
	if _, err := b.createTopic(topicSpec{name: name, partitions: -1, replication: -1}, false); err != nil && codeOf(err) != kerr.TopicAlreadyExists.Code {
		b.log.Warn("auto topic creation failed", "topic", name, "err", err)
	}
	return b.topic(name)
}

func metadataTopic(b *Broker, ts *topicState, ops bool) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	mt.Topic = strptr(ts.meta.Name)
	mt.TopicID = ts.meta.ID
	mt.IsInternal = ts.meta.Internal
	if ops {
		mt.AuthorizedOperations = allTopicOperations
	}
	for i, p := range ts.parts {
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.Partition = int32(i)
		mp.Leader = b.cfg.BrokerID
		mp.LeaderEpoch = p.LeaderEpoch
		mp.Replicas = ts.meta.Replicas[i]
		mp.ISR = ts.meta.Replicas[i]
		mp.OfflineReplicas = []int32{}
		mt.Partitions = append(mt.Partitions, mp)
	}
	return mt
}
