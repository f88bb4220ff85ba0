package broker

// Fetch (key 1), versions 4-12.
//
// Zero-copy: each partition's records are a region of a segment file
// (logfile.Read), written to the socket with sendfile by netpoll; the
// response framing around them is written by hand (fetchresp.go). A region
// holds whole batches, at least one for the first partition with data
// even past the byte limits (KIP-74); later partitions stop at max_bytes
// and partition_max_bytes. Consumers read up to the high watermark;
// read_committed reads up to the last stable offset (the high watermark:
// no transactions yet). Long polling: with fewer than min_bytes available
// the request waits up to max_wait_ms for an append to any partition it
// reads, woken by the append (no polling loop), or until the connection or
// the broker shuts down. Fetch sessions (KIP-227, v7+): see
// fetchsession.go. Leader epochs are checked (v9+,
// KIP-320). A Fetch below v10 whose data holds a zstd batch gets
// UNSUPPORTED_COMPRESSION_TYPE for that partition (KIP-110).

import (
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/logfile"
	"samsa/netpoll"
	"samsa/record/codec"
)

func init() { registerHot(1, 4, 12, serveFetch) }

func serveFetch(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.FetchRequest)
	b := rc.b
	var (
		sess  *fetchSession
		epoch int32 // the session epoch this fetch used
		full  = true
	)
	if rc.version >= 7 {
		now := time.Now()
		switch req.SessionEpoch {
		case -1, 0:
			if req.SessionID != 0 {
				b.sessions.remove(req.SessionID)
			}
			if req.SessionEpoch == 0 {
				sess = b.sessions.open(req, now)
			}
		default:
			if sess = b.sessions.get(req.SessionID); sess == nil {
				return encodeFetch(rc, kerr.FetchSessionIDNotFound.Code, 0, nil)
			}
			topics, e, err := sess.update(req, now)
			if err != nil {
				return encodeFetch(rc, err.Code, 0, nil)
			}
			inc := *req
			inc.Topics, req = topics, &inc
			epoch, full = e, false
		}
	}
	sessionID := int32(0)
	if sess != nil {
		sessionID = sess.id
	}
	var deadline time.Time
	if req.MaxWaitMillis > 0 {
		deadline = time.Now().Add(time.Duration(req.MaxWaitMillis) * time.Millisecond)
	}
	for {
		topics, bytes, anyErr := b.readFetch(rc, req)
		if bytes >= int64(req.MinBytes) || anyErr || req.MaxWaitMillis <= 0 || !time.Now().Before(deadline) {
			if sess != nil {
				topics = sess.respond(topics, epoch, full)
			}
			for _, t := range topics {
				if ts := b.topic(t.name); ts != nil {
					for _, p := range t.parts {
						if p.region.Len > 0 {
							ts.metricsOut(p.region.Len, p.region.NextOffset-p.offset)
						}
					}
				}
			}
			return encodeFetch(rc, 0, sessionID, topics)
		}
		releaseFetch(topics)
		if !b.waitForAppend(rc, topics, deadline) {
			// The connection or the broker is closing: answer with what there is.
			topics, _, _ := b.readFetch(rc, req)
			if sess != nil {
				topics = sess.respond(topics, epoch, full)
			}
			return encodeFetch(rc, 0, sessionID, topics)
		}
	}
}

func releaseFetch(topics []fetchTopic) {
	for _, t := range topics {
		for i := range t.parts {
			t.parts[i].region.Release()
		}
	}
}

