package record

import (
	"encoding/binary"

	"samsa/record/codec"
)

// RecordHeader is one header of a record: a key and a value (nil: null).
type RecordHeader struct {
	Key, Value []byte
}

// Builder builds one RecordBatch v2: fresh records (Add), records copied
// from another batch (AddEncoded), or both, compressed with the header's
// codec.
type Builder struct {
	// Header is the batch's header as AppendTo writes it. AppendTo sets
	// Magic, Length, RecordCount and CRC, and clears the codec bits of a
	// batch with no records (there is nothing to compress); after it,
	// Header is the header of the batch it wrote. Add raises
	// LastOffsetDelta and, for CreateTime, MaxTimestamp to cover the
	// record. Every other field is the caller's: base offset, leader
	// epoch, attributes, first timestamp and producer fields are written
	// as they are.
	Header  Header
	records []byte // encoded records, uncompressed
	n       int32  // records added
}

// NewBuilder returns a Builder of an uncompressed CreateTime batch at base
// offset 0 whose timestamps count from ts, of no producer (id, epoch and
// base sequence -1). Change Header before adding records for anything else.
func NewBuilder(ts int64) Builder {
	return Builder{Header: Header{FirstTimestamp: ts, MaxTimestamp: ts, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}}
}

// Len is the number of records added.
func (b *Builder) Len() int32 { return b.n }

// Add appends a record with timestamp ts (the delta from
// Header.FirstTimestamp is stored) and the next offset delta: the number
// of records added before it. A nil key or value is null.
func (b *Builder) Add(ts int64, key, value []byte, headers ...RecordHeader) {
	delta := b.n
	tsDelta := ts - b.Header.FirstTimestamp
	size := 1 + varintLen(tsDelta) + varintLen(int64(delta)) + bytesLen(key) + bytesLen(value) + varintLen(int64(len(headers)))
	for _, h := range headers {
		size += bytesLen(h.Key) + bytesLen(h.Value)
	}
	r := binary.AppendVarint(b.records, int64(size))
	r = append(r, 0) // attributes
	r = binary.AppendVarint(r, tsDelta)
	r = binary.AppendVarint(r, int64(delta))
	r = appendBytes(r, key)
	r = appendBytes(r, value)
	r = binary.AppendVarint(r, int64(len(headers)))
	for _, h := range headers {
		r = appendBytes(r, h.Key)
		r = appendBytes(r, h.Value)
	}
	b.records = r
	b.n++
	b.Header.LastOffsetDelta = max(b.Header.LastOffsetDelta, delta)
	if b.Header.Attributes&AttrLogAppendTime == 0 {
		b.Header.MaxTimestamp = max(b.Header.MaxTimestamp, ts)
	}
}

// AddEncoded appends n records already encoded as Iter reads them: a
// Record's Raw, or a batch's whole (decompressed) records region. They are
// copied as they are, so Header.LastOffsetDelta and MaxTimestamp, which
// they do not change, are the caller's to keep right.
func (b *Builder) AddEncoded(records []byte, n int32) {
	b.records = append(b.records, records...)
	b.n += n
}

// AppendTo appends the batch to dst, its records compressed with the
// header's codec; on a compression error dst comes back as it was.
func (b *Builder) AppendTo(dst []byte) ([]byte, error) {
	h := b.Header
	h.Magic = Magic
	h.RecordCount = b.n
	if b.n == 0 {
		h.Attributes &^= CodecMask
	}
	start := len(dst)
	dst = appendHeader(dst, &h)
	if c := codec.Codec(h.Codec()); c == codec.None {
		dst = append(dst, b.records...)
	} else {
		var err error
		if dst, err = codec.Compress(c, dst, b.records); err != nil {
			return dst[:start], err
		}
	}
	batch := dst[start:]
	SetLength(batch, int32(len(batch)-LogOverhead))
	SetCRC(batch)
	h.Length = int32(len(batch) - LogOverhead)
	h.CRC = binary.BigEndian.Uint32(batch[offCRC:])
	b.Header = h
	return dst, nil
}

// varintLen is the size of v as a zigzag varint.
func varintLen(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}

// bytesLen is the size of a length-prefixed field; nil is null.
func bytesLen(b []byte) int {
	if b == nil {
		return varintLen(-1)
	}
	return varintLen(int64(len(b))) + len(b)
}

// appendBytes appends a length-prefixed field; nil is null (length -1).
func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	return append(binary.AppendVarint(dst, int64(len(b))), b...)
}
