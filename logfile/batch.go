package logfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Byte offsets in a RecordBatch v2 header. Part of the format: never change.
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
	// Magic is the only record format this log stores.
	Magic = 2
)

// Attribute bits.
const (
	CodecMask         = 0x07
	AttrLogAppendTime = 0x08
	AttrTransactional = 0x10
	AttrControl       = 0x20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

var (
	// ErrCorrupt is the class of batches whose bytes are not a valid
	// RecordBatch v2: bad length, magic, CRC or framing. Test with errors.Is.
	ErrCorrupt = errors.New("logfile: corrupt batch")
	// ErrCRC: the CRC-32C does not match. It is also ErrCorrupt.
	ErrCRC = fmt.Errorf("%w: crc mismatch", ErrCorrupt)
	// ErrMagic: the magic byte is not 2. It is also ErrCorrupt.
	ErrMagic = fmt.Errorf("%w: unsupported magic", ErrCorrupt)
	// ErrTornTail: the bytes end inside a batch. On recovery this is the
	// expected result of a crash mid-write; in a request it is ErrCorrupt too.
	ErrTornTail = fmt.Errorf("%w: truncated batch", ErrCorrupt)
	// ErrInvalidRecord: the header's record count and lastOffsetDelta disagree
	// (Kafka's INVALID_RECORD).
	ErrInvalidRecord = errors.New("logfile: invalid record count")
	// ErrBatchTooLarge: a batch exceeds max.message.bytes (Kafka's MESSAGE_TOO_LARGE).
	ErrBatchTooLarge = errors.New("logfile: batch larger than max.message.bytes")
)

// Header is a parsed RecordBatch v2 header.
type Header struct {
	BaseOffset      int64
	Length          int32
	LeaderEpoch     int32
	Magic           int8
	CRC             uint32
	Attributes      int16
	LastOffsetDelta int32
	FirstTimestamp  int64
	MaxTimestamp    int64
	ProducerID      int64
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

// Codec is the compression codec: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd.
func (h *Header) Codec() int { return int(h.Attributes & CodecMask) }

// ParseHeader decodes the header at the start of b and checks what the
// header alone can show: enough bytes for a header, a length that covers one,
// magic 2, and a non-negative lastOffsetDelta. It does not need the records.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderSize {
		return h, fmt.Errorf("%w: %d bytes, need %d for a header", ErrTornTail, len(b), HeaderSize)
	}
	h.Length = int32(binary.BigEndian.Uint32(b[offLength:]))
	h.Magic = int8(b[offMagic])
	if h.Length < HeaderSize-LogOverhead {
		return h, fmt.Errorf("%w: batch length %d shorter than a header", ErrCorrupt, h.Length)
	}
	if h.Magic != Magic {
		return h, fmt.Errorf("%w %d", ErrMagic, h.Magic)
	}
	h.BaseOffset = int64(binary.BigEndian.Uint64(b[offBaseOffset:]))
	h.LeaderEpoch = int32(binary.BigEndian.Uint32(b[offLeaderEpoch:]))
	h.CRC = binary.BigEndian.Uint32(b[offCRC:])
	h.Attributes = int16(binary.BigEndian.Uint16(b[offAttributes:]))
	h.LastOffsetDelta = int32(binary.BigEndian.Uint32(b[offLastOffsetDelta:]))
	h.FirstTimestamp = int64(binary.BigEndian.Uint64(b[offFirstTimestamp:]))
	h.MaxTimestamp = int64(binary.BigEndian.Uint64(b[offMaxTimestamp:]))
	h.ProducerID = int64(binary.BigEndian.Uint64(b[offProducerID:]))
	h.ProducerEpoch = int16(binary.BigEndian.Uint16(b[offProducerEpoch:]))
	h.BaseSequence = int32(binary.BigEndian.Uint32(b[offBaseSequence:]))
	h.RecordCount = int32(binary.BigEndian.Uint32(b[offRecordCount:]))
	if h.LastOffsetDelta < 0 {
		return h, fmt.Errorf("%w: negative lastOffsetDelta %d", ErrCorrupt, h.LastOffsetDelta)
	}
	return h, nil
}

