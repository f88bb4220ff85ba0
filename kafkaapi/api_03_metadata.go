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
// v12 may name topics by ID (KIP-516). Authorization, as KafkaApis: a
// topic needs Describe (all topics: those without are left out; named: they
// are TOPIC_AUTHORIZATION_FAILED, existing or not), auto-creation Create on
// the cluster or on the topic (TOPIC_AUTHORIZATION_FAILED); the KIP-430
// authorized operations, when asked, are computed from the ACLs, the
// cluster's only for a principal with Describe on it (else 0).

import (
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/admin"
	"samsa/metadata"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { register(3, 0, 12, serveMetadata) }

func serveMetadata(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.MetadataRequest)
	h := rc.h
	snap := h.cache.Load()
	resp := kmsg.NewPtrMetadataResponse()
	for _, b := range snap.BrokersOn(rc.conn.Listener()) {
		br := kmsg.NewMetadataResponseBroker()
		br.NodeID, br.Host, br.Port, br.Rack = b.ID, b.Host, b.Port, b.Rack
		resp.Brokers = append(resp.Brokers, br)
	}
	resp.ClusterID = strptr(snap.ClusterID)
	resp.ControllerID = snap.ControllerID
	if req.IncludeClusterAuthorizedOperations {
		resp.AuthorizedOperations = 0
		if rc.authorizeCluster(acl.OpDescribe) {
			resp.AuthorizedOperations = rc.authorizedOperations(acl.ResourceCluster, acl.ClusterName)
		}
	}
	ops := func(name string) int32 {
		if !req.IncludeTopicAuthorizedOperations {
			return math.MinInt32 // the schema's default: not asked
		}
		return rc.authorizedOperations(acl.ResourceTopic, name)
	}

	all := req.Topics == nil || (rc.version == 0 && len(req.Topics) == 0)
	autoCreate := h.cfg.AutoCreateTopics && (rc.version < 4 || req.AllowAutoTopicCreation)
	if all {
		// Topics the principal may not describe are left out, quietly.
		names := snap.TopicNames()
		describable := rc.filterAuthorized(acl.OpDescribe, acl.ResourceTopic, names, true)
		for _, name := range names {
			if describable.has(name) {
				resp.Topics = append(resp.Topics, metadataTopic(rc, snap, snap.Topic(name), ops(name)))
			}
		}
		return rc.respond(resp)
	}
	var describable, creatable allowed
	if h.authz != nil {
		var names, missing []string
		for _, rt := range req.Topics {
			if rt.Topic != nil {
				names = append(names, *rt.Topic)
			} else if t := snap.TopicByID(metadata.TopicID(rt.TopicID)); t != nil {
				names = append(names, t.Name)
			}
		}
		describable = rc.filterAuthorized(acl.OpDescribe, acl.ResourceTopic, names, false)
		for _, rt := range req.Topics {
			if rt.Topic != nil && describable.has(*rt.Topic) && snap.Topic(*rt.Topic) == nil {
				missing = append(missing, *rt.Topic)
			}
		}
		// Auto-creation needs Create on the cluster or on the topic.
		if autoCreate && len(missing) > 0 && !rc.authorizeAction(acl.Action{Operation: acl.OpCreate, Type: acl.ResourceCluster, Name: acl.ClusterName, QuietDenied: true}) {
			creatable = rc.filterAuthorized(acl.OpCreate, acl.ResourceTopic, missing, false)
		}
	}
	for _, rt := range req.Topics {
		var t *metadata.TopicInfo
		switch {
		case rt.Topic != nil:
			if !describable.has(*rt.Topic) {
				// Whether it exists is not disclosed; no topic ID either.
				resp.Topics = append(resp.Topics, refusedTopic(rt.Topic, [16]byte{}, false))
				continue
			}
			t = snap.Topic(*rt.Topic)
			if t == nil && autoCreate {
				if !creatable.has(*rt.Topic) {
					resp.Topics = append(resp.Topics, refusedTopic(rt.Topic, [16]byte{}, metadata.IsInternal(*rt.Topic)))
					continue
				}
				mt := h.autoCreate(*rt.Topic)
				mt.AuthorizedOperations = ops(*rt.Topic)
				resp.Topics = append(resp.Topics, mt)
				continue
			}
		case rt.TopicID != [16]byte{}:
			t = snap.TopicByID(metadata.TopicID(rt.TopicID))
			if t != nil && !describable.has(t.Name) {
				// Topic IDs are not secret: the ID comes back, the name not.
				resp.Topics = append(resp.Topics, refusedTopic(nil, rt.TopicID, false))
				continue
			}
		}
		if t != nil {
			resp.Topics = append(resp.Topics, metadataTopic(rc, snap, t, ops(t.Name)))
			continue
		}
		mt := kmsg.NewMetadataResponseTopic()
		mt.Topic, mt.TopicID = rt.Topic, rt.TopicID
		mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
		if rt.Topic == nil {
			mt.ErrorCode = kerr.UnknownTopicID.Code
		} else {
			if err := metadata.ValidTopicName(*rt.Topic); err != nil {
				mt.ErrorCode = kerr.InvalidTopicException.Code
			}
			mt.AuthorizedOperations = ops(*rt.Topic)
		}
		resp.Topics = append(resp.Topics, mt)
	}
	return rc.respond(resp)
}

// refusedTopic is Kafka's answer for a topic the principal may not
// describe (or create): TOPIC_AUTHORIZATION_FAILED, no partitions.
func refusedTopic(name *string, id [16]byte, internal bool) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	mt.Topic, mt.TopicID, mt.IsInternal = name, id, internal
	mt.ErrorCode = kerr.TopicAuthorizationFailed.Code
	return mt
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

// metadataTopic is a topic's answer on the client's listener, with its
// KIP-430 authorized operations (math.MinInt32: not asked).
func metadataTopic(rc *reqCtx, snap *metadata.Snapshot, t *metadata.TopicInfo, ops int32) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	mt.Topic = strptr(t.Name)
	mt.TopicID = t.ID
	mt.IsInternal = t.Internal
	mt.AuthorizedOperations = ops
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
