package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Byte offsets in a RecordBatch v2 header (see doc.go). Part of the
// format: never change.
const (
	offBaseOffset      = 0
	offLength          = 8
	offLeaderEpoch     = 12
	offMagic           = 16
	offCRC             = 17
	offAttributes      = 21
	offLastOffsetDelta = 23
	offFirstTimestamp  = 27
	offMaxTimestamp    = 35
	offProducerID      = 43
	offProducerEpoch   = 51
	offBaseSequence    = 53
	offRecordCount     = 57

	// HeaderSize is the size of a RecordBatch v2 header; records follow it.
	HeaderSize = 61
	// LogOverhead is the part of the header before and including batchLength.
	LogOverhead = 12
	// Magic is the only record format this package reads and writes.
	Magic = 2
	// NoTimestamp is a timestamp a producer did not set (Kafka's
	// RecordBatch.NO_TIMESTAMP).
	NoTimestamp = -1
)

// Attribute bits. Part of the format: never change.
const (
	CodecMask         = 0x07 // codec.Codec: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd
	AttrLogAppendTime = 0x08
	AttrTransactional = 0x10
	AttrControl       = 0x20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

var (
	// ErrCorrupt is the class of bytes that are not a valid RecordBatch v2:
	// bad length, magic, CRC or framing, and of stored batches that
	// disagree with what was written around them. Test with errors.Is.
	ErrCorrupt = errors.New("record: corrupt batch")
	// ErrCRC: the CRC-32C does not match. It is also ErrCorrupt.
	ErrCRC = fmt.Errorf("%w: crc mismatch", ErrCorrupt)
	// ErrMagic: the magic byte is not 2. It is also ErrCorrupt.
	ErrMagic = fmt.Errorf("%w: unsupported magic", ErrCorrupt)
	// ErrTornTail: the bytes end inside a batch. On recovery this is the
	// expected result of a crash mid-write; in a request it is ErrCorrupt too.
	ErrTornTail = fmt.Errorf("%w: truncated batch", ErrCorrupt)
)

// Header is a parsed RecordBatch v2 header.
type Header struct {
	BaseOffset      int64
	Length          int32 // bytes after the length field
	LeaderEpoch     int32
	Magic           int8
	CRC             uint32
	Attributes      int16
	LastOffsetDelta int32
	FirstTimestamp  int64
	MaxTimestamp    int64
	ProducerID      int64 // -1: no producer
	ProducerEpoch   int16
	BaseSequence    int32
	RecordCount     int32
}

// Size is the whole batch's size in bytes.
func (h *Header) Size() int64 { return LogOverhead + int64(h.Length) }

// LastOffset is the offset of the batch's last record.
func (h *Header) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// NextOffset is the offset after the batch.
func (h *Header) NextOffset() int64 { return h.LastOffset() + 1 }

// Codec is the compression codec, attribute bits 0-2 (a codec.Codec).
func (h *Header) Codec() int { return int(h.Attributes & CodecMask) }

// ParseHeader decodes the header at the start of b and checks what the
// header alone can show: enough bytes for a header, a length that covers one,
// magic 2, and a non-negative lastOffsetDelta. It does not need the records.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderSize {
		return h, fmt.Errorf("%w: %d bytes, need %d for a header", ErrTornTail, len(b), HeaderSize)
	}
	be := binary.BigEndian
	h.Length = int32(be.Uint32(b[offLength:]))
	h.Magic = int8(b[offMagic])
	if h.Length < HeaderSize-LogOverhead {
		return h, fmt.Errorf("%w: batch length %d shorter than a header", ErrCorrupt, h.Length)
	}
	if h.Magic != Magic {
		return h, fmt.Errorf("%w %d", ErrMagic, h.Magic)
	}
	h.BaseOffset = int64(be.Uint64(b[offBaseOffset:]))
	h.LeaderEpoch = int32(be.Uint32(b[offLeaderEpoch:]))
	h.CRC = be.Uint32(b[offCRC:])
	h.Attributes = int16(be.Uint16(b[offAttributes:]))
	h.LastOffsetDelta = int32(be.Uint32(b[offLastOffsetDelta:]))
	h.FirstTimestamp = int64(be.Uint64(b[offFirstTimestamp:]))
	h.MaxTimestamp = int64(be.Uint64(b[offMaxTimestamp:]))
	h.ProducerID = int64(be.Uint64(b[offProducerID:]))
	h.ProducerEpoch = int16(be.Uint16(b[offProducerEpoch:]))
	h.BaseSequence = int32(be.Uint32(b[offBaseSequence:]))
	h.RecordCount = int32(be.Uint32(b[offRecordCount:]))
	if h.LastOffsetDelta < 0 {
		return h, fmt.Errorf("%w: negative lastOffsetDelta %d", ErrCorrupt, h.LastOffsetDelta)
	}
	return h, nil
}

