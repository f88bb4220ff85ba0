package group

import (
	"errors"
	"fmt"
	"unicode/utf16"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/record"
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

// encodeBatch builds an uncompressed RecordBatch v2 of recs with CreateTime
// ts and no producer, base offset 0 (the log assigns offsets).
func encodeBatch(recs []rec, ts int64) []byte {
	b := record.NewBuilder(ts)
	for _, r := range recs {
		b.Add(ts, r.key, r.value)
	}
	out, _ := b.AppendTo(make([]byte, 0, record.HeaderSize+64*len(recs))) // uncompressed: no error
	return out
}

var errBatch = errors.New("group: malformed record batch in __consumer_offsets")

// decodeBatches calls fn for every record of the uncompressed batches in
// buf; a nil value is a tombstone. Control batches are skipped;
// compressed batches are reported to skipped (the coordinator writes none).
func decodeBatches(buf []byte, fn func(key, value []byte) error, skipped func(codec int)) error {
	return decodeBatchesTxn(buf, func(_ int64, key, value []byte) error { return fn(key, value) }, nil, skipped)
}

// decodeBatchesTxn is decodeBatches that tells the records of a
// transactional batch by their producer id (-1 for others) and gives the
// transaction markers to marker (nil: skipped).
func decodeBatchesTxn(buf []byte, fn func(pid int64, key, value []byte) error, marker func(pid int64, commit bool), skipped func(codec int)) error {
	for len(buf) > 0 {
		h, err := record.ParseHeader(buf)
		if err != nil {
			return fmt.Errorf("%w: %w", errBatch, err)
		}
		if h.Size() > int64(len(buf)) {
			return fmt.Errorf("%w: batch of %d bytes, %d left", errBatch, h.Size(), len(buf))
		}
		batch := buf[:h.Size()]
		buf = buf[h.Size():]
		if h.IsControl() {
			if m, ok, err := record.ParseEndTxnMarker(batch, &h); marker != nil && ok && err == nil {
				marker(h.ProducerID, m.Commit())
			}
			continue
		}
		pid := int64(-1)
		if h.IsTransactional() {
			pid = h.ProducerID
		}
		if c := h.Codec(); c != 0 {
			if skipped != nil {
				skipped(c)
			}
			continue
		}
		it := record.NewIter(batch[record.HeaderSize:], h.RecordCount)
		for it.Next() {
			if err := fn(pid, it.Record().Key, it.Record().Value); err != nil {
				return err
			}
		}
		if err := it.Err(); err != nil {
			return fmt.Errorf("%w: %w", errBatch, err)
		}
	}
	return nil
}
