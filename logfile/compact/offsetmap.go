package compact

import (
	"crypto/md5"
	"fmt"

	"samsa/record"
	"samsa/txnindex"
)

type keyHash [md5.Size]byte

// offsetMap is the latest offset of every key in the cleanable range, and
// what else the filter pass needs to know about the range.
type offsetMap struct {
	latest       map[keyHash]int64
	lastOfProd   map[int64]int64 // producer id -> base offset of its last batch
	opaque       bool            // a compressed batch could not be read
	tombstoneMax int64           // tombstones with a timestamp below go
	// txns follows the transactions of the filter pass (txn.go); nil:
	// none are followed. nowMs and deleteRetentionMs set markers' delete
	// horizons.
	txns              *txnindex.Cleaned
	nowMs             int64
	deleteRetentionMs int64
	// end: the map holds the keys of [FirstDirty, end); records at or
	// past end are kept as they are, whatever their key (invariant 2).
	end int64
}

func newOffsetMap(nowMs, deleteRetentionMs, end int64) *offsetMap {
	return &offsetMap{latest: map[keyHash]int64{}, lastOfProd: map[int64]int64{}, tombstoneMax: nowMs - deleteRetentionMs, end: end,
		nowMs: nowMs, deleteRetentionMs: deleteRetentionMs}
}

// build reads the segments in order: every producer's last batch, and the
// latest offset of each key from firstDirty on, until the map holds
// opts.MaxKeys keys (then end moves down to the first record left out).
// The records of aborted transactions are not read: they supersede
// nothing.
func (m *offsetMap) build(l Log, segs []span, firstDirty int64, opts *Options) error {
	full := false
	txns := txnindex.NewCleaned()
	for _, s := range segs {
		txns.Add(l.AbortedTxns(s.Base(), s.end))
		if err := s.Batches(func(h *record.Header, batch []byte) error {
			if h.ProducerID >= 0 {
				m.lastOfProd[h.ProducerID] = h.BaseOffset
			}
			if h.IsControl() {
				txns.Control(h, batch)
				return nil
			}
			if txns.Data(h) {
				return nil // aborted: its keys supersede nothing
			}
			if full || h.LastOffset() < firstDirty {
				return nil
			}
			recs, ok, err := batchRecords(batch, h, opts)
			if err != nil {
				return err
			}
			if !ok {
				m.opaque = true
				return nil
			}
			it := record.NewIter(recs, h.RecordCount)
			for it.Next() {
				r := it.Record()
				off := r.Offset(h)
				if full || r.Key == nil || off < firstDirty {
					continue
				}
				k := md5.Sum(r.Key)
				if _, seen := m.latest[k]; !seen && opts.MaxKeys > 0 && len(m.latest) >= opts.MaxKeys {
					full, m.end = true, off
					continue
				}
				m.latest[k] = off
			}
			if err := it.Err(); err != nil {
				return fmt.Errorf("compact: batch at offset %d: %w", h.BaseOffset, err)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}
