package record

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"samsa/record/codec"
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
	vals := jsonish(rng, n*1000)
	for _, c := range []codec.Codec{codec.None, codec.Gzip, codec.Snappy, codec.LZ4, codec.Zstd} {
		// Every record has a JSON-like value.
		bb := NewBuilder(0)
		for i := range n {
			bb.Add(int64(i), nil, vals[i*1000:(i+1)*1000])
		}
		recs := bb.records
		bb.Header.Attributes = int16(c)
		batch, err := bb.AppendTo(nil)
		if err != nil {
			b.Fatal(err)
		}
		h, err := ParseHeader(batch)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.String(), func(b *testing.B) {
			b.SetBytes(int64(len(recs)))
			b.ReportAllocs()
			buf := make([]byte, 0, 2<<20)
			for b.Loop() {
				if _, err := ValidateProduce(batch, 1<<30, false); err != nil {
					b.Fatal(err)
				}
				inner, err := Inflate(batch, &h, buf, 64<<20)
				if err != nil {
					b.Fatal(err)
				}
				if err := Check(inner, &h, 0, -1, false); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(recs))/float64(len(batch)-HeaderSize), "compression-ratio")
		})
	}
}
