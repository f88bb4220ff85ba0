package kafkaapi

// Fetch (key 1), versions 4-12.
//
// Zero-copy: each partition's records are a region of a segment file
// (logfile.Read), written to the socket with sendfile by netpoll; the
// response framing around them is written by hand (fetchresp.go). A region
// holds whole batches, at least one for the first partition with data
// even past the byte limits (KIP-74); later partitions stop at max_bytes
// and partition_max_bytes. Consumers read up to the high watermark;
// read_committed (isolation_level 1, KIP-98) reads up to the last stable
// offset (below every undecided transaction) and gets the aborted
// transactions (producer id, first offset) of what it reads, from the
// transaction index, while the records still go out with sendfile;
// read_uncommitted gets a null list. Every response carries the last
// stable offset. Long polling: with fewer than min_bytes available the
// request waits up to max_wait_ms for an append to any partition it reads
// (for read_committed, a move of the last stable offset), woken by the
// change (no polling loop), or until the connection or the broker shuts
// down. Fetch sessions (KIP-227, v7+): see
// package replica/fetchsession. Leader epochs are checked (v9+,
// KIP-320). A Fetch below v10 whose data holds a zstd batch gets
// UNSUPPORTED_COMPRESSION_TYPE for that partition (KIP-110).
// Authorization, as KafkaApis: a follower (replica_id >= 0) needs
// ClusterAction on the cluster, a consumer Read on each topic; a partition
// refused is TOPIC_AUTHORIZATION_FAILED (all of a follower's), is not read
// and does not end a long poll. A session's partitions are checked at
// every fetch.

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/replica"
	"samsa/security/acl"
)

func init() { registerHot(1, 4, 12, serveFetch) }

func serveFetch(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.FetchRequest)
	h := rc.h
	fc, req, code := h.rm.BeginFetch(rc.version, req, time.Now())
	if code != 0 {
		return encodeFetch(rc, code, 0, nil)
	}
	sessionID := fc.SessionID()
	var deadline time.Time
	if req.MaxWaitMillis > 0 {
		deadline = time.Now().Add(h.cfg.FetchWait(req.MaxWaitMillis))
	}
	all, denied := req, fetchDenied(rc, req)
	if denied != nil {
		req = withoutTopics(req, denied)
	}
	for {
		topics, bytes, anyErr := h.rm.ReadFetch(rc.version, req)
		if bytes >= int64(req.MinBytes) || anyErr || req.MaxWaitMillis <= 0 || !time.Now().Before(deadline) || (denied != nil && len(req.Topics) == 0) {
			topics = fc.Finish(withDenied(all, topics, denied))
			for _, t := range topics {
				if ts := h.rm.Topic(t.Name); ts != nil {
					for _, p := range t.Parts {
						if p.Region.Len > 0 {
							ts.C.Out(p.Region.Len, p.Region.NextOffset-p.Offset)
						}
					}
				}
			}
			return encodeFetch(rc, 0, sessionID, topics)
		}
		replica.ReleaseFetch(topics) // with no bytes read it holds no region, and stays usable
		ok, unchanged := h.rm.ParkFetch(rc.conn.Context(), topics, deadline)
		switch {
		case !ok:
			// The connection or the broker is closing: answer with what there is.
			topics, _, _ := h.rm.ReadFetch(rc.version, req)
			return encodeFetch(rc, 0, sessionID, fc.Finish(withDenied(all, topics, denied)))
		case unchanged && bytes == 0:
			// Nothing the read saw has moved: it is the answer (an idle
			// follower's fetch of thousands of partitions is read once).
			return encodeFetch(rc, 0, sessionID, fc.Finish(withDenied(all, topics, denied)))
		}
	}
}

// fetchDenied returns the topics of a fetch its sender may not read, nil
// for none.
func fetchDenied(rc *reqCtx, req *kmsg.FetchRequest) map[string]bool {
	if rc.h.authz == nil {
		return nil
	}
	var ok allowed
	if req.ReplicaID >= 0 {
		if rc.authorizeCluster(acl.OpClusterAction) {
			return nil
		}
		ok = allowed{}
	} else {
		ok = rc.filterAuthorized(acl.OpRead, acl.ResourceTopic, TopicNames(req.Topics, func(t *kmsg.FetchRequestTopic) string { return t.Topic }), false)
	}
	var denied map[string]bool
	for _, t := range req.Topics {
		if !ok.has(t.Topic) {
			if denied == nil {
				denied = map[string]bool{}
			}
			denied[t.Topic] = true
		}
	}
	return denied
}

// withoutTopics is req without the denied topics.
func withoutTopics(req *kmsg.FetchRequest, denied map[string]bool) *kmsg.FetchRequest {
	out := *req
	out.Topics = nil
	for _, t := range req.Topics {
		if !denied[t.Topic] {
			out.Topics = append(out.Topics, t)
		}
	}
	return &out
}

// withDenied puts the denied topics' partitions, refused, among those read,
// in the request's order (a session's answer follows its partitions').
func withDenied(req *kmsg.FetchRequest, read []replica.FetchTopic, denied map[string]bool) []replica.FetchTopic {
	if denied == nil {
		return read
	}
	out := make([]replica.FetchTopic, 0, len(req.Topics))
	for _, t := range req.Topics {
		if !denied[t.Topic] {
			out = append(out, read[0])
			read = read[1:]
			continue
		}
		ft := replica.FetchTopic{Name: t.Topic}
		for _, p := range t.Partitions {
			ft.Parts = append(ft.Parts, replica.FetchPart{Partition: p.Partition, Offset: p.FetchOffset, ErrCode: kerr.TopicAuthorizationFailed.Code,
				HW: -1, LSO: -1, LogStart: -1, AbortedNull: true, Diverging: replica.Diverging{Epoch: -1, EndOffset: -1}})
		}
		out = append(out, ft)
	}
	return out
}
