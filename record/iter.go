package record

import (
	"encoding/binary"
	"fmt"
	"iter"
	"math"
)

// Record is one record of a batch, as Iter reads it: its slices point into
// the records region and stay valid as long as it does.
type Record struct {
	Attributes     int8 // unused by Kafka: 0
	TimestampDelta int64
	OffsetDelta    int32
	Key            []byte // nil: a null key; never nil when present, even empty
	Value          []byte // nil: a null value (a tombstone)
	NumHeaders     int
	// Raw is the whole record as encoded, length prefix included: a
	// rewrite copies it unchanged (Builder.AddEncoded).
	Raw     []byte
	headers []byte // the encoded headers, framing checked
}

// Offset is the record's offset in a batch whose header is h.
func (r *Record) Offset(h *Header) int64 { return h.BaseOffset + int64(r.OffsetDelta) }

// Timestamp is the record's timestamp in a batch whose header is h: the
// batch's maxTimestamp for LogAppendTime, the first timestamp plus the
// record's delta for CreateTime.
func (r *Record) Timestamp(h *Header) int64 {
	if h.Attributes&AttrLogAppendTime != 0 {
		return h.MaxTimestamp
	}
	return h.FirstTimestamp + r.TimestampDelta
}

// Headers yields the record's header keys and values (nil: a null value).
func (r *Record) Headers() iter.Seq2[[]byte, []byte] {
	return func(yield func(k, v []byte) bool) {
		d := decoder{b: r.headers}
		for range r.NumHeaders {
			k, _ := d.bytes()
			v, _ := d.bytes()
			if d.err != nil || !yield(k, v) {
				return
			}
		}
	}
}

// Iter reads the records of an uncompressed records region in order (a
// batch's bytes after its header, decompressed if they were compressed),
// checking that every record's length frames exactly its fields. It reads
// as many records as the batch header counts; what follows them is Rest.
//
//	it := record.NewIter(records, h.RecordCount)
//	for it.Next() {
//		r := it.Record()
//		...
//	}
//	if err := it.Err(); err != nil { ... }
type Iter struct {
	rest []byte // the region after the records read so far
	left int32  // records still to read, as the header counts them
	i    int32  // index of the current record
	rec  Record
	err  error // sticky: once set, Next returns false
}

// NewIter returns an iterator over the count records at the start of
// records.
func NewIter(records []byte, count int32) Iter {
	return Iter{rest: records, left: count, i: -1}
}

// Next reads the next record; false at the end or on an error (see Err).
func (it *Iter) Next() bool {
	if it.err != nil || it.left <= 0 {
		return false
	}
	it.left--
	it.i++
	l, n := varint(it.rest)
	if n <= 0 || l < 0 || l > int64(len(it.rest)-n) {
		it.err = fmt.Errorf("%w: record %d length", ErrFraming, it.i)
		return false
	}
	end := n + int(l)
	it.rec.Raw = it.rest[:end:end]
	body := it.rest[n:end]
	it.rest = it.rest[end:]
	if !it.rec.parse(body) {
		it.err = fmt.Errorf("%w: record %d", ErrFraming, it.i)
		return false
	}
	return true
}

// Record is the record Next read; it is overwritten by the next call.
func (it *Iter) Record() *Record { return &it.rec }

// Err is the framing error that stopped the iteration, if any (ErrFraming).
func (it *Iter) Err() error { return it.err }

// Rest is the region after the records read so far: after a complete
// iteration, the bytes that trail the last record.
func (it *Iter) Rest() []byte { return it.rest }

// parse decodes a record's fields from body, the bytes its length covers;
// false if they do not frame exactly. The fields every record has are
// read with varint and field; the headers, most often none, with a decoder.
func (r *Record) parse(body []byte) bool {
	if len(body) < 1 {
		return false
	}
	r.Attributes = int8(body[0])
	b := body[1:]
	v, n := varint(b)
	if n <= 0 {
		return false
	}
	r.TimestampDelta, b = v, b[n:]
	if v, n = varint(b); n <= 0 || v < math.MinInt32 || v > math.MaxInt32 {
		return false
	}
	r.OffsetDelta, b = int32(v), b[n:]
	if r.Key, n = field(b); n <= 0 {
		return false
	}
	b = b[n:]
	if r.Value, n = field(b); n <= 0 {
		return false
	}
	b = b[n:]
	if v, n = varint(b); n <= 0 || v < 0 || v > int64(len(b)-n) {
		return false
	}
	r.NumHeaders, r.headers = int(v), b[n:]
	d := decoder{b: r.headers}
	for range r.NumHeaders {
		if _, null := d.bytes(); null {
			return false // a header key is a string, never null
		}
		d.bytes()
	}
	return d.err == nil && len(d.b) == 0
}

// varint decodes the zigzag varint at the start of b and its size; n <= 0
// if there is none. Most of a record's varints are one byte: those skip
// encoding/binary's loop.
func varint(b []byte) (v int64, n int) {
	if len(b) > 0 && b[0] < 0x80 {
		return int64(b[0]>>1) ^ -int64(b[0]&1), 1
	}
	return binary.Varint(b)
}

// field reads the length-prefixed field at the start of b: its bytes (nil:
// length -1, null; never nil otherwise) and the size it takes; n <= 0 if it
// is malformed or runs past b.
func field(b []byte) (f []byte, n int) {
	l, n := varint(b)
	if n <= 0 || l < -1 || l > int64(len(b)-n) {
		return nil, 0
	}
	if l == -1 {
		return nil, n
	}
	end := n + int(l)
	if f = b[n:end:end]; f == nil {
		f = []byte{}
	}
	return f, end
}

// decoder reads varints and length-prefixed fields with a sticky error.
type decoder struct {
	b   []byte
	err error
}

// bytes reads a length-prefixed field; length -1 is null (nil, true).
func (d *decoder) bytes() (b []byte, null bool) {
	if d.err != nil {
		return nil, false
	}
	b, n := field(d.b)
	if n <= 0 {
		d.err = ErrFraming
		return nil, false
	}
	d.b = d.b[n:]
	return b, b == nil
}