// CheckCRC verifies the CRC-32C of a whole batch.
func CheckCRC(batch []byte, h *Header) error {
	if got := crc32.Checksum(batch[offAttributes:h.Size()], crcTable); got != h.CRC {
		return fmt.Errorf("%w: stored %08x, computed %08x", ErrCRC, h.CRC, got)
	}
	return nil
}

// SetCRC recomputes the CRC of a whole batch after its covered bytes changed.
func SetCRC(batch []byte) {
	binary.BigEndian.PutUint32(batch[offCRC:], crc32.Checksum(batch[offAttributes:], crcTable))
}

// SetLogAppendTime sets the LogAppendTime attribute and both timestamps of
// a batch to ts, and its CRC, as a broker does for message.timestamp.type=LogAppendTime.
func SetLogAppendTime(batch []byte, ts int64) {
	a := binary.BigEndian.Uint16(batch[offAttributes:])
	binary.BigEndian.PutUint16(batch[offAttributes:], a|AttrLogAppendTime)
	binary.BigEndian.PutUint64(batch[offFirstTimestamp:], uint64(ts))
	binary.BigEndian.PutUint64(batch[offMaxTimestamp:], uint64(ts))
	SetCRC(batch)
}

// SetLeaderEpoch stamps the partition leader epoch (outside the CRC).
func SetLeaderEpoch(batch []byte, epoch int32) {
	binary.BigEndian.PutUint32(batch[offLeaderEpoch:], uint32(epoch))
}

// Batches is a validated run of whole batches, as produced by a client.
type Batches struct {
	Buf     []byte
	Count   int   // number of batches
	Records int64 // sum of lastOffsetDelta+1: offsets the run takes
	// MaxTimestamp is the largest maxTimestamp among the batches.
	MaxTimestamp int64
}

// ValidateProduce checks a producer's record set before it is appended: whole
// batches only, each with magic 2, a matching CRC, recordCount equal to
// lastOffsetDelta+1 (offsets contiguous from 0 as producers write them), and
// no batch over maxBatchBytes.
func ValidateProduce(buf []byte, maxBatchBytes int64) (Batches, error) {
	bs := Batches{Buf: buf, MaxTimestamp: -1}
	if len(buf) == 0 {
		return bs, fmt.Errorf("%w: empty record set", ErrCorrupt)
	}
	for pos := 0; pos < len(buf); {
		h, err := ParseHeader(buf[pos:])
		if err != nil {
			return bs, fmt.Errorf("batch %d at byte %d: %w", bs.Count, pos, err)
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
		bs.Count++
		bs.Records += int64(h.LastOffsetDelta) + 1
		bs.MaxTimestamp = max(bs.MaxTimestamp, h.MaxTimestamp)
		pos += int(h.Size())
	}
	return bs, nil
}

// ValidateBatches checks stored batches, as a reader or a tool sees them:
// whole batches with magic 2, matching CRCs and increasing offsets. It
// returns the number of batches.
func ValidateBatches(buf []byte) (int, error) {
	n := 0
	next := int64(-1)
	for pos := 0; pos < len(buf); n++ {
		h, err := ParseHeader(buf[pos:])
		if err != nil {
			return n, fmt.Errorf("batch %d at byte %d: %w", n, pos, err)
		}
		if h.Size() > int64(len(buf)-pos) {
			return n, fmt.Errorf("batch %d at byte %d: %w", n, pos, ErrTornTail)
		}
		if err := CheckCRC(buf[pos:], &h); err != nil {
			return n, fmt.Errorf("batch %d at byte %d: %w", n, pos, err)
		}
		if h.BaseOffset < next {
			return n, fmt.Errorf("batch %d at byte %d: %w: offset %d after %d", n, pos, ErrCorrupt, h.BaseOffset, next)
		}
		next = h.NextOffset()
		pos += int(h.Size())
	}
	return n, nil
}

// SetCodec sets the compression bits of a batch's attributes (then SetCRC).
func SetCodec(batch []byte, codec int) {
	a := binary.BigEndian.Uint16(batch[offAttributes:])
	binary.BigEndian.PutUint16(batch[offAttributes:], a&^CodecMask|uint16(codec)&CodecMask)
}

// SetLength sets a batch's length field: the bytes after it.
func SetLength(batch []byte, n int32) {
	binary.BigEndian.PutUint32(batch[offLength:], uint32(n))
}
