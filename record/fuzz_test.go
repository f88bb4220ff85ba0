package record

import (
	"testing"

	"samsa/record/codec"
	"samsa/internal/testbatch"
	"samsa/logfile"
)

// compressedBatch wraps payload as the records of a batch with codec c and
// count records, with a correct CRC, so validation reaches decompression.
func compressedBatch(c codec.Codec, count int32, payload []byte) []byte {
	b := testbatch.Make(testbatch.Spec{Records: int(count), ValueSize: 1})[:logfile.HeaderSize]
	b = append(b, payload...)
	logfile.SetLength(b, int32(len(b)-logfile.LogOverhead))
	logfile.SetCodec(b, int(c))
	logfile.SetCRC(b)
	return b
}

// FuzzValidateCompressed feeds arbitrary bytes as the compressed records of
// a batch with a valid header and CRC through the checks the broker makes
// on produce (logfile.ValidateProduce, Inflate, Check).
// Invariants: never panics, never inflates past the limit, and a batch it
// accepts has exactly the header's record count of well-framed records
// with offset deltas 0, 1, 2, ...
func FuzzValidateCompressed(f *testing.F) {
	recs := testbatch.Make(testbatch.Spec{Records: 3, ValueSize: 20, Fill: 'z'})[logfile.HeaderSize:]
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
		if _, err := logfile.ValidateProduce(batch, 1<<20); err != nil {
			return
		}
		h, _ := logfile.ParseHeader(batch)
		inner, err := Inflate(batch, &h, nil, limit)
		if err != nil {
			return
		}
		if len(inner) > limit {
			t.Fatalf("inflated to %d bytes past the %d limit", len(inner), limit)
		}
		n := int32(0)
		err = Check(inner, &h, 0, -1, false, func(delta int32, _ int64) bool {
			if delta != n {
				t.Fatalf("record %d has offset delta %d", n, delta)
			}
			n++
			return true
		})
		if err == nil && n != count {
			t.Fatalf("accepted %d records, header says %d", n, count)
		}
	})
}
