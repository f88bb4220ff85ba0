package fuzz

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"samsa/internal/testbatch"
)

var writeSeeds = flag.Bool("write-seeds", false, "regenerate testdata/fuzz seed corpora")

// seeds returns the seed inputs of each target, as Go values.
func seeds() map[string][][]any {
	idx := func(pairs ...int32) []byte {
		var b []byte
		for _, p := range pairs {
			b = binary.BigEndian.AppendUint32(b, uint32(p))
		}
		return b
	}
	tidx := func(entries ...int64) []byte {
		var b []byte
		for i := 0; i+1 < len(entries); i += 2 {
			b = binary.BigEndian.AppendUint64(b, uint64(entries[i]))
			b = binary.BigEndian.AppendUint32(b, uint32(entries[i+1]))
		}
		return b
	}
	valid, _ := validLog()
	one := testbatch.Make(testbatch.Spec{Records: 3, ValueSize: 20, Fill: 'x', Timestamp: 1700000000000})
	two := append(append([]byte(nil), one...), testbatch.Make(testbatch.Spec{Records: 1, ValueSize: 0, Key: []byte("k")})...)
	badCRC := append([]byte(nil), one...)
	badCRC[len(badCRC)-1] ^= 1
	return map[string][][]any{
		"FuzzOffsetIndex": {
			{[]byte{}, int64(1000)},
			{idx(1, 100, 5, 900, 9, 4200), int64(1006)},
			{append(idx(1, 100, 5, 900), make([]byte, 32)...), int64(2000)},
			{idx(5, 100, 1, 900), int64(1003)},
			{idx(1, 100, 0, 0, 5, 900), int64(1001)},
			{[]byte{0, 0, 0, 1, 0, 0, 0}, int64(0)},
		},
		"FuzzTimeIndex": {
			{[]byte{}, int64(5)},
			{tidx(1700000000000, 0, 1700000000500, 7), int64(1700000000400)},
			{tidx(10, 3, 5, 9), int64(7)},
			{append(tidx(10, 3), make([]byte, 24)...), int64(100)},
			// The lone (NoTimestamp, base) entry that older Samsa wrote
			// when it closed an empty segment.
			{tidx(-1, 0), int64(0)},
		},
		"FuzzRecoverTail": {
			{[]byte{}},
			{one},
			{one[:len(one)-1]},
			{one[:30]},
			{badCRC},
			{[]byte(strings.Repeat("\xff", 70))},
			{valid[:61]},
		},
		"FuzzCloseReopen": {
			// A new log closed empty: its segment's time index took a
			// (NoTimestamp, base) entry at close that the clean reopen
			// rejected and rebuilt (the 60-empty-partition restart).
			{[]byte{}},
			// Appends, then a roll: an empty active segment at close.
			{[]byte{2, 3, 0x12, 0}},
			// Batches without timestamps only, across a roll.
			{[]byte{0x42, 0x43, 0x4a, 0, 0x42}},
			// Falling timestamps, a full time index, rolls and a truncation
			// back into the first segment.
			{[]byte{2, 0x82, 0x83, 0x8a, 0x92, 0x9a, 0xa2, 0xaa, 0xb2, 0xba, 0, 3, 0x1b, 1, 0x19, 2}},
			// Truncation of everything appended: an empty segment again.
			{[]byte{2, 1, 0x19}},
		},
		"FuzzValidateProduce": {
			{one},
			{two},
			{badCRC},
			{one[:60]},
			{append(append([]byte(nil), one...), 0)},
			{valid},
		},
	}
}

// TestWriteSeeds regenerates the committed corpora with -write-seeds, and
// otherwise checks that they are all there.
func TestWriteSeeds(t *testing.T) {
	for target, inputs := range seeds() {
		dir := filepath.Join("testdata", "fuzz", target)
		for i, in := range inputs {
			var b strings.Builder
			b.WriteString("go test fuzz v1\n")
			for _, v := range in {
				switch v := v.(type) {
				case []byte:
					fmt.Fprintf(&b, "[]byte(%q)\n", v)
				case int64:
					fmt.Fprintf(&b, "int64(%d)\n", v)
				}
			}
			path := filepath.Join(dir, fmt.Sprintf("seed-%02d", i))
			if *writeSeeds {
				os.MkdirAll(dir, 0o755)
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if got, err := os.ReadFile(path); err != nil || string(got) != b.String() {
				t.Errorf("seed %s missing or stale (run with -write-seeds): %v", path, err)
			}
		}
	}
}
