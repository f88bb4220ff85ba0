package txn

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"samsa/record"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Golden records, written by hand from Kafka 3.8's TransactionLogKey.json
// and TransactionLogValue.json (int16 version prefix, then the fields:
// int16-length strings, int32-count arrays, -1 for null; v1 is flexible:
// uvarint length+1 strings and counts, tag sections).
const (
	goldenKey = "0000 0005 74786e2d31" // v0, "txn-1"
	// v0: producer 1000, epoch 5, timeout 60000, PrepareCommit, a:[0,2]
	// bb:[1], last update 1700000000123, start 1700000000000.
	goldenPrepareCommit = `0000 00000000000003e8 0005 0000ea60 02
		00000002 0001 61 00000002 00000000 00000002 0002 6262 00000001 00000001
		0000018bcfe5687b 0000018bcfe56800`
	// v0 Empty: the partition list is null.
	goldenEmpty = `0000 00000000000003e8 0000 0000ea60 00 ffffffff 0000018bcfe5687b ffffffffffffffff`
	// v1 Ongoing, a:[0,2], no tags.
	goldenV1 = `0001 00000000000003e8 0005 0000ea60 01
		02 0261 03 00000000 00000002 00
		0000018bcfe5687b 0000018bcfe56800 00`
)

// TestGoldenRecords: the coordinator writes Kafka's bytes and reads
// Kafka's v0 and v1 values.
func TestGoldenRecords(t *testing.T) {
	if got := encodeKey("txn-1"); !bytes.Equal(got, unhex(t, goldenKey)) {
		t.Errorf("key % x, want %s", got, goldenKey)
	}
	if id, err := decodeKey(unhex(t, goldenKey)); err != nil || id != "txn-1" {
		t.Errorf("decodeKey: %q %v", id, err)
	}
	prepare := transit{producerID: 1000, lastProducerID: -1, producerEpoch: 5, lastProducerEpoch: -1, timeoutMs: 60000,
		state: PrepareCommit, partitions: tps("a0", "a2"), startMs: 1700000000000, updateMs: 1700000000123}
	prepare.partitions = append(prepare.partitions, TopicPartition{"bb", 1})
	if got := encodeValue(prepare); !bytes.Equal(got, unhex(t, goldenPrepareCommit)) {
		t.Errorf("PrepareCommit value\n% x\nwant\n% x", got, unhex(t, goldenPrepareCommit))
	}
	empty := transit{producerID: 1000, lastProducerID: -1, producerEpoch: 0, lastProducerEpoch: -1, timeoutMs: 60000,
		state: Empty, partitions: []TopicPartition{}, startMs: -1, updateMs: 1700000000123}
	if got := encodeValue(empty); !bytes.Equal(got, unhex(t, goldenEmpty)) {
		t.Errorf("Empty value\n% x\nwant\n% x", got, unhex(t, goldenEmpty))
	}
	for name, c := range map[string]struct {
		in   string
		want transit
	}{
		"v0 PrepareCommit": {goldenPrepareCommit, prepare},
		"v0 Empty":         {goldenEmpty, empty},
		"v1 Ongoing": {goldenV1, transit{producerID: 1000, lastProducerID: -1, producerEpoch: 5, lastProducerEpoch: -1, timeoutMs: 60000,
			state: Ongoing, partitions: tps("a0", "a2"), startMs: 1700000000000, updateMs: 1700000000123}},
	} {
		got, err := decodeValue(unhex(t, c.in))
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v %v\nwant %+v", name, got, err, c.want)
		}
	}
}

// TestValueRoundTrip: every state's transit reads back as written (the
// last producer id and epoch are not in the record).
func TestValueRoundTrip(t *testing.T) {
	for s := State(0); s < numStates; s++ {
		in := transit{producerID: 42, lastProducerID: -1, producerEpoch: 3, lastProducerEpoch: -1, timeoutMs: 1000, state: s,
			partitions: []TopicPartition{}, startMs: 10, updateMs: 20}
		if s != Empty {
			in.partitions = tps("a1", "b0", "b3")
		}
		got, err := decodeValue(encodeValue(in))
		if err != nil || !reflect.DeepEqual(got, in) {
			t.Errorf("%s: %+v %v, want %+v", s, got, err, in)
		}
	}
}

