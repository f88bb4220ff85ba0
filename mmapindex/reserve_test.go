package mmapindex

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"samsa/logfile/vfs"
)

// allocs records the Allocate and Truncate calls made on a file (invariant
// 3 is about which ranges get reserved, and when).
type allocs struct {
	vfs.File
	calls     [][2]int64 // (off, n) of each Allocate
	truncates []int64
}

func (a *allocs) Allocate(off, n int64) error {
	a.calls = append(a.calls, [2]int64{off, n})
	return a.File.Allocate(off, n)
}

func (a *allocs) Truncate(size int64) error {
	a.truncates = append(a.truncates, size)
	return a.File.Truncate(size)
}

func (a *allocs) allocated() (n int64) {
	for _, c := range a.calls {
		n += c[1]
	}
	return n
}

// kind opens one of the two index kinds behind the same small interface,
// so that each reservation test runs on both entry sizes (8 and 12 bytes:
// a time entry straddles page boundaries).
type kind struct {
	name      string
	entrySize int
	open      func(f File, maxBytes int, writable bool) (ix, error)
}

// ix is what the reservation tests need of an index; entry i of a test
// index is (i+1)*10 and (i+1)*100, increasing in every field.
type ix interface {
	add(i int) error
	entry(i int) (a, b int64)
	Len() int
	Trim() error
	Close() error
}

type offsetIx struct{ *OffsetIndex }

func (x offsetIx) add(i int) error { return x.Append(int64(i+1)*10, int64(i+1)*100) }
func (x offsetIx) entry(i int) (a, b int64) {
	return x.Entry(i)
}

type timeIx struct{ *TimeIndex }

func (x timeIx) add(i int) error {
	ok, err := x.MaybeAppend(int64(i+1)*100, int64(i+1)*10)
	if err == nil && !ok {
		return errors.New("entry not appended")
	}
	return err
}
func (x timeIx) entry(i int) (a, b int64) {
	ts, off := x.Entry(i)
	return off, ts
}

var kinds = []kind{
	{"offset", OffsetEntrySize, func(f File, max int, w bool) (ix, error) {
		x, err := OpenOffset(f, 0, max, w)
		if err != nil {
			return nil, err
		}
		return offsetIx{x}, nil
	}},
	{"time", TimeEntrySize, func(f File, max int, w bool) (ix, error) {
		x, err := OpenTime(f, 0, max, w)
		if err != nil {
			return nil, err
		}
		return timeIx{x}, nil
	}},
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestReserveSteps: a new writable index of 10 MiB reserves one page, and
// then, as entries need it, steps that double up to 64 KiB; the file is
// always as long as what was reserved, never the maximum (invariant 3).
func TestReserveSteps(t *testing.T) {
	if reservePage != pageSize {
		t.Skipf("page size %d: the steps below assume 4 KiB", reservePage)
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			// Page multiples, each cut to a whole number of entries.
			var want []int64
			for _, kib := range []int64{4, 8, 16, 32, 64, 128, 192, 256} {
				want = append(want, kib<<10/int64(k.entrySize)*int64(k.entrySize))
			}
			path := filepath.Join(t.TempDir(), "i")
			f := &allocs{File: openFile(t, path)}
			x, err := k.open(f, 10<<20, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.calls) != 1 || f.calls[0] != [2]int64{0, want[0]} {
				t.Fatalf("open reserved %v, want one page at 0", f.calls)
			}
			sizes := []int64{fileSize(t, path)}
			for i := 0; int64(i*k.entrySize) < want[len(want)-1]; i++ {
				if err := x.add(i); err != nil {
					t.Fatal(err)
				}
				size := fileSize(t, path)
				if size != sizes[len(sizes)-1] {
					sizes = append(sizes, size)
				}
				if used := int64(x.Len() * k.entrySize); size < used || size-used > maxReserveStep {
					t.Fatalf("%d entries (%d bytes) in a file of %d bytes", x.Len(), used, size)
				}
			}
			if !slices.Equal(sizes, want) {
				t.Fatalf("file sizes %v, want %v", sizes, want)
			}
			// Each step is one fallocate of the range after the last;
			// nothing else changed the file.
			for i, c := range f.calls {
				if from := int64(0); i > 0 {
					from = want[i-1]
					if c != [2]int64{from, want[i] - from} {
						t.Fatalf("reservation %d: %v, want [%d %d]", i, c, from, want[i]-from)
					}
				}
			}
			if len(f.truncates) != 0 {
				t.Fatalf("appends truncated the file: %v", f.truncates)
			}
			// Trim gives the reserved tail back; an append after it
			// reserves again instead of storing past the end of the file.
			n := x.Len()
			if err := x.Trim(); err != nil {
				t.Fatal(err)
			}
			if got := fileSize(t, path); got != int64(n*k.entrySize) {
				t.Fatalf("trimmed to %d bytes, want %d", got, n*k.entrySize)
			}
			if err := x.add(n); err != nil {
				t.Fatal(err)
			}
			if got := fileSize(t, path); got < int64((n+1)*k.entrySize) {
				t.Fatalf("append after trim: file of %d bytes holds %d entries", got, n+1)
			}
			// A crash leaves the reserved tail untrimmed: the file is a
			// whole number of entries and opens with every one of them.
			if err := x.add(n + 1); err != nil {
				t.Fatal(err)
			}
			x.Close()
			for _, writable := range []bool{false, true} {
				y, err := k.open(openFile(t, path), 10<<20, writable)
				if err != nil {
					t.Fatalf("untrimmed file, writable=%v: %v", writable, err)
				}
				if y.Len() != n+2 {
					t.Fatalf("untrimmed file reopened with %d entries, want %d", y.Len(), n+2)
				}
				y.Close()
			}
		})
	}
}

