package record

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"samsa/record/codec"
	"samsa/internal/testbatch"
	"samsa/logfile"
)

// jsonish returns n bytes that compress like JSON events do (about 3-5x).
func jsonish(rng *rand.Rand, n int) []byte {
	var b []byte
	for len(b) < n {
		b = fmt.Appendf(b, `{"user":%d,"event":"click","page":"/p/%d","ms":%d},`, rng.IntN(1e6), rng.IntN(500), rng.IntN(1e5))
	}
	return b[:n]
}

// BenchmarkValidate measures the produce-side validation of one 1 MiB
// batch of 1 KiB records per codec, in MB/s of records validated (the
// uncompressed size): decompression within the bound plus the record walk.
// none is the baseline in the same run.
func BenchmarkValidate(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	const n = 1024
	plain := testbatch.Make(testbatch.Spec{Records: n, ValueSize: 1000})
	// Give every record a JSON-like value.
	recs := append([]byte(nil), plain[logfile.HeaderSize:]...)
	h0, _ := logfile.ParseHeader(plain)
	vals := jsonish(rng, n*1000)
	for i, off := 0, 0; i < n; i++ {
		// Each record ends with its 1000-byte value and a 0 header count.
		end := recordEnd(recs, off)
		copy(recs[end-1001:end-1], vals[i*1000:(i+1)*1000])
		off = end
	}
	for _, c := range []codec.Codec{codec.None, codec.Gzip, codec.Snappy, codec.LZ4, codec.Zstd} {
		comp, err := codec.Compress(c, nil, recs)
		if err != nil {
			b.Fatal(err)
		}
		batch := append(append([]byte(nil), plain[:logfile.HeaderSize]...), comp...)
		logfile.SetLength(batch, int32(len(batch)-logfile.LogOverhead))
		logfile.SetCodec(batch, int(c))
		logfile.SetCRC(batch)
		h := h0
		h.Length = int32(len(batch) - logfile.LogOverhead)
		h.Attributes = int16(c)
		b.Run(c.String(), func(b *testing.B) {
			b.SetBytes(int64(len(recs)))
			b.ReportAllocs()
			buf := make([]byte, 0, 2<<20)
			for b.Loop() {
				if _, err := logfile.ValidateProduce(batch, 1<<30); err != nil {
					b.Fatal(err)
				}
				inner, err := Inflate(batch, &h, buf, 64<<20)
				if err != nil {
					b.Fatal(err)
				}
				if err := Check(inner, &h, 0, -1, false, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(recs))/float64(len(comp)), "compression-ratio")
		})
	}
}

// recordEnd returns the end of the record starting at off.
func recordEnd(recs []byte, off int) int {
	w := recordWalker{b: recs[off:]}
	l := w.varint()
	return len(recs) - len(w.b) + int(l)
}
