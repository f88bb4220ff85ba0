package kafkaapi

// WriteTxnMarkers (key 27), versions 0-1: from transaction coordinators
// only (inter-broker).
//
// For each marker (producer id and epoch, COMMIT or ABORT, the
// coordinator's epoch) and each partition it names, the leader appends a
// control batch that ends the producer's transaction there (KIP-98;
// replica.Manager.WriteTxnMarker): NOT_LEADER_OR_FOLLOWER or
// UNKNOWN_TOPIC_OR_PARTITION where this broker does not lead it,
// NOT_ENOUGH_REPLICAS below min.insync.replicas, INVALID_PRODUCER_EPOCH
// for an epoch older than the producer's, TRANSACTION_COORDINATOR_FENCED
// for a coordinator epoch older than the last marker's (a zombie
// coordinator). Markers are written with acks=all: in cluster mode the
// answer waits until the high watermark passes them (at most Kafka's
// request.timeout.ms, 30 s: REQUEST_TIMED_OUT), as Kafka's
// appendRecords(requiredAcks = -1) does. A marker written to a partition
// of __consumer_offsets then completes the producer's pending offsets in
// the group coordinator (committed or dropped, KIP-447).
//
// Authorization: in cluster mode the sender needs Alter, or else
// ClusterAction, on the cluster (CLUSTER_AUTHORIZATION_FAILED for every
// partition), as Kafka checks it; a standalone broker has no other
// broker, so it refuses the request from the network the same way, and
// its own transaction coordinator writes its markers in process through
// Handler.WriteTxnMarkers.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/replica"
	"samsa/security/acl"
)

func init() { register(27, 0, 1, serveWriteTxnMarkers) }

// markerTimeout bounds the wait for the in-sync replicas (Kafka:
// request.timeout.ms, 30 s by default).
const markerTimeout = 30 * time.Second

func serveWriteTxnMarkers(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.WriteTxnMarkersRequest)
	if rc.h.cluster == nil {
		rc.h.log.Warn("refusing WriteTxnMarkers from the network: a standalone broker's coordinator writes its markers in process", "client", rc.clientID, "remote", rc.conn.RemoteAddr())
		return rc.respond(writeTxnMarkersAll(req, kerr.ClusterAuthorizationFailed.Code))
	}
	// Kafka: Alter on the cluster, else ClusterAction on it.
	if !rc.authorizeAction(acl.Action{Operation: acl.OpAlter, Type: acl.ResourceCluster, Name: acl.ClusterName, QuietDenied: true}) &&
		!rc.authorizeCluster(acl.OpClusterAction) {
		return rc.respond(writeTxnMarkersAll(req, kerr.ClusterAuthorizationFailed.Code))
	}
	return rc.respond(rc.h.WriteTxnMarkers(rc.conn.Context(), req))
}

// writeTxnMarkersAll answers every partition of req with code.
func writeTxnMarkersAll(req *kmsg.WriteTxnMarkersRequest, code int16) *kmsg.WriteTxnMarkersResponse {
	resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	for _, mk := range req.Markers {
		rm := kmsg.NewWriteTxnMarkersResponseMarker()
		rm.ProducerID = mk.ProducerID
		for _, t := range mk.Topics {
			rt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
				rp.Partition, rp.ErrorCode = p, code
				rt.Partitions = append(rt.Partitions, rp)
			}
			rm.Topics = append(rm.Topics, rt)
		}
		resp.Markers = append(resp.Markers, rm)
	}
	return resp
}

// WriteTxnMarkers writes the markers of req to the partitions this broker
// leads and answers per partition (see the file comment). It is the
// handler's work without its authorization: the entry point of this
// broker's own transaction coordinator, which writes its markers in
// process. ctx ends the wait for the in-sync replicas early (the
// partitions still waiting answer NOT_LEADER_OR_FOLLOWER, which a
// coordinator retries).
func (h *Handler) WriteTxnMarkers(ctx context.Context, req *kmsg.WriteTxnMarkersRequest) *kmsg.WriteTxnMarkersResponse {
	resp := writeTxnMarkersAll(req, 0)
	type at struct{ m, t, p int }
	var awaits []replica.Await
	var awaitAt []at
	for mi, mk := range req.Markers {
		for ti, t := range mk.Topics {
			for pi, part := range t.Partitions {
				rp := &resp.Markers[mi].Topics[ti].Partitions[pi]
				ts, p, err := h.rm.Lookup(t.Topic, part)
				if err == nil {
					var off int64
					off, err = h.rm.WriteTxnMarker(p, replica.Marker{
						ProducerID: mk.ProducerID, ProducerEpoch: mk.ProducerEpoch, CoordinatorEpoch: mk.CoordinatorEpoch,
						Commit: mk.Committed, MinISR: int(ts.Config.MinInSyncReplicas),
					})
					if err == nil && h.rm.Replicated() {
						awaits = append(awaits, replica.Await{P: p, Offset: off, MinISR: int(ts.Config.MinInSyncReplicas)})
						awaitAt = append(awaitAt, at{mi, ti, pi})
					}
				}
				if err != nil {
					h.log.Debug("transaction marker not written", "topic", t.Topic, "partition", part, "producer", mk.ProducerID, "err", err)
				}
				rp.ErrorCode = codeOf(err)
			}
		}
	}
	if len(awaits) > 0 {
		h.rm.AwaitReplication(ctx, awaits, time.Now().Add(markerTimeout))
		for i, w := range awaits {
			if w.Err != nil {
				a := awaitAt[i]
				resp.Markers[a.m].Topics[a.t].Partitions[a.p].ErrorCode = codeOf(w.Err)
			}
		}
	}
	if h.groups != nil {
		for mi, mk := range req.Markers {
			var parts []int32
			for ti, t := range mk.Topics {
				if t.Topic != offsetsTopic {
					continue
				}
				for pi, part := range t.Partitions {
					if resp.Markers[mi].Topics[ti].Partitions[pi].ErrorCode == 0 {
						parts = append(parts, part)
					}
				}
			}
			if len(parts) > 0 {
				// Kafka's onTransactionCompleted: the offsets the
				// transaction committed become visible, or go.
				h.groups.CompleteTxn(mk.ProducerID, parts, mk.Committed)
			}
		}
	}
	return resp
}