// TestReopenReserves: a reopened writable index reserves from its entries
// on, one step: a trimmed file grows by that step, and a file an older
// version preallocated to 10 MiB (or a crash left untrimmed) keeps its size
// and is not preallocated again. A read-only open reserves nothing.
func TestReopenReserves(t *testing.T) {
	const max = 10 << 20
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "i")
			x, err := k.open(openFile(t, path), max, true)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 600 {
				if err := x.add(i); err != nil {
					t.Fatal(err)
				}
			}
			x.Trim()
			x.Close()
			used := int64(600 * k.entrySize)

			reopen := func(writable bool) *allocs {
				t.Helper()
				f := &allocs{File: openFile(t, path)}
				y, err := k.open(f, max, writable)
				if err != nil {
					t.Fatal(err)
				}
				if y.Len() != 600 {
					t.Fatalf("reopened with %d entries, want 600", y.Len())
				}
				if err := y.add(600); err != nil {
					t.Fatal(err)
				}
				if writable {
					if err := y.Trim(); err != nil {
						t.Fatal(err)
					}
				}
				y.Close()
				return f
			}
			if f := reopen(true); len(f.calls) != 1 || f.calls[0][0] != used || f.calls[0][1] > maxReserveStep {
				t.Fatalf("reopen of a trimmed file reserved %v, want one step from %d", f.calls, used)
			}
			used += int64(k.entrySize)

			// As an older version left it: preallocated whole.
			if f := openFile(t, path); f.Allocate(0, max/int64(k.entrySize)*int64(k.entrySize)) != nil || f.Close() != nil {
				t.Fatal("preallocate")
			}
			f := &allocs{File: openFile(t, path)}
			y, err := k.open(f, max, true)
			if err != nil {
				t.Fatal(err)
			}
			if y.Len() != 601 {
				t.Fatalf("preallocated file reopened with %d entries, want 601", y.Len())
			}
			if got := f.allocated(); got > maxReserveStep || len(f.calls) != 1 || f.calls[0][0] != used {
				t.Fatalf("reopen of a preallocated file reserved %v, want one step from %d", f.calls, used)
			}
			if got := fileSize(t, path); got != max/int64(k.entrySize)*int64(k.entrySize) {
				t.Fatalf("open changed a preallocated file to %d bytes", got)
			}
			y.Close()

			f = &allocs{File: openFile(t, path)}
			r, err := k.open(f, max, false)
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
			if len(f.calls) != 0 || len(f.truncates) != 0 {
				t.Fatalf("read-only open reserved %v, truncated %v", f.calls, f.truncates)
			}
		})
	}
}

