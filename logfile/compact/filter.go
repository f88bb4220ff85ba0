package compact

import (
	"crypto/md5"
	"fmt"

	"samsa/record"
)

// maxInflate bounds what one compressed batch may decompress to while it is
// cleaned: a batch past it fails the pass (codec.ErrTooLarge).
const maxInflate = 256 << 20

// batchRecords returns a batch's records region, decompressed if needed;
// ok is false for a compressed batch the options keep unread.
func batchRecords(batch []byte, h *record.Header, opts *Options) (recs []byte, ok bool, err error) {
	if h.Codec() != 0 && opts.KeepCompressed {
		return nil, false, nil
	}
	recs, err = record.Inflate(batch, h, nil, maxInflate)
	if err != nil {
		return nil, false, fmt.Errorf("compact: decompress batch at offset %d: %w", h.BaseOffset, err)
	}
	return recs, true, nil
}

// filterBatch returns the batch with the records compaction keeps, and how
// many it removed. A batch that keeps everything comes back unchanged (the
// same slice); one that keeps nothing goes, unless it is its producer's
// last batch in the range (invariant 4). With m.txns, a batch of an
// aborted transaction keeps nothing and control batches follow txn.go's
// rules; without, control batches stay whole. Unreadable compressed
// batches stay whole.
func filterBatch(batch []byte, h *record.Header, m *offsetMap, opts *Options) ([]byte, int64, error) {
	if h.IsControl() {
		if m.txns == nil {
			return batch, 0, nil
		}
		return filterControl(batch, h, m)
	}
	if m.txns != nil && m.txns.Data(h) {
		removed := int64(h.RecordCount)
		if h.ProducerID >= 0 && m.lastOfProd[h.ProducerID] == h.BaseOffset {
			b := record.Builder{Header: *h}
			nb, err := b.AppendTo(nil)
			return nb, removed, err
		}
		return nil, removed, nil
	}
	recs, ok, err := batchRecords(batch, h, opts)
	if err != nil || !ok {
		return batch, 0, err
	}
	// The rewritten batch keeps the header (offsets, producer, codec)
	// and the kept records' bytes.
	kept := record.Builder{Header: *h}
	var removed int64
	maxTs := int64(-1)
	it := record.NewIter(recs, h.RecordCount)
	for it.Next() {
		r := it.Record()
		off, ts := r.Offset(h), r.Timestamp(h)
		if off < m.end {
			keep := r.Key != nil && m.latest[md5.Sum(r.Key)] <= off
			if keep && r.Value == nil && !m.opaque && ts < m.tombstoneMax {
				keep = false
			}
			if !keep {
				removed++
				continue
			}
		}
		kept.AddEncoded(r.Raw, 1)
		maxTs = max(maxTs, ts)
	}
	if err := it.Err(); err != nil {
		return nil, 0, fmt.Errorf("compact: batch at offset %d: %w", h.BaseOffset, err)
	}
	if removed == 0 {
		return batch, 0, nil
	}
	if kept.Len() == 0 && !(h.ProducerID >= 0 && m.lastOfProd[h.ProducerID] == h.BaseOffset) {
		return nil, removed, nil
	}
	if h.Attributes&record.AttrLogAppendTime == 0 && maxTs >= 0 {
		kept.Header.MaxTimestamp = maxTs
	}
	nb, err := kept.AppendTo(nil)
	if err != nil {
		return nil, 0, fmt.Errorf("compact: recompress batch at offset %d: %w", h.BaseOffset, err)
	}
	return nb, removed, nil
}
