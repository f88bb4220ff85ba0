package mmapindex

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// The entries a writable index appended are what OffsetEntries and
// TimeEntries read back from the file's bytes, preallocated tail and all,
// with a torn last entry ignored.
func TestEntriesOfFileBytes(t *testing.T) {
	dir := t.TempDir()
	offPath, timePath := filepath.Join(dir, "i"), filepath.Join(dir, "t")
	ox, err := OpenOffset(openFile(t, offPath), 1000, 1024, true)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := OpenTime(openFile(t, timePath), 1000, 1200, true)
	if err != nil {
		t.Fatal(err)
	}
	var wantOff, wantTime [][2]int64
	for i := range int64(20) {
		if err := ox.Append(1001+3*i, 100+50*i); err != nil {
			t.Fatal(err)
		}
		wantOff = append(wantOff, [2]int64{1 + 3*i, 100 + 50*i})
		if _, err := tx.MaybeAppend(5000+10*i, 1001+3*i); err != nil {
			t.Fatal(err)
		}
		wantTime = append(wantTime, [2]int64{5000 + 10*i, 1 + 3*i})
	}
	// Synced, not trimmed: the files keep their zero tails.
	ox.Sync()
	tx.Sync()
	defer ox.Close()
	defer tx.Close()

	collect := func(seq func(func(a, b int64) bool)) [][2]int64 {
		var got [][2]int64
		seq(func(a, b int64) bool {
			got = append(got, [2]int64{a, b})
			return true
		})
		return got
	}
	for _, tc := range []struct {
		name        string
		path        string
		size, esize int
		read        func([]byte) [][2]int64
		want        [][2]int64
	}{
		{"offset", offPath, 1024, OffsetEntrySize, func(b []byte) [][2]int64 { return collect(OffsetEntries(b)) }, wantOff},
		{"time", timePath, 1200, TimeEntrySize, func(b []byte) [][2]int64 { return collect(TimeEntries(b)) }, wantTime},
	} {
		data, err := os.ReadFile(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) != tc.size {
			t.Fatalf("%s index: file of %d bytes, want the preallocated %d", tc.name, len(data), tc.size)
		}
		if got := tc.read(data); !equalEntries(got, tc.want) {
			t.Errorf("%s entries of the preallocated file: %v, want %v", tc.name, got, tc.want)
		}
		// Cut inside the last entry: the torn entry is not read.
		n := len(tc.want)
		if got := tc.read(data[:n*tc.esize-1]); !equalEntries(got, tc.want[:n-1]) {
			t.Errorf("%s entries of a file cut inside its last entry: %v, want %v", tc.name, got, tc.want[:n-1])
		}
		if got := tc.read(nil); len(got) != 0 {
			t.Errorf("%s entries of no bytes: %v", tc.name, got)
		}
	}
	// Stopping early stops the reading.
	seen := 0
	data, _ := os.ReadFile(offPath)
	for rel := range OffsetEntries(data) {
		seen++
		if rel >= 4 {
			break
		}
	}
	if seen != 2 {
		t.Errorf("read %d entries before the break, want 2", seen)
	}
}

// The readers follow the layout the golden tests pin: big-endian, the
// relative offset first in .index, the timestamp first in .timeindex; a
// negative timestamp (NoTimestamp) is read as written.
func TestEntriesLayout(t *testing.T) {
	off := []byte{0, 0, 0, 5, 0, 0, 0x10, 0x68, 0, 0, 0x01, 0x2c, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9}
	var got [][2]int64
	for rel, pos := range OffsetEntries(off) {
		got = append(got, [2]int64{rel, pos})
	}
	if want := [][2]int64{{5, 4200}, {300, 0x01020304}}; !equalEntries(got, want) {
		t.Errorf("OffsetEntries = %v, want %v (stopping at the zero entry)", got, want)
	}
	tb := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, ^uint64(0)), 0)
	tb = binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(tb, 1700000000500), 7)
	got = nil
	for ts, rel := range TimeEntries(tb) {
		got = append(got, [2]int64{ts, rel})
	}
	if want := [][2]int64{{NoTimestamp, 0}, {1700000000500, 7}}; !equalEntries(got, want) {
		t.Errorf("TimeEntries = %v, want %v", got, want)
	}
}

func equalEntries(a, b [][2]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzEntries: reading any bytes as either index never panics; it yields
// at most one entry per whole entry of the input, each the encoding of the
// bytes at its place, and stops only at an all-zero entry or the end.
func FuzzEntries(f *testing.F) {
	f.Add([]byte{0, 0, 0, 5, 0, 0, 0x10, 0x68, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(bytes.Repeat([]byte{0xff}, 25))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, tc := range []struct {
			size int
			seq  func([]byte) func(func(a, b int64) bool)
			enc  func(a, b int64) []byte
		}{
			{OffsetEntrySize, func(b []byte) func(func(a, b int64) bool) { return OffsetEntries(b) }, func(rel, pos int64) []byte {
				return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, uint32(rel)), uint32(pos))
			}},
			{TimeEntrySize, func(b []byte) func(func(a, b int64) bool) { return TimeEntries(b) }, func(ts, rel int64) []byte {
				return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, uint64(ts)), uint32(rel))
			}},
		} {
			n := 0
			tc.seq(b)(func(x, y int64) bool {
				if e := tc.enc(x, y); !bytes.Equal(e, b[n*tc.size:(n+1)*tc.size]) {
					t.Fatalf("entry %d read as (%d, %d), which encodes as %x, not %x", n, x, y, e, b[n*tc.size:(n+1)*tc.size])
				}
				n++
				return true
			})
			if rest := b[n*tc.size:]; len(rest) >= tc.size && !isZero(rest[:tc.size]) {
				t.Fatalf("stopped after %d entries before a nonzero entry %x", n, rest[:tc.size])
			}
		}
	})
}
