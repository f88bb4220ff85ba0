package mmapindex

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"samsa/logfile/vfs"
)

func openFile(t testing.TB, path string) vfs.File {
	t.Helper()
	f, err := vfs.OS.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestOffsetIndexAppendLookup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "00000000000000000100.index")
	x, err := OpenOffset(openFile(t, path), 100, 1024, true)
	if err != nil {
		t.Fatal(err)
	}
	if x.MaxEntries() != 128 {
		t.Fatalf("MaxEntries = %d, want 128", x.MaxEntries())
	}
	// Entries: offset 100+10i -> position 1000i, i = 1..20.
	for i := int64(1); i <= 20; i++ {
		if err := x.Append(100+10*i, 1000*i); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		target, off, pos int64
	}{
		{0, 100, 0}, {100, 100, 0}, {109, 100, 0}, {110, 110, 1000}, {111, 110, 1000},
		{199, 190, 9000}, {200, 200, 10000}, {300, 300, 20000}, {1 << 40, 300, 20000},
	} {
		off, pos := x.Lookup(tc.target)
		if off != tc.off || pos != tc.pos {
			t.Errorf("Lookup(%d) = (%d, %d), want (%d, %d)", tc.target, off, pos, tc.off, tc.pos)
		}
	}
	for _, tc := range []struct{ pos, off, epos int64 }{
		{0, 100, 0}, {999, 100, 0}, {1000, 110, 1000}, {1500, 110, 1000}, {50000, 300, 20000},
	} {
		off, pos := x.LookupPosition(tc.pos)
		if off != tc.off || pos != tc.epos {
			t.Errorf("LookupPosition(%d) = (%d, %d), want (%d, %d)", tc.pos, off, pos, tc.off, tc.epos)
		}
	}
	if err := x.Append(300, 30000); !errors.Is(err, ErrNotIncreasing) {
		t.Errorf("append of equal offset: %v, want ErrNotIncreasing", err)
	}
	if err := x.Append(310, 20000); !errors.Is(err, ErrNotIncreasing) {
		t.Errorf("append of equal position: %v, want ErrNotIncreasing", err)
	}
	if err := x.Append(100+1<<31, 30000); !errors.Is(err, ErrNotIncreasing) {
		t.Errorf("append of relative offset past int32: %v", err)
	}

	if err := x.TruncateTo(155); err != nil {
		t.Fatal(err)
	}
	if x.Len() != 5 {
		t.Fatalf("after TruncateTo(155) Len = %d, want 5", x.Len())
	}
	if off, _ := x.Lookup(1000); off != 150 {
		t.Fatalf("after truncate Lookup = %d, want 150", off)
	}
	if err := x.Trim(); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	// The file keeps the peak entry count with zeros after the valid prefix;
	// reopening finds exactly the 5 entries.
	fi, _ := os.Stat(path)
	if fi.Size() != 20*OffsetEntrySize {
		t.Fatalf("trimmed size %d, want %d", fi.Size(), 20*OffsetEntrySize)
	}
	y, err := OpenOffset(openFile(t, path), 100, 1024, false)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	if y.Len() != 5 {
		t.Fatalf("reopened Len = %d, want 5", y.Len())
	}
	if err := y.Append(400, 40000); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("append to read-only index: %v", err)
	}
}

func TestOffsetIndexFull(t *testing.T) {
	x, err := OpenOffset(openFile(t, filepath.Join(t.TempDir(), "i")), 0, 20, true)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if x.MaxEntries() != 2 {
		t.Fatalf("MaxEntries = %d", x.MaxEntries())
	}
	for i := int64(1); i <= 2; i++ {
		if err := x.Append(i, i*10); err != nil {
			t.Fatal(err)
		}
	}
	if !x.Full() || !errors.Is(x.Append(3, 30), ErrFull) {
		t.Fatal("third append should be ErrFull")
	}
}