// appendHeader appends h as header bytes, CRC as given.
func appendHeader(dst []byte, h *Header) []byte {
	be := binary.BigEndian
	dst = be.AppendUint64(dst, uint64(h.BaseOffset))
	dst = be.AppendUint32(dst, uint32(h.Length))
	dst = be.AppendUint32(dst, uint32(h.LeaderEpoch))
	dst = append(dst, byte(h.Magic))
	dst = be.AppendUint32(dst, h.CRC)
	dst = be.AppendUint16(dst, uint16(h.Attributes))
	dst = be.AppendUint32(dst, uint32(h.LastOffsetDelta))
	dst = be.AppendUint64(dst, uint64(h.FirstTimestamp))
	dst = be.AppendUint64(dst, uint64(h.MaxTimestamp))
	dst = be.AppendUint64(dst, uint64(h.ProducerID))
	dst = be.AppendUint16(dst, uint16(h.ProducerEpoch))
	dst = be.AppendUint32(dst, uint32(h.BaseSequence))
	return be.AppendUint32(dst, uint32(h.RecordCount))
}

// CheckCRC verifies the CRC-32C of a whole batch whose header is h.
func CheckCRC(batch []byte, h *Header) error {
	if got := crc32.Checksum(batch[offAttributes:h.Size()], crcTable); got != h.CRC {
		return fmt.Errorf("%w: stored %08x, computed %08x", ErrCRC, h.CRC, got)
	}
	return nil
}

// The setters below change one field of a whole batch in place. The
// fields at bytes 0-20 (base offset, length, leader epoch) are outside the
// CRC; after changing any other, call SetCRC.

// SetCRC recomputes the CRC of a whole batch after its covered bytes changed.
func SetCRC(batch []byte) {
	binary.BigEndian.PutUint32(batch[offCRC:], crc32.Checksum(batch[offAttributes:], crcTable))
}

// SetBaseOffset stamps the base offset (outside the CRC).
func SetBaseOffset(batch []byte, offset int64) {
	binary.BigEndian.PutUint64(batch[offBaseOffset:], uint64(offset))
}

// SetLeaderEpoch stamps the partition leader epoch (outside the CRC).
func SetLeaderEpoch(batch []byte, epoch int32) {
	binary.BigEndian.PutUint32(batch[offLeaderEpoch:], uint32(epoch))
}

// SetLength sets a batch's length field: the bytes after it (outside the CRC).
func SetLength(batch []byte, n int32) {
	binary.BigEndian.PutUint32(batch[offLength:], uint32(n))
}

// SetCodec sets the compression bits of a batch's attributes (then SetCRC).
func SetCodec(batch []byte, codec int) {
	a := binary.BigEndian.Uint16(batch[offAttributes:])
	binary.BigEndian.PutUint16(batch[offAttributes:], a&^CodecMask|uint16(codec)&CodecMask)
}

// SetLogAppendTime sets the LogAppendTime attribute and both timestamps of
// a batch to ts, and its CRC, as a broker does for
// message.timestamp.type=LogAppendTime.
func SetLogAppendTime(batch []byte, ts int64) {
	a := binary.BigEndian.Uint16(batch[offAttributes:])
	binary.BigEndian.PutUint16(batch[offAttributes:], a|AttrLogAppendTime)
	binary.BigEndian.PutUint64(batch[offFirstTimestamp:], uint64(ts))
	binary.BigEndian.PutUint64(batch[offMaxTimestamp:], uint64(ts))
	SetCRC(batch)
}
