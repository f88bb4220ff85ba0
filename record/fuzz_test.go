package record

import (
	"bytes"
	"testing"

	"samsa/record/codec"
)

// compressedBatch wraps payload as the records of a batch with codec c and
// count records, with a correct CRC, so validation reaches decompression.
func compressedBatch(c codec.Codec, count int32, payload []byte) []byte {
	b := NewBuilder(0)
	b.Header.LastOffsetDelta, b.Header.MaxTimestamp = count-1, int64(count-1)
	b.AddEncoded(payload, count)
	batch, _ := b.AppendTo(nil)
	SetCodec(batch, int(c))
	SetCRC(batch)
	return batch
}

// threeRecords is the records region of a batch of three 20-byte values.
func threeRecords() []byte {
	b := NewBuilder(0)
	for i := range 3 {
		b.Add(int64(i), nil, bytes.Repeat([]byte{'z'}, 20))
	}
	return b.records
}

// FuzzValidateCompressed feeds arbitrary bytes as the compressed records of
// a batch with a valid header and CRC through the checks the broker makes
// on produce (ValidateProduce, Inflate, Check).
// Invariants: never panics, never inflates past the limit, and a batch it
// accepts has exactly the header's record count of well-framed records
// with offset deltas 0, 1, 2, ...
func FuzzValidateCompressed(f *testing.F) {
	recs := threeRecords()
	for _, c := range []codec.Codec{codec.None, codec.Gzip, codec.Snappy, codec.LZ4, codec.Zstd} {
		comp, _ := codec.Compress(c, nil, recs)
		f.Add(byte(c), int32(3), comp)
		f.Add(byte(c), int32(2), comp)
		f.Add(byte(c), int32(3), comp[:len(comp)/2])
	}
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, c byte, count int32, payload []byte) {
		if count < 1 || count > 1<<16 {
			return
		}
		batch := compressedBatch(codec.Codec(c&7), count, payload)
		if _, err := ValidateProduce(batch, 1<<20, false); err != nil {
			return
		}
		h, _ := ParseHeader(batch)
		inner, err := Inflate(batch, &h, nil, limit)
		if err != nil {
			return
		}
		if len(inner) > limit {
			t.Fatalf("inflated to %d bytes past the %d limit", len(inner), limit)
		}
		if Check(inner, &h, 0, -1, false) != nil {
			return
		}
		n := int32(0)
		for it := NewIter(inner, h.RecordCount); it.Next(); n++ {
			if delta := it.Record().OffsetDelta; delta != n {
				t.Fatalf("record %d has offset delta %d", n, delta)
			}
		}
		if n != count {
			t.Fatalf("accepted %d records, header says %d", n, count)
		}
	})
}

// FuzzIter feeds arbitrary bytes to the record walker as a records region.
// Invariants: never panics; every record it yields lies within the input,
// its Raw framing it exactly; the records it accepts, rebuilt with Builder
// from their fields, read back with the same fields (Builder and Iter
// agree), and Rest is what follows them.
func FuzzIter(f *testing.F) {
	f.Add(threeRecords(), int32(3))
	f.Add(threeRecords(), int32(4))
	b := NewBuilder(10)
	b.Add(12, []byte("k"), nil, RecordHeader{Key: []byte("h"), Value: []byte("v")}, RecordHeader{Key: []byte{}})
	f.Add(b.records, int32(1))
	f.Fuzz(func(t *testing.T, in []byte, count int32) {
		var got []Record
		consumed := 0
		it := NewIter(in, count)
		for it.Next() {
			r := *it.Record()
			if !bytes.Equal(in[consumed:consumed+len(r.Raw)], r.Raw) {
				t.Fatalf("record %d: Raw is not the next %d bytes of the input", len(got), len(r.Raw))
			}
			consumed += len(r.Raw)
			got = append(got, r)
		}
		if it.Err() == nil && len(it.Rest()) != len(in)-consumed {
			t.Fatalf("rest %d bytes, want %d", len(it.Rest()), len(in)-consumed)
		}
		if len(got) == 0 {
			return
		}
		rb := NewBuilder(0)
		for _, r := range got {
			var hs []RecordHeader
			for k, v := range r.Headers() {
				hs = append(hs, RecordHeader{k, v})
			}
			rb.Add(r.TimestampDelta, r.Key, r.Value, hs...)
		}
		again := NewIter(rb.records, rb.Len())
		for i := 0; again.Next(); i++ {
			a, r := again.Record(), &got[i]
			if a.TimestampDelta != r.TimestampDelta || a.OffsetDelta != int32(i) || !sameBytes(a.Key, r.Key) || !sameBytes(a.Value, r.Value) || a.NumHeaders != r.NumHeaders {
				t.Fatalf("record %d does not round-trip: %+v, was %+v", i, a, r)
			}
		}
		if again.Err() != nil || len(again.Rest()) != 0 {
			t.Fatalf("rebuilt records do not re-read: %v, %d bytes left", again.Err(), len(again.Rest()))
		}
	})
}

// sameBytes is bytes.Equal that tells null from empty.
func sameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

// FuzzEndTxnMarker feeds arbitrary bytes, with the control bit set, to the
// marker reader as a control batch's records. Invariants: never panics;
// a marker it accepts, written again with AppendEndTxnMarker, reads back
// the same.
func FuzzEndTxnMarker(f *testing.F) {
	good := AppendEndTxnMarker(nil, 1, 0, EndTxnMarker{Type: ControlAbort, CoordinatorEpoch: 9}, 5)
	f.Add(good[HeaderSize:], int32(1))
	f.Add([]byte{0x0a, 0, 0, 0, 0x08, 0, 0, 0, 1, 0x01, 0}, int32(1))
	f.Fuzz(func(t *testing.T, recs []byte, count int32) {
		b := NewBuilder(5)
		b.Header.Attributes = AttrControl | AttrTransactional
		b.AddEncoded(recs, count)
		batch, err := b.AppendTo(nil)
		if err != nil {
			return
		}
		h, err := ParseHeader(batch)
		if err != nil {
			return
		}
		m, ok, err := ParseEndTxnMarker(batch, &h)
		if err != nil || !ok {
			return
		}
		again := AppendEndTxnMarker(nil, 1, 0, m, 5)
		ha, _ := ParseHeader(again)
		if m2, ok, err := ParseEndTxnMarker(again, &ha); err != nil || !ok || m2 != m {
			t.Fatalf("marker %+v re-reads as %+v, %v, %v", m, m2, ok, err)
		}
	})
}