// TestOffsetIndexGolden pins the byte layout: big-endian relative offset then position.
func TestOffsetIndexGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "i")
	x, err := OpenOffset(openFile(t, path), 1000, 64, true)
	if err != nil {
		t.Fatal(err)
	}
	x.Append(1005, 4200)
	x.Append(1300, 0x01020304)
	x.Trim()
	x.Close()
	got, _ := os.ReadFile(path)
	want := []byte{0, 0, 0, 5, 0, 0, 0x10, 0x68, 0, 0, 0x01, 0x2c, 1, 2, 3, 4}
	if !bytes.Equal(got, want) {
		t.Fatalf("file bytes\n got %x\nwant %x", got, want)
	}
}

func TestTimeIndexGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t")
	x, err := OpenTime(openFile(t, path), 1000, 120, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range [][2]int64{{1700000000000, 1000}, {1700000000000, 1003}, {1700000000500, 1007}, {1600000000000, 1009}} {
		if _, err := x.MaybeAppend(e[0], e[1]); err != nil {
			t.Fatal(err)
		}
	}
	if x.Len() != 2 {
		t.Fatalf("Len = %d, want 2 (only growing timestamps are kept)", x.Len())
	}
	for _, tc := range []struct{ target, ts, off int64 }{
		{0, NoTimestamp, 1000}, {1700000000000, 1700000000000, 1000},
		{1700000000499, 1700000000000, 1000}, {1700000000500, 1700000000500, 1007}, {1 << 62, 1700000000500, 1007},
	} {
		ts, off := x.Lookup(tc.target)
		if ts != tc.ts || off != tc.off {
			t.Errorf("Lookup(%d) = (%d, %d), want (%d, %d)", tc.target, ts, off, tc.ts, tc.off)
		}
	}
	x.Trim()
	x.Close()
	got, _ := os.ReadFile(path)
	want := make([]byte, 24)
	binary.BigEndian.PutUint64(want, 1700000000000)
	binary.BigEndian.PutUint64(want[12:], 1700000000500)
	binary.BigEndian.PutUint32(want[20:], 7)
	if !bytes.Equal(got, want) {
		t.Fatalf("file bytes\n got %x\nwant %x", got, want)
	}
}

func TestOpenRejectsCorrupt(t *testing.T) {
	be := func(vals ...uint32) []byte {
		b := make([]byte, 0, 4*len(vals))
		for _, v := range vals {
			b = binary.BigEndian.AppendUint32(b, v)
		}
		return b
	}
	for name, data := range map[string][]byte{
		"partial entry":         {0, 0, 0, 1, 0, 0, 0},
		"offset not increasing": be(2, 10, 2, 20),
		"position decreasing":   be(2, 10, 3, 5),
		"data after zero entry": be(2, 10, 0, 0, 4, 40),
		"negative position":     be(2, 0xffffff00),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "i")
			os.WriteFile(path, data, 0o644)
			if _, err := OpenOffset(openFile(t, path), 0, 1024, false); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("read-only open: %v, want ErrCorrupt", err)
			}
			if _, err := OpenOffset(openFile(t, path), 0, 1024, true); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("writable open: %v, want ErrCorrupt", err)
			}
			// A corrupt file is left as found, for the caller to replace.
			if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
				t.Fatalf("corrupt file changed by open: %x", got)
			}
		})
	}
}

