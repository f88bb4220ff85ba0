package replica

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/apierr"
	"samsa/logfile"
	"samsa/record"
	"samsa/record/codec"
)

// ReleaseFetch releases the regions of a fetch that is not sent.
func ReleaseFetch(topics []FetchTopic) {
	for _, t := range topics {
		for i := range t.Parts {
			t.Parts[i].Region.Release()
		}
	}
}

// ReadFetch reads every partition of a Fetch request of the given version
// once. It reports the record bytes found and whether any partition has an
// error (which, as in Kafka, ends the long poll).
func (m *Manager) ReadFetch(version int16, req *kmsg.FetchRequest) (topics []FetchTopic, bytes int64, anyErr bool) {
	maxBytes := int64(req.MaxBytes)
	if maxBytes <= 0 {
		maxBytes = 1<<31 - 1
	}
	committed := req.IsolationLevel == 1
	for _, rt := range req.Topics {
		ft := FetchTopic{Name: rt.Topic}
		ts := m.Topic(rt.Topic)
		for _, rp := range rt.Partitions {
			fp := FetchPart{Partition: rp.Partition, Offset: rp.FetchOffset, HW: -1, LSO: -1, LogStart: -1, AbortedNull: !committed, Diverging: Diverging{-1, -1}}
			p, err := m.hosted(ts, rt.Topic, rp.Partition)
			if err == nil {
				l := p.Log
				// The last stable offset first: read after the high
				// watermark it could pass it.
				fp.LSO = l.LastStableOffset()
				fp.HW, fp.LogStart = l.HighWatermark(), l.StartOffset()
				fp.LSO = min(fp.LSO, fp.HW)
				err = p.CheckLeader(rp.CurrentLeaderEpoch)
			}
			if err != nil {
				fp.ErrCode = apierr.Code(err)
				anyErr = true
				ft.Parts = append(ft.Parts, fp)
				continue
			}
			l := p.Log
			follower := req.ReplicaID >= 0 && req.ReplicaID != m.id && p.isReplica(req.ReplicaID)
			fp.follower, fp.committed = follower, committed && !follower
			if follower {
				fp.seenEnd = l.EndOffset()
				if version >= 12 && rp.LastFetchedEpoch >= 0 {
					// KIP-595: the follower's last epoch must end where
					// ours does, at or past its fetch offset; if not, it
					// truncates to what we answer and fetches again.
					if e, end := l.EpochEndOffset(rp.LastFetchedEpoch); e < rp.LastFetchedEpoch || end < rp.FetchOffset {
						fp.Diverging = Diverging{Epoch: e, EndOffset: end}
						anyErr = true // answer at once
						ft.Parts = append(ft.Parts, fp)
						continue
					}
				}
				if rp.FetchOffset >= l.StartOffset() && rp.FetchOffset <= l.EndOffset() {
					// As Kafka, only a fetch the log can serve tells the
					// follower's log end: one past ours (a diverged
					// follower) must not move the high watermark.
					m.followerFetched(p, req.ReplicaID, rp.FetchOffset)
				}
			}
			budget := maxBytes - bytes
			if budget <= 0 {
				ft.Parts = append(ft.Parts, fp)
				continue
			}
			limit := min(int64(rp.PartitionMaxBytes), budget)
			upTo := fp.HW
			switch {
			case follower:
				upTo = l.EndOffset() // a follower reads to the log end
			case committed:
				upTo = fp.LSO // read_committed stops at the last stable offset
			}
			r, err := l.Read(rp.FetchOffset, limit, upTo)
			switch {
			case errors.Is(err, logfile.ErrOffsetOutOfRange):
				fp.ErrCode = kerr.OffsetOutOfRange.Code
				anyErr = true
			case err != nil:
				m.log.Error("fetch read", "topic", rt.Topic, "partition", rp.Partition, "offset", rp.FetchOffset, "err", err)
				fp.ErrCode = kerr.KafkaStorageError.Code
				anyErr = true
			case r.Len > limit && bytes > 0:
				// Only the first partition with data may pass the limits.
				r.Release()
			case version < 10 && hasZstd(&r):
				// Clients before Fetch v10 cannot read zstd (KIP-110).
				r.Release()
				fp.ErrCode = kerr.UnsupportedCompressionType.Code
				anyErr = true
			default:
				fp.Region = r
				bytes += r.Len
				if committed && !follower && r.Len > 0 {
					// The aborted transactions with records in what is
					// sent, from the transaction index (memory only).
					fp.Aborted = l.AbortedTxns(rp.FetchOffset, r.NextOffset)
				}
			}
			ft.Parts = append(ft.Parts, fp)
		}
		topics = append(topics, ft)
	}
	return topics, bytes, anyErr
}