// TestCorruptRecords: what the coordinator cannot read is ErrCorrupt,
// never a panic or a spin, including a v1 tag count of 2^32-1.
func TestCorruptRecords(t *testing.T) {
	v1 := unhex(t, goldenV1)
	hugeTags := append(v1[:len(v1)-1:len(v1)-1], 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0)
	for name, in := range map[string][]byte{
		"empty":            nil,
		"one byte":         {0},
		"value v2":         unhex(t, "0002 00000000000003e8"),
		"negative version": unhex(t, "ffff 00"),
		"truncated v0":     unhex(t, goldenPrepareCommit)[:20],
		"status 8":         unhex(t, `0000 00000000000003e8 0000 0000ea60 08 ffffffff 0000018bcfe5687b ffffffffffffffff`),
		"status -1":        unhex(t, `0000 00000000000003e8 0000 0000ea60 ff ffffffff 0000018bcfe5687b ffffffffffffffff`),
		"v1 huge tags":     hugeTags,
		"v1 truncated":     v1[:len(v1)-3],
		"v1 topic past end": unhex(t, `0001 00000000000003e8 0005 0000ea60 01
			02 7f61`),
	} {
		start := time.Now()
		if _, err := decodeValue(in); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err %v, want ErrCorrupt", name, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: took %v", name, d)
		}
	}
	for name, in := range map[string][]byte{
		"empty":         nil,
		"key v1":        unhex(t, "0001 0005 74786e2d31"),
		"truncated":     unhex(t, "0000 0009 74786e2d31"),
		"negative size": unhex(t, "0000 ffff"),
	} {
		if _, err := decodeKey(in); !errors.Is(err, ErrCorrupt) {
			t.Errorf("key %s: err %v, want ErrCorrupt", name, err)
		}
	}
}

// TestBatches: records go in one uncompressed batch without producer and
// come back in order, tombstones as nil values; control batches are
// skipped, compressed ones reported, truncated ones refused.
func TestBatches(t *testing.T) {
	b := encodeBatch(1234, [2][]byte{[]byte("k1"), []byte("v1")}, [2][]byte{[]byte("k2"), nil})
	h, err := record.ParseHeader(b)
	if err != nil || h.ProducerID != -1 || h.Codec() != 0 || h.RecordCount != 2 || h.FirstTimestamp != 1234 || h.Attributes&record.AttrTransactional != 0 {
		t.Fatalf("header %+v %v", h, err)
	}
	if err := record.CheckCRC(b, &h); err != nil {
		t.Fatal(err)
	}
	control := encodeBatch(1, [2][]byte{[]byte("c"), []byte("c")})
	control[22] |= record.AttrControl // attributes, low byte
	compressed := encodeBatch(1, [2][]byte{[]byte("z"), []byte("z")})
	compressed[22] |= 1
	var got []string
	var codecs []int
	err = decodeBatches(append(append(append([]byte{}, b...), control...), compressed...), func(k, v []byte) {
		got = append(got, string(k)+"="+string(v)+map[bool]string{true: "(nil)"}[v == nil])
	}, func(c int) { codecs = append(codecs, c) })
	if err != nil || !reflect.DeepEqual(got, []string{"k1=v1", "k2=(nil)"}) || !reflect.DeepEqual(codecs, []int{1}) {
		t.Errorf("decoded %v, codecs %v, err %v", got, codecs, err)
	}
	if err := decodeBatches(b[:len(b)-1], func(k, v []byte) {}, nil); !errors.Is(err, errBatch) {
		t.Errorf("truncated batch: %v", err)
	}
}
