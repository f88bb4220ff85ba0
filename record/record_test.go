package record

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"samsa/record/codec"
)

// TestBuilderRoundTrip: a batch built with every codec validates, and its
// records read back as they were given: keys and values (null or not),
// headers, timestamps, offsets, with the header's counts and timestamps.
func TestBuilderRoundTrip(t *testing.T) {
	type in struct {
		ts         int64
		key, value []byte
		headers    []RecordHeader
	}
	recs := []in{
		{1000, []byte("k1"), []byte("v1"), nil},
		{1003, nil, []byte{}, []RecordHeader{{Key: []byte("h"), Value: []byte("hv")}, {Key: []byte{}, Value: nil}}},
		{999, []byte{}, nil, nil},
	}
	for _, c := range []codec.Codec{codec.None, codec.Gzip, codec.Snappy, codec.LZ4, codec.Zstd} {
		t.Run(c.String(), func(t *testing.T) {
			b := NewBuilder(1000)
			b.Header.Attributes = int16(c)
			b.Header.ProducerID, b.Header.ProducerEpoch, b.Header.BaseSequence = 7, 1, 40
			for _, r := range recs {
				b.Add(r.ts, r.key, r.value, r.headers...)
			}
			batch, err := b.AppendTo([]byte("prefix"))
			if err != nil {
				t.Fatal(err)
			}
			batch = batch[len("prefix"):]
			bs, err := ValidateProduce(batch, 1<<20, false)
			if err != nil || bs.Count != 1 || bs.Records != 3 || bs.MaxTimestamp != 1003 {
				t.Fatalf("ValidateProduce: %+v, %v", bs, err)
			}
			h, _ := ParseHeader(batch)
			if h.Codec() != int(c) || h.FirstTimestamp != 1000 || h.LastOffsetDelta != 2 || h.ProducerID != 7 || h.ProducerEpoch != 1 || h.BaseSequence != 40 {
				t.Fatalf("header %+v", h)
			}
			inner, err := Inflate(batch, &h, nil, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if err := Check(inner, &h, 1000, 10, false); err != nil {
				t.Fatal(err)
			}
			it := NewIter(inner, h.RecordCount)
			for i := 0; it.Next(); i++ {
				r, want := it.Record(), recs[i]
				var hs []RecordHeader
				for k, v := range r.Headers() {
					hs = append(hs, RecordHeader{k, v})
				}
				if r.Offset(&h) != int64(i) || r.Timestamp(&h) != want.ts || !sameBytes(r.Key, want.key) || !sameBytes(r.Value, want.value) || fmt.Sprint(hs) != fmt.Sprint(want.headers) {
					t.Fatalf("record %d: %+v (headers %q), want %+v", i, r, hs, want)
				}
				if i == 1 && !sameBytes(hs[1].Key, []byte{}) || i == 1 && hs[1].Value != nil {
					t.Fatalf("record 1's second header %q: want an empty key and a null value", hs[1])
				}
			}
			if it.Err() != nil || len(it.Rest()) != 0 {
				t.Fatalf("iteration: %v, %d bytes left", it.Err(), len(it.Rest()))
			}
		})
	}
}

// TestBuilderRewrite: copying some records of a batch into a builder with
// the batch's header (as compaction and recompression do) keeps the
// header's offsets and producer fields and drops the codec of an empty
// batch.
func TestBuilderRewrite(t *testing.T) {
	src := NewBuilder(5)
	src.Header.Attributes = int16(codec.Gzip)
	src.Header.ProducerID, src.Header.BaseSequence, src.Header.ProducerEpoch = 3, 9, 0
	for i := range 4 {
		src.Add(5+int64(i), []byte{byte('a' + i)}, []byte("v"))
	}
	batch, err := src.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := ParseHeader(batch)
	recs, err := Inflate(batch, &h, nil, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	keep := NewBuilder(0)
	keep.Header = h
	drop := keep
	for it := NewIter(recs, h.RecordCount); it.Next(); {
		if r := it.Record(); r.OffsetDelta%2 == 1 {
			keep.AddEncoded(r.Raw, 1)
		}
	}
	out, err := keep.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	oh, err := ParseHeader(out)
	if err != nil || CheckCRC(out, &oh) != nil {
		t.Fatalf("rewritten batch: %v", err)
	}
	if oh.RecordCount != 2 || oh.LastOffsetDelta != 3 || oh.Codec() != int(codec.Gzip) || oh.ProducerID != 3 || oh.BaseSequence != 9 {
		t.Fatalf("rewritten header %+v", oh)
	}
	inner, _ := Inflate(out, &oh, nil, 1<<20)
	var keys []string
	for it := NewIter(inner, oh.RecordCount); it.Next(); {
		keys = append(keys, fmt.Sprint(it.Record().OffsetDelta, string(it.Record().Key)))
	}
	if fmt.Sprint(keys) != "[1b 3d]" {
		t.Fatalf("kept %v", keys)
	}
	empty, err := drop.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	eh, _ := ParseHeader(empty)
	if eh.RecordCount != 0 || eh.Codec() != 0 || eh.Size() != HeaderSize || CheckCRC(empty, &eh) != nil {
		t.Fatalf("empty rewrite %+v", eh)
	}
}

// TestCheckErrors: each way records can disagree with their header gives
// its error.
func TestCheckErrors(t *testing.T) {
	build := func(n int, key []byte, ts func(i int) int64) ([]byte, Header) {
		b := NewBuilder(1000)
		for i := range n {
			b.Add(ts(i), key, []byte("value"))
		}
		batch, _ := b.AppendTo(nil)
		h, _ := ParseHeader(batch)
		return batch[HeaderSize:], h
	}
	same := func(int) int64 { return 1000 }
	recs, h := build(3, []byte("k"), same)
	short := h
	short.RecordCount = 2
	long := h
	long.RecordCount = 4
	gap := NewBuilder(1000)
	gap.Add(1000, nil, nil)
	gap.AddEncoded(gap.records, 1) // offset delta 0 again
	nokey, nh := build(2, nil, same)
	late, lh := build(2, nil, func(i int) int64 { return 1000 + int64(i)*50 })
	cut := append([]byte(nil), recs[:len(recs)-1]...)
	for name, tc := range map[string]struct {
		recs       []byte
		h          Header
		requireKey bool
		want       error
	}{
		"ok":              {recs, h, true, nil},
		"trailing bytes":  {recs, short, false, ErrFraming},
		"missing record":  {recs, long, false, ErrFraming},
		"truncated":       {cut, h, false, ErrFraming},
		"offset delta":    {gap.records, Header{RecordCount: 2, FirstTimestamp: 1000}, false, ErrFraming},
		"no key":          {nokey, nh, true, ErrNoKey},
		"no key accepted": {nokey, nh, false, nil},
		"timestamp":       {late, lh, false, ErrTimestamp},
	} {
		t.Run(name, func(t *testing.T) {
			if err := Check(tc.recs, &tc.h, 1000, 10, tc.requireKey); !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestBatchesSetters: base offsets are stamped consecutively outside the
// CRC and the next offset returned; leader epochs and LogAppendTime change
// the bytes and the carried headers alike, so every carried header equals
// the one its bytes parse to.
func TestBatchesSetters(t *testing.T) {
	var buf []byte
	for _, n := range []int{3, 1, 2} {
		b := NewBuilder(0)
		for range n {
			b.Add(0, nil, []byte("x"))
		}
		buf, _ = b.AppendTo(buf)
	}
	bs, err := ValidateProduce(buf, 1<<20, false)
	if err != nil || bs.Count != 3 {
		t.Fatalf("ValidateProduce: %d batches, %v", bs.Count, err)
	}
	if _, err := ValidateProduce(buf, 1<<20, true); !errors.Is(err, ErrNotOneBatch) {
		t.Fatalf("one-batch validation of 3 batches: %v, want ErrNotOneBatch", err)
	}
	if next := bs.AssignOffsets(100); next != 106 {
		t.Fatalf("next %d, want 106", next)
	}
	bs.SetLeaderEpoch(7)
	i := 0
	for _, batch := range bs.All() {
		if i == 1 {
			bs.SetLogAppendTime(i, batch, 5000)
		}
		i++
	}
	if bs.MaxTimestamp != 5000 {
		t.Fatalf("MaxTimestamp %d, want 5000", bs.MaxTimestamp)
	}
	var bases []int64
	i = 0
	for p := buf; len(p) > 0; i++ {
		h, err := ParseHeader(p)
		if err != nil || CheckCRC(p, &h) != nil {
			t.Fatal(err)
		}
		if *bs.Header(i) != h {
			t.Fatalf("batch %d: carried header %+v, bytes say %+v", i, *bs.Header(i), h)
		}
		if h.LeaderEpoch != 7 {
			t.Fatalf("batch %d: leader epoch %d", i, h.LeaderEpoch)
		}
		bases = append(bases, h.BaseOffset)
		p = p[h.Size():]
	}
	if fmt.Sprint(bases) != "[100 103 104]" {
		t.Fatalf("bases %v", bases)
	}
	if !bytes.Equal(buf[:8], []byte{0, 0, 0, 0, 0, 0, 0, 100}) {
		t.Fatalf("first base offset bytes % x", buf[:8])
	}
	if h := bs.Header(1); h.Attributes&AttrLogAppendTime == 0 || h.FirstTimestamp != 5000 {
		t.Fatalf("LogAppendTime batch header %+v", *h)
	}
}

// TestCheckRecordErrors: records refused one by one (KIP-467) are all
// named with their index in the batch, a key error before a timestamp
// error for the same record, and framing stays a batch error; a batch
// Check accepts costs no allocation.
func TestCheckRecordErrors(t *testing.T) {
	b := NewBuilder(1000)
	b.Add(1000, []byte("k"), nil)        // 0: fine
	b.Add(1000, nil, nil)                // 1: no key
	b.Add(5000, []byte("k"), nil)        // 2: late
	b.Add(5000, nil, nil)                // 3: no key and late: the key is named
	b.Add(NoTimestamp, []byte("k"), nil) // 4: no timestamp: never out of range
	batch, _ := b.AppendTo(nil)
	h, _ := ParseHeader(batch)
	err := Check(batch[HeaderSize:], &h, 1000, 10, true)
	var re *RecordsError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want a *RecordsError", err)
	}
	got := fmt.Sprint(re.Records)
	want := fmt.Sprint([]RecordError{
		{1, 1, 1000, ErrNoKey}, {2, 2, 5000, ErrTimestamp}, {3, 3, 5000, ErrNoKey},
	})
	if got != want {
		t.Fatalf("record errors\n got %s\nwant %s", got, want)
	}
	if !errors.Is(err, ErrTimestamp) || !errors.Is(err, ErrNoKey) || errors.Is(err, ErrFraming) {
		t.Fatalf("errors.Is on %v", err)
	}
	if err := Check(batch[HeaderSize:], &h, 1000, 10_000, false); err != nil {
		t.Fatalf("lenient check: %v", err)
	}

	// A framing error anywhere refuses the batch as a whole.
	cut := batch[HeaderSize : len(batch)-1]
	if err := Check(cut, &h, 1000, 10, true); !errors.Is(err, ErrFraming) || errors.As(err, &re) {
		t.Fatalf("truncated: %v", err)
	}

	ok := NewBuilder(1000)
	for range 100 {
		ok.Add(1000, []byte("k"), []byte("v"))
	}
	okBatch, _ := ok.AppendTo(nil)
	oh, _ := ParseHeader(okBatch)
	if a := testing.AllocsPerRun(100, func() {
		if Check(okBatch[HeaderSize:], &oh, 1000, 10, true) != nil {
			t.Fatal("refused")
		}
	}); a != 0 {
		t.Fatalf("%v allocations per accepted batch", a)
	}
}