// hasZstd reports whether a region holds a zstd batch.
func hasZstd(r *logfile.Region) bool {
	found := false
	r.Headers(func(h *record.Header) bool {
		found = h.Codec() == int(codec.Zstd)
		return !found
	})
	return found
}

// WaitForAppend parks a fetch until an append to a partition it read (a
// high watermark past what the last read saw), the deadline, or ctx ends
// (the connection or the broker closing); false for the last.
func (m *Manager) WaitForAppend(ctx context.Context, topics []FetchTopic, deadline time.Time) bool {
	var parts []*Partition
	var seen []int64
	var kinds []waitFor
	for _, t := range topics {
		for _, fp := range t.Parts {
			if p := m.Partition(t.Name, fp.Partition); p != nil {
				parts = append(parts, p)
				switch {
				case fp.follower:
					seen, kinds = append(seen, fp.seenEnd), append(kinds, waitEnd)
				case fp.committed:
					seen, kinds = append(seen, fp.LSO), append(kinds, waitLSO)
				default:
					seen, kinds = append(seen, fp.HW), append(kinds, waitHW)
				}
			}
		}
	}
	return m.Purgatory.Wait(ctx, parts, func() bool {
		for i, p := range parts {
			// A consumer waits for the high watermark (read_committed:
			// the last stable offset), a follower for the log end.
			var now int64
			switch kinds[i] {
			case waitEnd:
				now = p.Log.EndOffset()
			case waitLSO:
				now = p.Log.LastStableOffset()
			default:
				now = p.Log.HighWatermark()
			}
			// Every partition parked on was led when read: leadership
			// lost since is answered now, not at max wait.
			if now != seen[i] || !p.IsLeader() {
				return true
			}
		}
		return false
	}, deadline)
}

// waitFor is the offset a parked fetch waits to move.
type waitFor int8

const (
	waitHW  waitFor = iota // a consumer's: the high watermark
	waitLSO                // a read_committed consumer's: the last stable offset
	waitEnd                // a follower's: the log end
)

// FetchPart is one partition's part of a fetch response.
type FetchPart struct {
	Partition int32
	Offset    int64 // the fetch offset asked for
	ErrCode   int16
	HW        int64
	LSO       int64
	LogStart  int64
	Region    logfile.Region // Len 0: no records
	// AbortedNull: write a null aborted-transactions array (read_uncommitted).
	AbortedNull bool
	// Aborted are the aborted transactions with records in Region
	// (read_committed): the client drops their records.
	Aborted []logfile.AbortedTxn
	// Diverging, when Epoch >= 0, tells a follower where its log stopped
	// agreeing with ours (Fetch v12+, KIP-595).
	Diverging Diverging

	follower  bool  // the fetch is from a follower replica
	committed bool  // a read_committed consumer's
	seenEnd   int64 // a follower's: the log end when read
}

// Diverging is Fetch's diverging_epoch: the largest epoch at or below the
// follower's last fetched one, and where it ends in the leader's log.
type Diverging struct {
	Epoch     int32
	EndOffset int64
}

// FetchTopic is one topic's part of a fetch response.
type FetchTopic struct {
	Name  string
	Parts []FetchPart
}
