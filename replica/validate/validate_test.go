package validate

// Kafka's LogValidatorTest, for what this package owns: each refusal with
// its code (and, for refused records, which ones), and what an accepted
// set becomes (the producers' headers, recompression, LogAppendTime).

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/config"
	"samsa/internal/apierr"
	"samsa/record"
	"samsa/record/codec"
)

const now = int64(1_700_000_000_000)

// batchSpec is one batch to build: its records' keys and timestamps
// (offsets from now), codec, producer and attributes.
type batchSpec struct {
	keys  []string // "" is a null key; one record each
	ts    []int64  // offset from now of each record's timestamp (default 0)
	codec codec.Codec
	pid   int64 // 0: no producer (-1)
	attrs int16
}

func build(t *testing.T, specs ...batchSpec) []byte {
	t.Helper()
	var out []byte
	for _, s := range specs {
		b := record.NewBuilder(now)
		b.Header.Attributes = s.attrs | int16(s.codec)
		if s.pid != 0 {
			b.Header.ProducerID, b.Header.ProducerEpoch, b.Header.BaseSequence = s.pid, 0, 0
		}
		for i, k := range s.keys {
			var key []byte
			if k != "" {
				key = []byte(k)
			}
			var d int64
			if i < len(s.ts) {
				d = s.ts[i]
			}
			b.Add(now+d, key, []byte("value"))
		}
		var err error
		if out, err = b.AppendTo(out); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func topicConfig(t *testing.T, overrides map[string]string) config.TopicConfig {
	t.Helper()
	cfg, err := config.DefaultTopicConfig().With(overrides)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestProduceRefused: every refusal, with Kafka's code.
func TestProduceRefused(t *testing.T) {
	one := batchSpec{keys: []string{"k"}}
	for _, tc := range []struct {
		name      string
		version   int16
		configs   map[string]string
		records   func(t *testing.T) []byte
		code      kerr.Error
		recErrors []int32 // the records named in the error (KIP-467)
	}{
		{name: "no records, v2", version: 2, records: func(*testing.T) []byte { return nil }, code: *kerr.CorruptMessage},
		{name: "no records, v3", version: 3, records: func(*testing.T) []byte { return nil }, code: *kerr.InvalidRecord},
		{name: "two batches, v3", version: 3, records: func(t *testing.T) []byte { return build(t, one, one) }, code: *kerr.InvalidRecord},
		{name: "magic 1, v3", version: 3, records: func(t *testing.T) []byte { return magic1(build(t, one)) }, code: *kerr.InvalidRecord},
		{name: "magic 1, v2", version: 2, records: func(t *testing.T) []byte { return magic1(build(t, one)) }, code: *kerr.UnsupportedForMessageFormat},
		{name: "bad CRC", version: 9, records: func(t *testing.T) []byte {
			b := build(t, one)
			b[len(b)-1] ^= 0xff
			return b
		}, code: *kerr.CorruptMessage},
		{name: "over max.message.bytes", version: 9, configs: map[string]string{"max.message.bytes": "70"},
			records: func(t *testing.T) []byte { return build(t, one) }, code: *kerr.MessageTooLarge},
		{name: "control batch", version: 9,
			records: func(t *testing.T) []byte {
				return build(t, batchSpec{keys: []string{"k"}, pid: 7, attrs: record.AttrControl})
			},
			code: *kerr.InvalidRecord},
		{name: "transactional without a producer", version: 9,
			records: func(t *testing.T) []byte {
				return build(t, batchSpec{keys: []string{"k"}, attrs: record.AttrTransactional})
			},
			code: *kerr.InvalidRecord},
		{name: "zstd before v7", version: 6,
			records: func(t *testing.T) []byte { return build(t, batchSpec{keys: []string{"k"}, codec: codec.Zstd}) },
			code:    *kerr.UnsupportedCompressionType},
		{name: "unknown codec", version: 9, records: func(t *testing.T) []byte {
			b := build(t, one)
			record.SetCodec(b, 7)
			record.SetCRC(b)
			return b
		}, code: *kerr.CorruptMessage},
		{name: "timestamps out of range", version: 9, configs: map[string]string{"message.timestamp.difference.max.ms": "1000"},
			records: func(t *testing.T) []byte {
				return build(t, batchSpec{keys: []string{"a", "b", "c"}, ts: []int64{0, -5000, 5000}})
			}, code: *kerr.InvalidTimestamp, recErrors: []int32{1, 2}},
		{name: "compacted topic, records without a key", version: 9, configs: map[string]string{"cleanup.policy": "compact"},
			records: func(t *testing.T) []byte { return build(t, batchSpec{keys: []string{"", "k", ""}}) },
			code:    *kerr.InvalidRecord, recErrors: []int32{0, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := topicConfig(t, tc.configs)
			_, _, err := Produce(tc.version, &cfg, "t", 0, tc.records(t), now)
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Code.Code != tc.code.Code {
				t.Fatalf("Produce: %v, want %s", err, tc.code.Message)
			}
			var named []int32
			for _, r := range ae.Records {
				named = append(named, r.Index)
			}
			if !slices.Equal(named, tc.recErrors) {
				t.Fatalf("records named %v, want %v", named, tc.recErrors)
			}
		})
	}
}

// magic1 makes a batch claim magic 1.
func magic1(b []byte) []byte {
	b[16] = 1
	return b
}

// TestProduceAccepted: what an accepted set becomes.
func TestProduceAccepted(t *testing.T) {
	t.Run("as the producer sent it", func(t *testing.T) {
		cfg := topicConfig(t, nil)
		in := build(t, batchSpec{keys: []string{"a", "b"}, codec: codec.LZ4}, batchSpec{keys: []string{"c"}, pid: 7})
		sent := bytes.Clone(in)
		bs, idem, err := Produce(2, &cfg, "t", 0, in, now)
		if err != nil {
			t.Fatal(err)
		}
		if bs.Count != 2 || !bytes.Equal(bs.Buf, sent) {
			t.Fatalf("%d batches, changed %v: want the producer's 2 as they came", bs.Count, !bytes.Equal(bs.Buf, sent))
		}
		if len(idem) != 1 || idem[0].ProducerID != 7 {
			t.Fatalf("producers' headers %+v, want producer 7's", idem)
		}
	})
	t.Run("recompressed to the topic's codec", func(t *testing.T) {
		cfg := topicConfig(t, map[string]string{"compression.type": "gzip"})
		in := build(t, batchSpec{keys: []string{"a", "b"}}, batchSpec{keys: []string{"c"}, codec: codec.Gzip}, batchSpec{keys: []string{"d"}, codec: codec.Snappy})
		bs, _, err := Produce(2, &cfg, "t", 0, in, now)
		if err != nil {
			t.Fatal(err)
		}
		again, err := record.ValidateProduce(bs.Buf, 1<<20, false)
		if err != nil || again.Count != 3 {
			t.Fatalf("the recompressed set: %d batches, %v", again.Count, err)
		}
		var keys []string
		for i := range again.Count {
			h := again.Header(i)
			if codec.Codec(h.Codec()) != codec.Gzip || *h != *bs.Header(i) {
				t.Fatalf("batch %d: codec %d, header %+v vs carried %+v", i, h.Codec(), *h, *bs.Header(i))
			}
		}
		pos := 0
		for i := range again.Count {
			h := again.Header(i)
			recs, err := record.Inflate(bs.Buf[pos:pos+int(h.Size())], h, nil, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			for it := record.NewIter(recs, h.RecordCount); it.Next(); {
				r := it.Record()
				keys = append(keys, string(r.Key))
			}
			pos += int(h.Size())
		}
		if got := keys; len(got) != 4 || got[0] != "a" || got[1] != "b" || got[2] != "c" || got[3] != "d" {
			t.Fatalf("records after recompression %q", got)
		}
	})
	t.Run("LogAppendTime", func(t *testing.T) {
		cfg := topicConfig(t, map[string]string{"message.timestamp.type": "LogAppendTime"})
		bs, _, err := Produce(2, &cfg, "t", 0, build(t, batchSpec{keys: []string{"a"}, ts: []int64{-1 << 40}}), now+5)
		if err != nil {
			t.Fatal(err)
		}
		h, err := record.ParseHeader(bs.Buf)
		if err != nil || h.Attributes&record.AttrLogAppendTime == 0 || h.MaxTimestamp != now+5 || *bs.Header(0) != h {
			t.Fatalf("header %+v (%v), carried %+v: want LogAppendTime %d", h, err, *bs.Header(0), now+5)
		}
		if _, err := record.ValidateProduce(bs.Buf, 1<<20, true); err != nil {
			t.Fatalf("the stamped batch: %v", err)
		}
	})
}

// TestInflateLimit: 32 x max.message.bytes within [64 MiB, 1 GiB].
func TestInflateLimit(t *testing.T) {
	for _, tc := range []struct {
		max  int64
		want int
	}{{1 << 20, 64 << 20}, {4 << 20, 128 << 20}, {64 << 20, 1 << 30}} {
		if got := InflateLimit(tc.max); got != tc.want {
			t.Errorf("InflateLimit(%d) = %d, want %d", tc.max, got, tc.want)
		}
	}
}
