package txn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/tags"
	"samsa/record"
)

// Record versions of __transaction_state as Kafka 3.8 writes them
// (TransactionLogKey v0, TransactionLogValue v0; v1, the flexible one, is
// read too). Part of the format: never change.
const (
	keyVersion   = 0
	valueVersion = 0
)

var (
	// ErrCorrupt is the class of __transaction_state records this package
	// cannot read: the loader skips them, keeping what the log said
	// before, and reports them.
	ErrCorrupt = errors.New("txn: unreadable __transaction_state record")
	// errUnknownKey is a key of another version: Kafka skips those too (a
	// leftover of an aborted upgrade).
	errUnknownKey = fmt.Errorf("%w: unknown key version", ErrCorrupt)
)

// encodeKey is TransactionLogKey v0: int16 version, string transactional id.
func encodeKey(id string) []byte {
	k := kmsg.TxnMetadataKey{Version: keyVersion, TransactionalID: id}
	return k.AppendTo(nil)
}

// encodeValue is TransactionLogValue v0 of a transit; Empty writes a null
// partition list, as Kafka does.
func encodeValue(t transit) []byte {
	v := kmsg.NewTxnMetadataValue()
	v.Version = valueVersion
	v.ProducerID, v.ProducerEpoch, v.TimeoutMillis = t.producerID, t.producerEpoch, t.timeoutMs
	v.State = kmsg.TransactionState(t.state)
	v.LastUpdateTimestamp, v.StartTimestamp = t.updateMs, t.startMs
	if t.state != Empty {
		v.Topics = []kmsg.TxnMetadataValueTopic{}
		for _, tp := range t.partitions {
			if n := len(v.Topics); n > 0 && v.Topics[n-1].Topic == tp.Topic {
				v.Topics[n-1].Partitions = append(v.Topics[n-1].Partitions, tp.Partition)
				continue
			}
			v.Topics = append(v.Topics, kmsg.TxnMetadataValueTopic{Topic: tp.Topic, Partitions: []int32{tp.Partition}})
		}
	}
	return v.AppendTo(nil)
}

// decodeKey reads a key's transactional id.
func decodeKey(b []byte) (string, error) {
	if len(b) < 2 {
		return "", fmt.Errorf("%w: key of %d bytes", ErrCorrupt, len(b))
	}
	if v := int16(binary.BigEndian.Uint16(b)); v != keyVersion {
		return "", fmt.Errorf("%w %d", errUnknownKey, v)
	}
	var k kmsg.TxnMetadataKey
	if err := k.ReadFrom(b); err != nil {
		return "", fmt.Errorf("%w: key: %w", ErrCorrupt, err)
	}
	return k.TransactionalID, nil
}

// decodeValue reads a value (v0 or v1) into the transit it recorded. The
// last producer id and epoch are not in the record (-1). A v1 value is
// walked first: kmsg loops over a tag count without looking at the bytes
// left, so a garbage count would spin it.
func decodeValue(b []byte) (transit, error) {
	if len(b) < 2 {
		return transit{}, fmt.Errorf("%w: value of %d bytes", ErrCorrupt, len(b))
	}
	switch v := int16(binary.BigEndian.Uint16(b)); v {
	case 0:
	case 1:
		if err := walkValueV1(b[2:]); err != nil {
			return transit{}, fmt.Errorf("%w: value v1: %w", ErrCorrupt, err)
		}
	default:
		return transit{}, fmt.Errorf("%w: value version %d", ErrCorrupt, v)
	}
	var v kmsg.TxnMetadataValue
	if err := v.ReadFrom(b); err != nil {
		return transit{}, fmt.Errorf("%w: value: %w", ErrCorrupt, err)
	}
	st := State(v.State)
	if st < 0 || st >= numStates {
		return transit{}, fmt.Errorf("%w: transaction status %d", ErrCorrupt, int8(st))
	}
	t := transit{
		producerID: v.ProducerID, lastProducerID: -1, producerEpoch: v.ProducerEpoch, lastProducerEpoch: -1,
		timeoutMs: v.TimeoutMillis, state: st, startMs: v.StartTimestamp, updateMs: v.LastUpdateTimestamp,
		partitions: []TopicPartition{},
	}
	if st != Empty { // Kafka ignores an Empty record's partitions
		for _, vt := range v.Topics {
			for _, p := range vt.Partitions {
				t.partitions = append(t.partitions, TopicPartition{vt.Topic, p})
			}
		}
		slices.SortFunc(t.partitions, compareTP)
		t.partitions = slices.Compact(t.partitions)
	}
	return t, nil
}

var errShort = errors.New("bytes end inside a field")

// walkValueV1 checks the layout of a flexible value after its version:
// int64 producer id, int16 epoch, int32 timeout, int8 status, compact
// nullable array of (compact string topic, compact array of int32, tags),
// int64 last update, int64 start, tags. Tag sections go through
// internal/tags, which refuses counts the bytes cannot hold.
func walkValueV1(b []byte) error {
	skip := func(n int) error {
		if n < 0 || n > len(b) {
			return errShort
		}
		b = b[n:]
		return nil
	}
	uvarint := func() (int, error) {
		v, n := tags.Uvarint(b)
		if n == 0 {
			return 0, errShort
		}
		b = b[n:]
		return int(v), nil
	}
	tagSection := func() (err error) {
		b, err = tags.Skip(b)
		return err
	}
	if err := skip(8 + 2 + 4 + 1); err != nil {
		return err
	}
	topics, err := uvarint()
	if err != nil {
		return err
	}
	for range max(topics-1, 0) {
		n, err := uvarint() // topic name, length+1
		if err != nil {
			return err
		}
		if err := skip(n - 1); err != nil {
			return err
		}
		parts, err := uvarint()
		if err != nil {
			return err
		}
		if err := skip(4 * (parts - 1)); err != nil {
			return err
		}
		if err := tagSection(); err != nil {
			return err
		}
	}
	if err := skip(8 + 8); err != nil {
		return err
	}
	return tagSection()
}

// encodeBatch builds the uncompressed RecordBatch v2 of records
// (key, value; a nil value is a tombstone) with CreateTime ts and no
// producer, base offset 0: the log assigns offsets.
func encodeBatch(ts int64, recs ...[2][]byte) []byte {
	b := record.NewBuilder(ts)
	for _, r := range recs {
		b.Add(ts, r[0], r[1])
	}
	out, _ := b.AppendTo(nil) // uncompressed: no error
	return out
}

var errBatch = errors.New("txn: malformed record batch in __transaction_state")

// decodeBatches calls fn with every record of the batches in buf: key,
// and value (nil: tombstone). Control batches are skipped; compressed ones
// too, reported to skipped (the coordinator writes none, and the topic is
// created uncompressed).
func decodeBatches(buf []byte, fn func(key, value []byte), skipped func(codec int)) error {
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
		if h.Attributes&record.AttrControl != 0 {
			continue
		}
		if c := h.Codec(); c != 0 {
			if skipped != nil {
				skipped(c)
			}
			continue
		}
		it := record.NewIter(batch[record.HeaderSize:], h.RecordCount)
		for it.Next() {
			fn(it.Record().Key, it.Record().Value)
		}
		if err := it.Err(); err != nil {
			return fmt.Errorf("%w: %w", errBatch, err)
		}
	}
	return nil
}