// TestReserveENOSPC: the disk fills at a step boundary (vfs.Faulty fails
// the fallocate): the append that needed the step fails with ENOSPC, and
// the index is as before, entries and file; every later append fails the
// same way while the disk is full, and appends go on once it is not.
func TestReserveENOSPC(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			fsys := vfs.NewFaulty(vfs.OS)
			path := filepath.Join(t.TempDir(), "i")
			file, err := fsys.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			x, err := k.open(file, 10<<20, true)
			if err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			// Fill the first page: the next entry needs the next step.
			n := 0
			for ; (n+1)*k.entrySize <= reservePage; n++ {
				if err := x.add(n); err != nil {
					t.Fatal(err)
				}
			}
			size := fileSize(t, path)
			fsys.Fail(vfs.OpWrite, nil, syscall.ENOSPC)
			for range 3 {
				if err := x.add(n); !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("append past the reserved page on a full disk: %v, want ENOSPC", err)
				}
			}
			if x.Len() != n {
				t.Fatalf("Len %d after failed appends, want %d", x.Len(), n)
			}
			if a, b := x.entry(n - 1); a != int64(n)*10 || b != int64(n)*100 {
				t.Fatalf("last entry (%d, %d) after failed appends", a, b)
			}
			if got := fileSize(t, path); got != size {
				t.Fatalf("failed reservation left a file of %d bytes, was %d", got, size)
			}
			fsys.Heal()
			for i := n; i < n+10; i++ {
				if err := x.add(i); err != nil {
					t.Fatalf("append once the disk has room: %v", err)
				}
			}
			if err := x.Trim(); err != nil {
				t.Fatal(err)
			}
			// What is on disk is exactly the entries, in order.
			y, err := k.open(openFile(t, path), 10<<20, false)
			if err != nil {
				t.Fatal(err)
			}
			defer y.Close()
			if y.Len() != n+10 {
				t.Fatalf("reopened Len %d, want %d", y.Len(), n+10)
			}
			for i := range y.Len() {
				if a, b := y.entry(i); a != int64(i+1)*10 || b != int64(i+1)*100 {
					t.Fatalf("entry %d: (%d, %d)", i, a, b)
				}
			}
		})
	}
}

// mountTmpfs mounts a tmpfs of size bytes on a new directory, for as long
// as the test runs; it skips the test where mounting is not permitted.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(size)); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): a full real disk is not tested", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestFullTmpfs: indexes grow on a real file system that runs out of space
// (a 64 KiB tmpfs). Were any store to reach a page without blocks, the
// kernel would raise SIGBUS and end the test binary; instead the append
// that needs more disk fails with ENOSPC at the step it needed, and appends
// go on once space is freed.
func TestFullTmpfs(t *testing.T) {
	if reservePage != pageSize {
		t.Skipf("page size %d: the space below assumes 4 KiB pages", reservePage)
	}
	dir := mountTmpfs(t, 64<<10)
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			path := filepath.Join(dir, k.name)
			x, err := k.open(openFile(t, path), 10<<20, true)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { x.Close(); os.Remove(path) }()
			// Leave one page free beside the index's first: the
			// second step (4 KiB more) fits, the third (8 KiB) does not.
			filler := filepath.Join(dir, "filler")
			ff := openFile(t, filler)
			if err := ff.Allocate(0, 64<<10-2*4096); err != nil {
				t.Fatal(err)
			}
			ff.Close()
			defer os.Remove(filler)
			n := 0
			for ; n < 1<<20; n++ {
				if err = x.add(n); err != nil {
					break
				}
			}
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("append %d on a full tmpfs: %v, want ENOSPC", n, err)
			}
			if want := 2 * 4096 / k.entrySize; n != want {
				t.Fatalf("%d entries fit, want %d (two pages)", n, want)
			}
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			for i := n; i < n+2000; i++ {
				if err := x.add(i); err != nil {
					t.Fatalf("append %d after space was freed: %v", i, err)
				}
			}
			for i := range x.Len() {
				if a, b := x.entry(i); a != int64(i+1)*10 || b != int64(i+1)*100 {
					t.Fatalf("entry %d: (%d, %d)", i, a, b)
				}
			}
		})
	}
}