// readFetch reads every requested partition once. It reports the record
// bytes found and whether any partition has an error (which, as in Kafka,
// ends the long poll).
func (b *Broker) readFetch(rc *reqCtx, req *kmsg.FetchRequest) (topics []fetchTopic, bytes int64, anyErr bool) {
	maxBytes := int64(req.MaxBytes)
	if maxBytes <= 0 {
		maxBytes = 1<<31 - 1
	}
	committed := req.IsolationLevel == 1
	for _, rt := range req.Topics {
		ft := fetchTopic{name: rt.Topic}
		ts := b.topic(rt.Topic)
		for _, rp := range rt.Partitions {
			fp := fetchPart{partition: rp.Partition, offset: rp.FetchOffset, hw: -1, lso: -1, logStart: -1, abortedNull: !committed}
			if ts == nil || rp.Partition < 0 || int(rp.Partition) >= len(ts.parts) {
				fp.errCode = kerr.UnknownTopicOrPartition.Code
				anyErr = true
				ft.parts = append(ft.parts, fp)
				continue
			}
			p := ts.parts[rp.Partition]
			l := p.Log
			fp.hw, fp.lso, fp.logStart = l.HighWatermark(), l.HighWatermark(), l.StartOffset()
			if e := rp.CurrentLeaderEpoch; e >= 0 && e != p.LeaderEpoch {
				fp.errCode = kerr.FencedLeaderEpoch.Code
				if e > p.LeaderEpoch {
					fp.errCode = kerr.UnknownLeaderEpoch.Code
				}
				anyErr = true
				ft.parts = append(ft.parts, fp)
				continue
			}
			budget := maxBytes - bytes
			if budget <= 0 {
				ft.parts = append(ft.parts, fp)
				continue
			}
			limit := min(int64(rp.PartitionMaxBytes), budget)
			upTo := fp.hw
			if req.ReplicaID >= 0 {
				upTo = l.EndOffset() // a follower reads to the log end
			}
			r, err := l.Read(rp.FetchOffset, limit, upTo)
			switch {
			case errors.Is(err, logfile.ErrOffsetOutOfRange):
				fp.errCode = kerr.OffsetOutOfRange.Code
				anyErr = true
			case err != nil:
				b.log.Error("fetch read", "topic", rt.Topic, "partition", rp.Partition, "offset", rp.FetchOffset, "err", err)
				fp.errCode = kerr.KafkaStorageError.Code
				anyErr = true
			case r.Len > limit && bytes > 0:
				// Only the first partition with data may pass the limits.
				r.Release()
			case rc.version < 10 && hasZstd(&r):
				// Clients before Fetch v10 cannot read zstd (KIP-110).
				r.Release()
				fp.errCode = kerr.UnsupportedCompressionType.Code
				anyErr = true
			default:
				fp.region = r
				bytes += r.Len
			}
			ft.parts = append(ft.parts, fp)
		}
		topics = append(topics, ft)
	}
	return topics, bytes, anyErr
}

// hasZstd reports whether a region holds a zstd batch.
func hasZstd(r *logfile.Region) bool {
	found := false
	r.Headers(func(h *logfile.Header) bool {
		found = h.Codec() == int(codec.Zstd)
		return !found
	})
	return found
}

// waitForAppend blocks until an append to a fetched partition (a high
// watermark past what the last read saw), the deadline, or the connection
// or broker shutting down; false for the last.
func (b *Broker) waitForAppend(rc *reqCtx, topics []fetchTopic, deadline time.Time) bool {
	w := newWaiter()
	type seen struct {
		p  *Partition
		hw int64
	}
	var parts []seen
	for _, t := range topics {
		for _, fp := range t.parts {
			if p := b.partition(t.name, fp.partition); p != nil {
				p.addWaiter(w)
				parts = append(parts, seen{p, fp.hw})
			}
		}
	}
	defer func() {
		for _, s := range parts {
			s.p.removeWaiter(w)
		}
	}()
	// An append between the read and the registration must not be missed.
	for _, s := range parts {
		if s.p.Log.HighWatermark() != s.hw {
			return true
		}
	}
	b.metrics.fetchWaiting.Inc()
	defer b.metrics.fetchWaiting.Dec()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-w.ch:
		return true
	case <-t.C:
		return true
	case <-rc.conn.Context().Done():
		return false
	}
}