// resident counts the pages of a mapping that are in memory (mincore).
func resident(t *testing.T, m *mapped) int {
	t.Helper()
	vec := make([]byte, (len(m.data)+pageSize-1)/pageSize)
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m.data[0])), uintptr(len(m.data)), uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		t.Fatal(errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

// TestOpenReadsOnlyValidPages: opening, reopening and resetting an index
// preallocated to 10 MiB brings into memory the pages of its entries, not
// the preallocated file (invariant 7). Older versions preallocated every
// writable index so, and a crash left such a file: the active segment's
// index, never trimmed.
func TestOpenReadsOnlyValidPages(t *testing.T) {
	const max = 10 << 20
	path := filepath.Join(t.TempDir(), "i")
	x, err := OpenOffset(openFile(t, path), 0, max, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(1); i <= 600; i++ { // two pages of entries
		if err := x.Append(i, i*100); err != nil {
			t.Fatal(err)
		}
	}
	x.Sync()
	x.Close() // no Trim
	// Preallocated whole, as an older version left it.
	if f := openFile(t, path); f.Allocate(0, max) != nil || f.Close() != nil {
		t.Fatal("preallocate")
	}
	if fi, _ := os.Stat(path); fi.Size() != max {
		t.Fatalf("size %d, want the preallocated %d", fi.Size(), max)
	}
	for _, writable := range []bool{false, true} {
		y, err := OpenOffset(openFile(t, path), 0, max, writable)
		if err != nil {
			t.Fatal(err)
		}
		if y.Len() != 600 {
			t.Fatalf("Len = %d, want 600", y.Len())
		}
		if n := resident(t, &y.m); n > 3 {
			t.Fatalf("writable=%v: %d pages of a 10 MiB index in memory after open, want the 2-3 holding entries", writable, n)
		}
		if writable {
			if err := y.Reset(); err != nil {
				t.Fatal(err)
			}
			if n := resident(t, &y.m); n > 3 {
				t.Fatalf("%d pages in memory after Reset", n)
			}
		}
		y.Close()
	}

	// Bytes past the page after the valid prefix are not read, so they do
	// not make the file corrupt; lookups never see them.
	data := make([]byte, 3*pageSize)
	binary.BigEndian.PutUint32(data, 5)
	binary.BigEndian.PutUint32(data[4:], 50)
	binary.BigEndian.PutUint32(data[2*pageSize:], 0xdeadbeef)
	os.WriteFile(path, data, 0o644)
	y, err := OpenOffset(openFile(t, path), 0, max, false)
	if err != nil {
		t.Fatal(err)
	}
	if y.Len() != 1 {
		t.Fatalf("Len = %d, want 1", y.Len())
	}
	y.Close()
}

// TestTimeIndexNoTimestamp: like Kafka's TimeIndex.maybeAppend, an empty
// time index takes no NoTimestamp entry (the final entry of an empty
// segment at close or roll), and a later real timestamp is the first entry.
func TestTimeIndexNoTimestamp(t *testing.T) {
	x, err := OpenTime(openFile(t, filepath.Join(t.TempDir(), "t")), 100, 1200, true)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if ok, err := x.MaybeAppend(NoTimestamp, 100); ok || err != nil {
		t.Fatalf("MaybeAppend(NoTimestamp) on an empty index = %v, %v; want no entry", ok, err)
	}
	if x.Len() != 0 {
		t.Fatalf("Len = %d, want 0", x.Len())
	}
	if ok, err := x.MaybeAppend(1700000000000, 100); !ok || err != nil {
		t.Fatalf("first real timestamp: %v, %v", ok, err)
	}
	if ok, _ := x.MaybeAppend(1700000000000, 105); ok {
		t.Fatal("equal timestamp appended")
	}
}

func TestUntrimmedIndexReopens(t *testing.T) {
	// A crash leaves the preallocated tail of zeros: the valid prefix is kept.
	path := filepath.Join(t.TempDir(), "i")
	x, _ := OpenOffset(openFile(t, path), 0, 4096, true)
	x.Append(3, 300)
	x.Append(9, 900)
	x.Sync()
	x.Close() // no Trim
	y, err := OpenOffset(openFile(t, path), 0, 4096, true)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	if y.Len() != 2 {
		t.Fatalf("Len = %d, want 2", y.Len())
	}
	if err := y.Append(12, 1200); err != nil {
		t.Fatal(err)
	}
}

func TestPreallocateENOSPC(t *testing.T) {
	fsys := vfs.NewFaulty(vfs.OS)
	fsys.FailAfter(100, nil)
	f, err := fsys.OpenFile(filepath.Join(t.TempDir(), "i"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenOffset(f, 0, 10<<20, true); err == nil {
		t.Fatal("open with a full disk should fail at preallocation")
	}
}
