package record

import (
	"encoding/binary"
	"testing"
	"time"
)

// checkBatch is one uncompressed batch of about 1 MiB of records with
// values of size bytes and null keys, as a producer lingering a few
// milliseconds sends them: record timestamps a few ms apart at most (one-
// or two-byte deltas), offset deltas growing to thousands (up to three bytes).
func checkBatch(size int) ([]byte, Header) {
	const first = int64(1_700_000_000_000)
	val := make([]byte, size)
	for i := range val {
		val[i] = byte('a' + i%26)
	}
	b := NewBuilder(first)
	for i := 0; len(b.records) < 1<<20; i++ {
		b.Add(first+int64(i/128), nil, val)
	}
	batch, _ := b.AppendTo(nil)
	h, _ := ParseHeader(batch)
	return batch, h
}

// skipSink keeps the floors' results alive.
var skipSink int

// skipRecords is the floor of any per-record walk: each record's length
// varint read and the record skipped, nothing else checked. It returns
// the records it skipped, -1 on a bad length.
func skipRecords(recs []byte) int {
	n := 0
	for len(recs) > 0 {
		l, k := binary.Varint(recs)
		if k <= 0 || l < 0 || l > int64(len(recs)-k) {
			return -1
		}
		recs = recs[k+int(l):]
		n++
	}
	return n
}

// skipRecordsInline is skipRecords with the length read inline (one or
// two bytes, else encoding/binary): the floor without a call per record.
func skipRecordsInline(recs []byte) int {
	n, pos := 0, 0
	for pos < len(recs) {
		var z uint64
		p := pos
		if c := recs[p]; c < 0x80 {
			z, p = uint64(c), p+1
		} else if p+1 < len(recs) && recs[p+1] < 0x80 {
			z, p = uint64(c&0x7f)|uint64(recs[p+1])<<7, p+2
		} else {
			u, k := binary.Uvarint(recs[p:])
			if k <= 0 {
				return -1
			}
			z, p = u, p+k
		}
		if z&1 != 0 || z>>1 > uint64(len(recs)-p) {
			return -1 // a negative length, or past the records
		}
		pos = p + int(z>>1)
		n++
	}
	return n
}

// BenchmarkCheck measures the per-record check of an uncompressed batch
// of about 1 MiB (Check, as validate.Produce drives it) for records of
// 100 B and 1 KiB, beside its floor in the same run. check runs the
// default topic (no timestamp bound, keys optional); strict bounds the
// timestamps and requires keys, on the same records with a one-byte key;
// validate adds ValidateProduce (header and CRC-32C) before Check: what
// the produce path pays per uncompressed batch in all. After each loop,
// with the timer stopped, the floors walk the same bytes as many times:
// x-floor is the check's time over skipRecords', x-floor-inline over
// skipRecordsInline's. floor and floor-inline time them alone (and give
// bench/instructions.sh a function to count).
func BenchmarkCheck(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"100B", 100}, {"1KiB", 1024}} {
		batch, h := checkBatch(size.n)
		recs := batch[HeaderSize:]
		now := h.FirstTimestamp
		if skipRecords(recs) != int(h.RecordCount) || skipRecordsInline(recs) != int(h.RecordCount) {
			b.Fatal("a floor does not walk the batch")
		}
		keyed := NewBuilder(now)
		for it := NewIter(recs, h.RecordCount); it.Next(); {
			keyed.Add(it.Record().Timestamp(&h), []byte{'k'}, it.Record().Value)
		}
		kbatch, _ := keyed.AppendTo(nil)
		kh, _ := ParseHeader(kbatch)
		for _, v := range []struct {
			name  string
			recs  []byte
			h     *Header
			check func() error
		}{
			{"floor", recs, &h, func() error { skipSink += skipRecords(recs); return nil }},
			{"floor-inline", recs, &h, func() error { skipSink += skipRecordsInline(recs); return nil }},
			{"check", recs, &h, func() error { return Check(recs, &h, now, -1, false) }},
			{"strict", kbatch[HeaderSize:], &kh, func() error { return Check(kbatch[HeaderSize:], &kh, now, 3_600_000, true) }},
			{"validate", recs, &h, func() error {
				if _, err := ValidateProduce(batch, 1<<30, true); err != nil {
					return err
				}
				return Check(recs, &h, now, -1, false)
			}},
		} {
			b.Run(size.name+"/"+v.name, func(b *testing.B) {
				b.SetBytes(int64(len(v.recs)))
				b.ReportAllocs()
				for b.Loop() {
					if err := v.check(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(v.h.RecordCount), "ns/record")
				if v.name == "floor" || v.name == "floor-inline" {
					return
				}
				start := time.Now()
				for range b.N {
					skipSink += skipRecords(v.recs)
				}
				floor := time.Since(start)
				start = time.Now()
				for range b.N {
					skipSink += skipRecordsInline(v.recs)
				}
				b.ReportMetric(float64(b.Elapsed())/float64(floor), "x-floor")
				b.ReportMetric(float64(b.Elapsed())/float64(time.Since(start)), "x-floor-inline")
			})
		}
	}
}
