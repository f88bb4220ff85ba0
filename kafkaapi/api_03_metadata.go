package kafkaapi

// Metadata (key 3), versions 0-12.
//
// Brokers (standalone: this one; in a cluster: the live brokers of the
// controller's last UpdateMetadata), the cluster ID (v2+), the controller
// (v1+), and topics with their partitions: leader, leader epoch (v7+),
// replicas, ISR, offline replicas (v5+), topic IDs (v10+). A null topic
// list (v1+) or an empty one (v0) asks for every topic. Unknown topics are
// created when allow_auto_topic_creation (v4+; always for v0-v3) and
// auto.create.topics.enable are both set, as Kafka does; in a cluster a
// topic just created answers LEADER_NOT_AVAILABLE until the controller's
// metadata has it, as in Kafka. v12 may name topics by ID (KIP-516).
// Authorized operations (KIP-430) are reported as everything allowed when
// asked for.

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
	h := rc.h
	snap := h.cache.Load()
	resp := kmsg.NewPtrMetadataResponse()
	for _, b := range snap.Brokers {
		br := kmsg.NewMetadataResponseBroker()
		br.NodeID, br.Host, br.Port, br.Rack = b.ID, b.Host, b.Port, b.Rack
		resp.Brokers = append(resp.Brokers, br)
	}
	resp.ClusterID = strptr(snap.ClusterID)
	resp.ControllerID = snap.ControllerID
	if req.IncludeClusterAuthorizedOperations {
		resp.AuthorizedOperations = allClusterOperations
	}

	all := req.Topics == nil || (rc.version == 0 && len(req.Topics) == 0)
	autoCreate := h.cfg.AutoCreateTopics && (rc.version < 4 || req.AllowAutoTopicCreation)
	if all {
		for _, name := range snap.TopicNames() {
			resp.Topics = append(resp.Topics, metadataTopic(snap.Topic(name), req.IncludeTopicAuthorizedOperations))
		}
		return rc.respond(resp)
	}
	for _, rt := range req.Topics {
		var t *metadata.TopicInfo
		switch {
		case rt.Topic != nil:
			t = snap.Topic(*rt.Topic)
			if t == nil && autoCreate {
				var pending bool
				if t, pending = h.autoCreate(*rt.Topic); pending {
					// Created in ZooKeeper; the controller has not made its
					// partitions yet. Kafka answers so: clients retry.
					mt := kmsg.NewMetadataResponseTopic()
					mt.Topic, mt.ErrorCode = rt.Topic, kerr.LeaderNotAvailable.Code
					mt.IsInternal = metadata.IsInternal(*rt.Topic)
					resp.Topics = append(resp.Topics, mt)
					continue
				}
			}
		case rt.TopicID != [16]byte{}:
			t = snap.TopicByID(metadata.TopicID(rt.TopicID))
		}
		if t != nil {
			resp.Topics = append(resp.Topics, metadataTopic(t, req.IncludeTopicAuthorizedOperations))
			continue
		}
		mt := kmsg.NewMetadataResponseTopic()
		mt.Topic, mt.TopicID = rt.Topic, rt.TopicID
		mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
		if rt.Topic == nil {
			mt.ErrorCode = kerr.UnknownTopicID.Code
		} else if err := metadata.ValidTopicName(*rt.Topic); err != nil {
			mt.ErrorCode = kerr.InvalidTopicException.Code
		}
		resp.Topics = append(resp.Topics, mt)
	}
	return rc.respond(resp)
}

// autoCreate creates a topic for a metadata request; a concurrent creation
// of the same topic is fine. pending: the topic exists (in a cluster, in
// ZooKeeper) but this broker's metadata does not have it yet.
func (h *Handler) autoCreate(name string) (t *metadata.TopicInfo, pending bool) {
	if metadata.ValidTopicName(name) != nil || metadata.IsInternal(name) {
		return nil, false
	}
	_, err := h.createTopic(topicSpec{name: name, partitions: -1, replication: -1}, false)
	if err != nil && codeOf(err) != kerr.TopicAlreadyExists.Code {
		h.log.Warn("auto topic creation failed", "topic", name, "err", err)
		return h.cache.Load().Topic(name), false
	}
	t = h.cache.Load().Topic(name)
	return t, t == nil
}

func metadataTopic(t *metadata.TopicInfo, ops bool) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	mt.Topic = strptr(t.Name)
	mt.TopicID = t.ID
	mt.IsInternal = t.Internal
	if ops {
		mt.AuthorizedOperations = allTopicOperations
	}
	for i, p := range t.Partitions {
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.Partition = int32(i)
		mp.Leader = p.Leader
		mp.LeaderEpoch = p.LeaderEpoch
		mp.Replicas = p.Replicas
		mp.ISR = p.ISR
		mp.OfflineReplicas = p.Offline
		if mp.OfflineReplicas == nil {
			mp.OfflineReplicas = []int32{}
		}
		if p.Leader < 0 {
			mp.ErrorCode = kerr.LeaderNotAvailable.Code
		}
		mt.Partitions = append(mt.Partitions, mp)
	}
	return mt
}
