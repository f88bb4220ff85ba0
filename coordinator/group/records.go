package group

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"unicode/utf16"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Record key versions of __consumer_offsets, as Kafka writes them. Part of
// the format: never change.
const (
	// offsetKeyVersion is OffsetCommitKey's version prefix (0 is read too).
	offsetKeyVersion = 1
	// groupKeyVersion is GroupMetadataKey's version prefix.
	groupKeyVersion = 2
	// offsetValueVersion is OffsetCommitValue's version when the commit has
	// no explicit expire timestamp (KIP-211); offsetValueVersionExpire when
	// it has one (OffsetCommit v2-v4 with a retention time).
	offsetValueVersion       = 3
	offsetValueVersionExpire = 1
	// groupValueVersion is GroupMetadataValue's version (KIP-345 fields).
	groupValueVersion = 3
)

// rec is one record of __consumer_offsets: a key and a value; a nil value
// is a tombstone.
type rec struct {
	key, value []byte
}

func offsetKey(group, topic string, partition int32) []byte {
	k := kmsg.OffsetCommitKey{Version: offsetKeyVersion, Group: group, Topic: topic, Partition: partition}
	return k.AppendTo(nil)
}

func groupKey(group string) []byte {
	k := kmsg.GroupMetadataKey{Version: groupKeyVersion, Group: group}
	return k.AppendTo(nil)
}

func offsetValue(o offset) []byte {
	v := kmsg.NewOffsetCommitValue()
	v.Version = offsetValueVersion
	v.Offset = o.offset
	v.LeaderEpoch = o.leaderEpoch
	v.Metadata = o.metadata
	v.CommitTimestamp = o.commitMs
	if o.expireMs >= 0 {
		v.Version = offsetValueVersionExpire
		v.ExpireTimestamp = o.expireMs
	}
	return v.AppendTo(nil)
}

// JavaHash is Java's String.hashCode, which Kafka uses to place a group in
// a partition of __consumer_offsets: s[0]*31^(n-1) + ... over UTF-16 units.
func JavaHash(s string) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return h
}

// PartitionFor is Kafka's partition of __consumer_offsets for a group:
// Utils.abs(groupId.hashCode) % partitions.
func PartitionFor(group string, partitions int32) int32 {
	h := JavaHash(group)
	if h == -1<<31 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return h % partitions
}

// Batch layout constants (RecordBatch v2). Part of the format: never change.
const (
	batchHeaderSize = 61
	attrCompression = 0x07
	attrControl     = 0x20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// encodeBatch builds an uncompressed RecordBatch v2 of recs with CreateTime
// ts and no producer, base offset 0 (the log assigns offsets).
func encodeBatch(recs []rec, ts int64) []byte {
	b := make([]byte, batchHeaderSize, batchHeaderSize+64*len(recs))
	for i, r := range recs {
		var body []byte
		body = append(body, 0)                     // attributes
		body = binary.AppendVarint(body, 0)        // timestamp delta
		body = binary.AppendVarint(body, int64(i)) // offset delta
		body = binary.AppendVarint(body, int64(len(r.key)))
		body = append(body, r.key...)
		if r.value == nil {
			body = binary.AppendVarint(body, -1)
		} else {
			body = binary.AppendVarint(body, int64(len(r.value)))
			body = append(body, r.value...)
		}
		body = binary.AppendVarint(body, 0) // headers
		b = binary.AppendVarint(b, int64(len(body)))
		b = append(b, body...)
	}
	be := binary.BigEndian
	be.PutUint64(b[0:], 0)
	be.PutUint32(b[8:], uint32(len(b)-12))
	be.PutUint32(b[12:], 0) // partition leader epoch: the log's
	b[16] = 2
	be.PutUint16(b[21:], 0)
	be.PutUint32(b[23:], uint32(len(recs)-1))
	be.PutUint64(b[27:], uint64(ts))
	be.PutUint64(b[35:], uint64(ts))
	be.PutUint64(b[43:], ^uint64(0)) // producer id -1
	be.PutUint16(b[51:], ^uint16(0)) // producer epoch -1
	be.PutUint32(b[53:], ^uint32(0)) // base sequence -1
	be.PutUint32(b[57:], uint32(len(recs)))
	be.PutUint32(b[17:], crc32.Checksum(b[21:], crcTable))
	return b
}

var errBatch = errors.New("group: malformed record batch in __consumer_offsets")

// decodeBatches calls fn for every record of the uncompressed batches in
// buf with the batch's max timestamp. Control batches are skipped;
// compressed batches are reported to skipped (the coordinator writes none).
func decodeBatches(buf []byte, fn func(key, value []byte) error, skipped func(codec int)) error {
	for len(buf) > 0 {
		if len(buf) < batchHeaderSize {
			return fmt.Errorf("%w: %d bytes left", errBatch, len(buf))
		}
		size := 12 + int64(int32(binary.BigEndian.Uint32(buf[8:])))
		if size < batchHeaderSize || size > int64(len(buf)) {
			return fmt.Errorf("%w: batch of %d bytes, %d left", errBatch, size, len(buf))
		}
		batch := buf[:size]
		buf = buf[size:]
		attrs := binary.BigEndian.Uint16(batch[21:])
		if attrs&attrControl != 0 {
			continue
		}
		if c := int(attrs & attrCompression); c != 0 {
			if skipped != nil {
				skipped(c)
			}
			continue
		}
		n := int32(binary.BigEndian.Uint32(batch[57:]))
		r := batch[batchHeaderSize:]
		for i := int32(0); i < n; i++ {
			var key, value []byte
			var err error
			if r, key, value, err = nextRecord(r); err != nil {
				return err
			}
			if err := fn(key, value); err != nil {
				return err
			}
		}
	}
	return nil
}

// nextRecord parses one record; value is nil for a null value.
func nextRecord(b []byte) (rest, key, value []byte, err error) {
	l, n := binary.Varint(b)
	if n <= 0 || l < 0 || l > int64(len(b)-n) {
		return nil, nil, nil, fmt.Errorf("%w: record length", errBatch)
	}
	rec := b[n : n+int(l)]
	rest = b[n+int(l):]
	if len(rec) < 1 {
		return nil, nil, nil, fmt.Errorf("%w: empty record", errBatch)
	}
	rec = rec[1:] // attributes
	field := func() ([]byte, bool) {
		v, n := binary.Varint(rec)
		if n <= 0 {
			return nil, false
		}
		rec = rec[n:]
		if v < 0 {
			return nil, true
		}
		if v > int64(len(rec)) {
			return nil, false
		}
		out := rec[:v:v]
		rec = rec[v:]
		if out == nil {
			out = []byte{}
		}
		return out, true
	}
	for range 2 { // timestamp delta, offset delta
		if _, n := binary.Varint(rec); n <= 0 {
			return nil, nil, nil, fmt.Errorf("%w: record deltas", errBatch)
		} else {
			rec = rec[n:]
		}
	}
	var ok bool
	if key, ok = field(); !ok {
		return nil, nil, nil, fmt.Errorf("%w: record key", errBatch)
	}
	if value, ok = field(); !ok {
		return nil, nil, nil, fmt.Errorf("%w: record value", errBatch)
	}
	return rest, key, value, nil
}
