package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
)

// ErrNotOneBatch: a record set that must hold exactly one batch (Produce
// v3+) holds more (Kafka's INVALID_RECORD).
var ErrNotOneBatch = errors.New("record: more than one record batch")

// Batches is a run of whole batches with each batch's header parsed once:
// the produce path parses a batch's header when it validates the request
// and every later step (record checks, epoch stamping, offsets, indexing)
// reads the parsed header. The setters below change the bytes and the
// parsed header together, so the two never disagree.
//
// A Batches is used through a pointer once filled; copying one copies the
// first header but shares the others.
type Batches struct {
	Buf     []byte
	Count   int   // number of batches
	Records int64 // sum of lastOffsetDelta+1: offsets the run takes
	// MaxTimestamp is the largest maxTimestamp among the batches.
	MaxTimestamp int64

	// first is batch 0's header, rest those of batches 1..Count-1: a
	// single-batch run (every Produce v3+) costs no allocation.
	first Header
	rest  []Header
}

// Header is batch i's parsed header, 0 <= i < Count.
func (bs *Batches) Header(i int) *Header {
	if i == 0 {
		return &bs.first
	}
	return &bs.rest[i-1]
}

// All yields each batch's parsed header and bytes, in order.
func (bs *Batches) All() iter.Seq2[*Header, []byte] {
	return func(yield func(*Header, []byte) bool) {
		pos := 0
		for i := range bs.Count {
			h := bs.Header(i)
			end := pos + int(h.Size())
			if !yield(h, bs.Buf[pos:end]) {
				return
			}
			pos = end
		}
	}
}

// add appends a batch's header to the run (its bytes are already in Buf).
func (bs *Batches) add(h *Header) {
	if bs.Count == 0 {
		bs.first = *h
	} else {
		bs.rest = append(bs.rest, *h)
	}
	bs.Count++
	bs.Records += int64(h.LastOffsetDelta) + 1
	bs.MaxTimestamp = max(bs.MaxTimestamp, h.MaxTimestamp)
}

// reset empties bs for buf, keeping the capacity of its headers.
func (bs *Batches) reset(buf []byte) {
	*bs = Batches{Buf: buf, MaxTimestamp: -1, rest: bs.rest[:0]}
}

// SetLeaderEpoch stamps every batch with the partition leader epoch.
func (bs *Batches) SetLeaderEpoch(epoch int32) {
	pos := 0
	for i := range bs.Count {
		h := bs.Header(i)
		SetLeaderEpoch(bs.Buf[pos:], epoch)
		h.LeaderEpoch = epoch
		pos += int(h.Size())
	}
}

// AssignOffsets stamps consecutive base offsets from first and returns the
// offset after the last batch.
func (bs *Batches) AssignOffsets(first int64) (next int64) {
	next = first
	pos := 0
	for i := range bs.Count {
		h := bs.Header(i)
		SetBaseOffset(bs.Buf[pos:], next)
		h.BaseOffset = next
		next = h.NextOffset()
		pos += int(h.Size())
	}
	return next
}

// SetLogAppendTime gives batch i the broker's time ts, as SetLogAppendTime
// does to its bytes.
func (bs *Batches) SetLogAppendTime(i int, batch []byte, ts int64) {
	SetLogAppendTime(batch, ts)
	h := bs.Header(i)
	h.Attributes |= AttrLogAppendTime
	h.FirstTimestamp, h.MaxTimestamp = ts, ts
	h.CRC = binary.BigEndian.Uint32(batch[offCRC:])
	bs.MaxTimestamp = ts
	for j := range bs.Count {
		bs.MaxTimestamp = max(bs.MaxTimestamp, bs.Header(j).MaxTimestamp)
	}
}

// Replace makes batch i's header h, after its bytes were rebuilt (a
// recompression): the caller has replaced Buf with bytes in which batch i
// has h's size.
func (bs *Batches) Replace(i int, h Header) { *bs.Header(i) = h }

// ValidateProduce checks a producer's record set before it is appended: whole
// batches only, each with magic 2, a matching CRC, recordCount equal to
// lastOffsetDelta+1 (offsets contiguous from 0 as producers write them), and
// no batch over maxBatchBytes; with oneBatch, exactly one batch
// (ErrNotOneBatch, found before the first batch's CRC is computed). The
// records inside are Check's.
func ValidateProduce(buf []byte, maxBatchBytes int64, oneBatch bool) (Batches, error) {
	var bs Batches
	bs.reset(buf)
	if len(buf) == 0 {
		return bs, fmt.Errorf("%w: empty record set", ErrCorrupt)
	}
	for pos := 0; pos < len(buf); {
		h, err := ParseHeader(buf[pos:])
		if err != nil {
			return bs, fmt.Errorf("batch %d at byte %d: %w", bs.Count, pos, err)
		}
		if oneBatch && h.Size() < int64(len(buf)) {
			return bs, fmt.Errorf("%w: the first batch is %d of %d bytes", ErrNotOneBatch, h.Size(), len(buf))
		}
		if h.Size() > int64(len(buf)-pos) {
			return bs, fmt.Errorf("batch %d at byte %d: %w: length %d, %d bytes left", bs.Count, pos, ErrTornTail, h.Size(), len(buf)-pos)
		}
		if h.Size() > maxBatchBytes {
			return bs, fmt.Errorf("batch %d: %w: %d > %d", bs.Count, ErrBatchTooLarge, h.Size(), maxBatchBytes)
		}
		if err := CheckCRC(buf[pos:], &h); err != nil {
			return bs, fmt.Errorf("batch %d at byte %d: %w", bs.Count, pos, err)
		}
		if h.RecordCount <= 0 || int64(h.RecordCount) != int64(h.LastOffsetDelta)+1 {
			return bs, fmt.Errorf("batch %d: %w: recordCount %d, lastOffsetDelta %d", bs.Count, ErrInvalidRecord, h.RecordCount, h.LastOffsetDelta)
		}
		bs.add(&h)
		pos += int(h.Size())
	}
	return bs, nil
}

// ValidateBatches checks stored batches, as a follower or a tool sees them:
// whole batches with magic 2, matching CRCs and increasing offsets. It fills
// bs (reusing the capacity of its headers) with what it accepted, so a
// caller that keeps one Batches parses every header once and allocates
// nothing in the steady state.
func ValidateBatches(bs *Batches, buf []byte) error {
	bs.reset(buf)
	next := int64(-1)
	for pos := 0; pos < len(buf); {
		h, err := ParseHeader(buf[pos:])
		if err != nil {
			return fmt.Errorf("batch %d at byte %d: %w", bs.Count, pos, err)
		}
		if h.Size() > int64(len(buf)-pos) {
			return fmt.Errorf("batch %d at byte %d: %w", bs.Count, pos, ErrTornTail)
		}
		if err := CheckCRC(buf[pos:], &h); err != nil {
			return fmt.Errorf("batch %d at byte %d: %w", bs.Count, pos, err)
		}
		if h.BaseOffset < next {
			return fmt.Errorf("batch %d at byte %d: %w: offset %d after %d", bs.Count, pos, ErrCorrupt, h.BaseOffset, next)
		}
		next = h.NextOffset()
		bs.add(&h)
		pos += int(h.Size())
	}
	return nil
}
