package compact

import (
	"bytes"
	"math"
	"testing"

	"samsa/record"
)

// kv is one record of a test batch; tomb makes a null value, the key
// "\x00nil" a null key.
type kv struct {
	key, value string
	tomb       bool
}

// kvBatch builds an uncompressed batch of keyed records with timestamp ts,
// as producer pid (-1: none) with base sequence seq, at offset base.
func kvBatch(base, ts, pid int64, seq int32, recs ...kv) []byte {
	b := record.NewBuilder(ts)
	b.Header.BaseOffset = base
	if pid >= 0 {
		b.Header.ProducerID, b.Header.ProducerEpoch, b.Header.BaseSequence = pid, 0, seq
	}
	for _, r := range recs {
		key, value := []byte(r.key), []byte(r.value)
		if r.key == "\x00nil" {
			key = nil
		}
		if r.tomb {
			value = nil
		}
		b.Add(ts, key, value)
	}
	out, _ := b.AppendTo(nil)
	return out
}

// FuzzFilterBatch feeds arbitrary bytes with a valid header to the
// cleaner's batch filter. Invariants: it never panics; whatever it returns
// is a batch whose header parses, whose CRC matches and whose offsets are
// the input's (base offset and lastOffsetDelta unchanged).
func FuzzFilterBatch(f *testing.F) {
	f.Add(kvBatch(0, 1, -1, -1, kv{key: "a", value: "1"}, kv{key: "b", tomb: true}))
	f.Add(kvBatch(0, 1, 5, 0, kv{key: "a", value: "1"}))
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := record.ParseHeader(in)
		if err != nil || h.Size() > int64(len(in)) {
			return
		}
		batch := in[:h.Size()]
		m := &offsetMap{latest: map[keyHash]int64{}, lastOfProd: map[int64]int64{}, tombstoneMax: 10, end: math.MaxInt64}
		m.latest[keyHash{}] = 0
		out, _, err := filterBatch(batch, &h, m, &Options{})
		if err != nil || out == nil {
			return
		}
		oh, err := record.ParseHeader(out)
		if err != nil || oh.Size() != int64(len(out)) {
			t.Fatalf("filtered batch: %v, size %d of %d", err, oh.Size(), len(out))
		}
		if err := record.CheckCRC(out, &oh); err != nil && !bytes.Equal(out, batch) {
			t.Fatalf("filtered batch CRC: %v", err)
		}
		if oh.BaseOffset != h.BaseOffset || oh.LastOffsetDelta != h.LastOffsetDelta {
			t.Fatalf("offsets changed: [%d,+%d] to [%d,+%d]", h.BaseOffset, h.LastOffsetDelta, oh.BaseOffset, oh.LastOffsetDelta)
		}
	})
}
