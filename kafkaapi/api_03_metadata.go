package kafkaapi

// Metadata (key 3), versions 0-12.
//
// Brokers at their endpoints on the listener the request came in on (a
// broker without that listener is left out, as Kafka does; a partition
// led by one is LISTENER_NOT_FOUND from v6, LEADER_NOT_AVAILABLE before),
// the cluster ID (v2+), the
// controller (v1+: this broker), and topics with their partitions: leader,
// leader epoch (v7+), replicas, ISR, offline replicas (v5+), topic IDs
// (v10+). A null topic list (v1+) or an empty one (v0) asks for every
// topic. Unknown topics are created when allow_auto_topic_creation (v4+;
// always for v0-v3) and auto.create.topics.enable are both set, as Kafka
// does, and answered as Kafka answers them: LEADER_NOT_AVAILABLE with no
// partitions (creation is asynchronous there; clients retry and see the
// topic in their next request), or the error that refused the creation.
// v12 may name topics by ID (KIP-516). Authorized operations
// (KIP-430) are reported as everything allowed when asked for.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/admin"
	"samsa/metadata"
	"samsa/netpoll"
)

func init() { register(3, 0, 12, serveMetadata) }

// allTopicOperations and allClusterOperations are the KIP-430 bitfields of
// every operation Kafka defines on a topic (read, write, create, delete,
// alter, describe, describe configs, alter configs) and on the cluster
// (create, alter, describe, cluster action, describe configs, alter
// configs, idempotent write), by AclOperation code.
const allTopicOperations = 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<10 | 1<<11
const allClusterOperations = 1<<5 | 1<<7 | 1<<8 | 1<<9 | 1<<10 | 1<<11 | 1<<12

func serveMetadata(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.MetadataRequest)
	h := rc.h
	snap := h.cache.Load()
	resp := kmsg.NewPtrMetadataResponse()
	listener := rc.conn.Listener()
	for _, b := range snap.BrokersOn(listener) {
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
			resp.Topics = append(resp.Topics, metadataTopic(rc, snap, snap.Topic(name), req.IncludeTopicAuthorizedOperations))
		}
		return rc.respond(resp)
	}
	for _, rt := range req.Topics {
		var t *metadata.TopicInfo
		switch {
		case rt.Topic != nil:
			t = snap.Topic(*rt.Topic)
			if t == nil && autoCreate {
				resp.Topics = append(resp.Topics, h.autoCreate(*rt.Topic))
				continue
			}
		case rt.TopicID != [16]byte{}:
			t = snap.TopicByID(metadata.TopicID(rt.TopicID))
		}
		if t != nil {
			resp.Topics = append(resp.Topics, metadataTopic(rc, snap, t, req.IncludeTopicAuthorizedOperations))
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

// autoCreate creates a topic for a metadata request and answers for it as
// Kafka does (KafkaApis.getTopicMetadata): LEADER_NOT_AVAILABLE with no
// partitions once it is created, also when a concurrent request created it
// first; otherwise the error that refused it. Internal topics are not
// created here (their coordinators create them).
func (h *Handler) autoCreate(name string) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	mt.Topic = &name
	mt.ErrorCode = kerr.LeaderNotAvailable.Code
	switch {
	case metadata.ValidTopicName(name) != nil:
		mt.ErrorCode = kerr.InvalidTopicException.Code
		return mt
	case metadata.IsInternal(name):
		mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return mt
	}
	if _, err := h.admin.CreateTopic(admin.TopicSpec{Name: name, Partitions: -1, Replication: -1}, false); err != nil && codeOf(err) != kerr.TopicAlreadyExists.Code {
		h.log.Warn("auto topic creation failed", "topic", name, "err", err)
		mt.ErrorCode = codeOf(err)
	}
	return mt
}

func metadataTopic(rc *reqCtx, snap *metadata.Snapshot, t *metadata.TopicInfo, ops bool) kmsg.MetadataResponseTopic {
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
		} else if _, ok := snap.BrokerOn(p.Leader, rc.conn.Listener()); !ok && snap.Alive(p.Leader) {
			// The leader has no endpoint on the client's listener.
			mp.Leader, mp.ErrorCode = -1, kerr.LeaderNotAvailable.Code
			if rc.version >= 6 {
				mp.ErrorCode = kerr.ListenerNotFound.Code
			}
		}
		mt.Partitions = append(mt.Partitions, mp)
	}
	return mt
}
