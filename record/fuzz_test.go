package record

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
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

// checkWithIter is Check as a plain walk with Iter, the way it was first
// written: the reference FuzzCheck holds Check to.
func checkWithIter(records []byte, h *Header, now, maxTsDiff int64, requireKey bool) error {
	checkTs := maxTsDiff >= 0 && h.Attributes&AttrLogAppendTime == 0
	var refused []RecordError
	it := NewIter(records, h.RecordCount)
	for i := int32(0); it.Next(); i++ {
		r := it.Record()
		if r.OffsetDelta != i {
			return fmt.Errorf("%w: record %d has offset delta %d", ErrFraming, i, r.OffsetDelta)
		}
		if requireKey && r.Key == nil {
			refused = append(refused, RecordError{Index: i, Offset: r.Offset(h), Timestamp: r.Timestamp(h), Err: ErrNoKey})
		} else if ts := h.FirstTimestamp + r.TimestampDelta; checkTs && ts != NoTimestamp && (ts-now > maxTsDiff || now-ts > maxTsDiff) {
			refused = append(refused, RecordError{Index: i, Offset: r.Offset(h), Timestamp: ts, Err: ErrTimestamp})
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	if rest := it.Rest(); len(rest) != 0 {
		return fmt.Errorf("%w: %d bytes after the last record", ErrFraming, len(rest))
	}
	if refused != nil {
		return &RecordsError{Records: refused}
	}
	return nil
}

// FuzzCheck feeds arbitrary records regions, counts and settings to Check
// and to checkWithIter, a plain walk with Iter.
// Invariants: never panics; both give the same answer, to the error's
// words and the records a *RecordsError names, so Check's fast walk
// (skim.records) accepts nothing Iter would refuse and refuses nothing
// Iter would accept.
func FuzzCheck(f *testing.F) {
	add := func(b Builder, now, maxTsDiff int64, requireKey bool) {
		f.Add(b.records, b.n, b.Header.FirstTimestamp, now, maxTsDiff, requireKey, false)
	}
	plain := NewBuilder(1000)
	for i := range 70 { // offset deltas past one byte
		plain.Add(1000+int64(i), nil, bytes.Repeat([]byte{'v'}, i%5))
	}
	add(plain, 1000, -1, false)
	add(plain, 1100, 50, false)
	mixed := NewBuilder(1000)
	mixed.Add(1000, []byte("k"), []byte("v"), RecordHeader{Key: []byte("h"), Value: nil}, RecordHeader{Key: []byte{}, Value: []byte("x")})
	mixed.Add(NoTimestamp, nil, nil)
	mixed.Add(900, []byte{}, bytes.Repeat([]byte{'w'}, 300))
	mixed.Add(5000, []byte("k"), []byte{})
	add(mixed, 1000, 10, true)
	add(mixed, 1000, 10, false)
	f.Add(plain.records[:len(plain.records)-3], int32(70), int64(1000), int64(1000), int64(-1), false, false)
	f.Add([]byte{0x02, 0x00, 0x00, 0x80, 0x00, 0x01, 0x01, 0x00}, int32(1), int64(0), int64(0), int64(-1), false, true)
	f.Fuzz(func(t *testing.T, recs []byte, count int32, first, now, maxTsDiff int64, requireKey, logAppendTime bool) {
		h := Header{BaseOffset: 100, RecordCount: count, FirstTimestamp: first, MaxTimestamp: first + 7}
		if logAppendTime {
			h.Attributes |= AttrLogAppendTime
		}
		got := Check(recs, &h, now, maxTsDiff, requireKey)
		want := checkWithIter(recs, &h, now, maxTsDiff, requireKey)
		if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
			t.Fatalf("Check: %v\nIter:  %v", got, want)
		}
		var gre, wre *RecordsError
		if errors.As(got, &gre) != errors.As(want, &wre) || gre != nil && !slices.Equal(gre.Records, wre.Records) {
			t.Fatalf("records refused: Check %+v, Iter %+v", gre, wre)
		}
	})
}

// recordAt is the index of the record of a valid region that holds byte pos.
func recordAt(recs []byte, pos int) int {
	it := NewIter(recs, 1<<20)
	for i := 0; it.Next(); i++ {
		if pos < len(recs)-len(it.Rest()) {
			return i
		}
	}
	return -1
}

// TestCheckAgreesWithIter is FuzzCheck made exhaustive where the bugs of
// a fast walk would hide: in a few record regions (plain records, headers,
// null and empty keys and values, one- to three-byte varints), each byte
// of the records that differ (the first ones, those around offset delta
// 64, where it takes a second byte, the last one, and where a long key and
// value meet) replaced by each of the 256 values, and cut there, checked
// by Check and checkWithIter, with and without the per-record rules.
func TestCheckAgreesWithIter(t *testing.T) {
	plain := NewBuilder(1000)
	for i := range 70 {
		plain.Add(1000+int64(i), nil, bytes.Repeat([]byte{'v'}, i%5))
	}
	mixed := NewBuilder(1000)
	mixed.Add(1000, []byte("k"), []byte("v"), RecordHeader{Key: []byte("h"), Value: nil}, RecordHeader{Key: []byte{}, Value: []byte("x")})
	mixed.Add(NoTimestamp, nil, nil)
	mixed.Add(900, []byte{}, bytes.Repeat([]byte{'w'}, 70))
	mixed.Add(5000, []byte("k"), []byte{})
	big := NewBuilder(1000)
	big.Add(1000, bytes.Repeat([]byte{'k'}, 9000), bytes.Repeat([]byte{'v'}, 20000))
	big.Add(1001, nil, []byte("v"))
	for _, seed := range []struct {
		name   string
		b      Builder
		mutate func(pos int, recs []byte) bool
	}{
		{"plain", plain, func(pos int, recs []byte) bool {
			r := recordAt(recs, pos)
			return r <= 1 || r == 63 || r == 64 || r == 69
		}},
		{"mixed", mixed, func(int, []byte) bool { return true }},
		{"big", big, func(pos int, recs []byte) bool {
			return pos < 16 || pos >= 9000 && pos < 9016 || pos >= len(recs)-24
		}},
	} {
		t.Run(seed.name, func(t *testing.T) {
			recs, n := seed.b.records, seed.b.n
			agree := func(recs []byte, what func() string) {
				for _, rules := range []struct {
					maxTsDiff  int64
					requireKey bool
				}{{-1, false}, {50, true}} {
					h := Header{BaseOffset: 7, RecordCount: n, FirstTimestamp: 1000, MaxTimestamp: 5000}
					got := Check(recs, &h, 1000, rules.maxTsDiff, rules.requireKey)
					want := checkWithIter(recs, &h, 1000, rules.maxTsDiff, rules.requireKey)
					if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
						t.Fatalf("%s, rules %+v:\nCheck: %v\nIter:  %v", what(), rules, got, want)
					}
					var gre, wre *RecordsError
					if errors.As(got, &gre) && errors.As(want, &wre) && !slices.Equal(gre.Records, wre.Records) {
						t.Fatalf("%s, rules %+v: records refused: Check %v, Iter %v", what(), rules, gre.Records, wre.Records)
					}
				}
			}
			agree(recs, func() string { return "as built" })
			mut := bytes.Clone(recs)
			for i := range mut {
				if !seed.mutate(i, recs) {
					continue
				}
				for v := range 256 {
					mut[i] = byte(v)
					agree(mut, func() string { return fmt.Sprintf("byte %d = %#x", i, v) })
				}
				mut[i] = recs[i]
			}
			for i := range recs {
				if seed.mutate(i, recs) {
					agree(recs[:i], func() string { return fmt.Sprintf("first %d bytes", i) })
				}
			}
		})
	}
}
