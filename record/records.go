// Package records checks the records inside a RecordBatch v2, after the
// batch header has been validated (logfile.ValidateProduce) and its
// records decompressed if they were compressed: the record-level checks of
// Kafka's LogValidator.
package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"samsa/record/codec"

	"samsa/logfile"
)

// Record-level checks Kafka's LogValidator makes on an uncompressed batch.
var (
	// ErrFraming: the records do not frame exactly as the header says
	// (Kafka's INVALID_RECORD).
	ErrFraming = errors.New("records: record framing does not match the batch")
	// ErrTimestamp: a CreateTime timestamp outside
	// message.timestamp.difference.max.ms (INVALID_TIMESTAMP).
	ErrTimestamp = errors.New("records: record timestamp out of range")
	// ErrNoKey: a record without a key for a compacted topic, which
	// compaction could never keep (INVALID_RECORD).
	ErrNoKey = errors.New("records: a compacted topic cannot accept a record without a key")
)

// recordWalker reads the records of a batch, after its header.
type recordWalker struct {
	b   []byte
	err error
}

func (w *recordWalker) varint() int64 {
	if w.err != nil {
		return 0
	}
	v, n := binary.Varint(w.b)
	if n <= 0 {
		w.err = ErrFraming
		return 0
	}
	w.b = w.b[n:]
	return v
}

func (w *recordWalker) skip(n int64) {
	if w.err != nil {
		return
	}
	if n < 0 || n > int64(len(w.b)) {
		w.err = ErrFraming
		return
	}
	w.b = w.b[n:]
}

// bytesField skips a varint-length-prefixed field; -1 is null.
func (w *recordWalker) bytesField(nullable bool) {
	n := w.varint()
	if n == -1 && nullable {
		return
	}
	w.skip(n)
}

// Check walks the records of an uncompressed batch: every record's
// length frames it exactly, offset deltas run 0, 1, 2, ..., the count
// matches the header, and nothing trails the last record. With maxTsDiff
// >= 0 every timestamp must be within maxTsDiff ms of now (CreateTime).
// With requireKey (a compacted topic) every record must have a key.
// visit, if set, sees each record's offset delta and timestamp.
//
// records is the batch's records section, decompressed if it was compressed.
func Check(records []byte, h *logfile.Header, now, maxTsDiff int64, requireKey bool, visit func(delta int32, ts int64) bool) error {
	w := recordWalker{b: records}
	for i := int32(0); i < h.RecordCount; i++ {
		length := w.varint()
		if w.err != nil || length < 0 || length > int64(len(w.b)) {
			return fmt.Errorf("%w: record %d length", ErrFraming, i)
		}
		rec := recordWalker{b: w.b[:length]}
		w.b = w.b[length:]
		rec.skip(1) // attributes
		tsDelta := rec.varint()
		delta := rec.varint()
		keyLen := rec.varint()
		if keyLen != -1 {
			rec.skip(keyLen)
		}
		rec.bytesField(true) // value
		headers := rec.varint()
		if rec.err == nil && (headers < 0 || headers > int64(len(rec.b))) {
			rec.err = ErrFraming
		}
		for j := int64(0); j < headers && rec.err == nil; j++ {
			rec.bytesField(false) // header key
			rec.bytesField(true)  // header value
		}
		if rec.err != nil || len(rec.b) != 0 {
			return fmt.Errorf("%w: record %d", ErrFraming, i)
		}
		if delta != int64(i) {
			return fmt.Errorf("%w: record %d has offset delta %d", ErrFraming, i, delta)
		}
		if requireKey && keyLen == -1 {
			return fmt.Errorf("%w (record %d)", ErrNoKey, i)
		}
		ts := h.FirstTimestamp + tsDelta
		if maxTsDiff >= 0 && h.Attributes&logfile.AttrLogAppendTime == 0 && (ts-now > maxTsDiff || now-ts > maxTsDiff) {
			return fmt.Errorf("%w: record %d timestamp %d is more than %d ms from the broker's %d", ErrTimestamp, i, ts, maxTsDiff, now)
		}
		if visit != nil && !visit(int32(delta), ts) {
			return nil
		}
	}
	if len(w.b) != 0 {
		return fmt.Errorf("%w: %d bytes after the last record", ErrFraming, len(w.b))
	}
	return nil
}

// Inflate returns a batch's records section, decompressed into buf (reused
// when large enough) if the batch is compressed, within limit bytes.
func Inflate(batch []byte, h *logfile.Header, buf []byte, limit int) ([]byte, error) {
	recs := batch[logfile.HeaderSize:h.Size()]
	if h.Codec() == 0 {
		return recs, nil
	}
	return codec.Decompress(codec.Codec(h.Codec()), buf[:0], recs, limit)
}
