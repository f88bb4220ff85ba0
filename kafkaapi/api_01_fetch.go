package kafkaapi

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
// package replica/fetchsession. Leader epochs are checked (v9+,
// KIP-320). A Fetch below v10 whose data holds a zstd batch gets
// UNSUPPORTED_COMPRESSION_TYPE for that partition (KIP-110).

import (
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/replica"
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
	for {
		topics, bytes, anyErr := h.rm.ReadFetch(rc.version, req)
		if bytes >= int64(req.MinBytes) || anyErr || req.MaxWaitMillis <= 0 || !time.Now().Before(deadline) {
			topics = fc.Finish(topics)
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
			return encodeFetch(rc, 0, sessionID, fc.Finish(topics))
		case unchanged && bytes == 0:
			// Nothing the read saw has moved: it is the answer (an idle
			// follower's fetch of thousands of partitions is read once).
			return encodeFetch(rc, 0, sessionID, fc.Finish(topics))
		}
	}
}
