package vfs

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func create(t *testing.T, fsys FS, name string, data []byte) File {
	t.Helper()
	f, err := fsys.OpenFile(name, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
	return f
}

func readOr(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return "<none>"
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFaultyZeroValueInjectsNothing: a Faulty with only FS set, as its doc
// promises, and a healed one, write every byte.
func TestFaultyZeroValueInjectsNothing(t *testing.T) {
	dir := t.TempDir()
	for name, f := range map[string]*Faulty{
		"zero value": {FS: OS},
		"new":        NewFaulty(OS),
		"healed": func() *Faulty {
			f := NewFaulty(OS)
			f.FailAfter(0, nil)
			f.Fail(OpRename|OpSync, nil, nil)
			f.Heal()
			return f
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
			file, err := f.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			n, err := file.WriteAt([]byte("hello"), 0)
			if n != 5 || err != nil {
				t.Fatalf("WriteAt = %d, %v; want 5, nil", n, err)
			}
			if err := file.Allocate(5, 100); err != nil {
				t.Fatal(err)
			}
			if err := file.Sync(); err != nil {
				t.Fatal(err)
			}
			if err := f.Rename(p, p+".2"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestFaultyBudget: the write crossing the budget is short and fails, and
// so is every later one; creating files still works (no bytes).
func TestFaultyBudget(t *testing.T) {
	f := NewFaulty(OS)
	p := filepath.Join(t.TempDir(), "f")
	file := create(t, f, p, []byte("0123456789"))
	defer file.Close()
	f.FailAfter(4, nil)
	n, err := file.WriteAt([]byte("abcdefgh"), 10)
	if n != 4 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("crossing write = %d, %v; want 4, ENOSPC", n, err)
	}
	if n, err := file.WriteAt([]byte("x"), 0); n != 0 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("later write = %d, %v; want 0, ENOSPC", n, err)
	}
	if err := file.Allocate(0, 1); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("allocate past the budget: %v", err)
	}
	if got := readOr(t, p); got != "0123456789abcd" {
		t.Fatalf("file holds %q", got)
	}
}

// TestFaultyOps: each kind of operation fails on the paths chosen, does
// nothing when it fails, and FailNth counts.
func TestFaultyOps(t *testing.T) {
	dir := t.TempDir()
	f := NewFaulty(OS)
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	create(t, f, a, []byte("A")).Close()
	create(t, f, b, []byte("B")).Close()
	onA := func(p string) bool { return filepath.Base(p) == "a" }

	f.Fail(OpRename, onA, syscall.EROFS)
	if err := f.Rename(a, b); !errors.Is(err, syscall.EROFS) {
		t.Fatalf("rename from a failed path: %v", err)
	}
	if err := f.Rename(b, a); !errors.Is(err, syscall.EROFS) {
		t.Fatalf("rename onto a failed path: %v", err)
	}
	if readOr(t, a) != "A" || readOr(t, b) != "B" {
		t.Fatal("a failed rename changed the files")
	}
	f.Heal()

	f.Fail(OpRemove, onA, nil)
	if err := f.Remove(a); !errors.Is(err, syscall.EIO) {
		t.Fatalf("remove: %v", err)
	}
	if err := f.Remove(b); err != nil {
		t.Fatalf("remove of another path: %v", err)
	}
	if readOr(t, a) != "A" {
		t.Fatal("a failed remove removed the file")
	}
	f.Heal()

	f.Fail(OpSyncDir, nil, nil)
	if err := f.SyncDir(dir); !errors.Is(err, syscall.EIO) {
		t.Fatalf("syncdir: %v", err)
	}
	f.Heal()

	f.Fail(OpRead, onA, nil)
	if _, err := ReadFile(f, a); !errors.Is(err, syscall.EIO) {
		t.Fatalf("read: %v", err)
	}
	if _, err := f.Stat(a); !errors.Is(err, syscall.EIO) {
		t.Fatalf("stat: %v", err)
	}
	if _, err := f.ReadDir(dir); err != nil {
		t.Fatalf("readdir of a path not chosen: %v", err)
	}
	f.Heal()
	file, err := f.OpenFile(a, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	f.Fail(OpRead, onA, nil)
	if _, err := file.ReadAt(make([]byte, 1), 0); !errors.Is(err, syscall.EIO) {
		t.Fatalf("ReadAt on an open file: %v", err)
	}
	f.Heal()

	// The second and third syncs fail, the others pass.
	f.FailNth(OpSync, nil, 1, 2, nil)
	var got []bool
	for range 5 {
		got = append(got, file.Sync() == nil)
	}
	if want := []bool{true, false, false, true, true}; !equalBools(got, want) {
		t.Fatalf("syncs passed %v, want %v", got, want)
	}
	f.Heal()

	f.Fail(OpWrite, onA, nil)
	if err := file.Truncate(0); !errors.Is(err, syscall.EIO) {
		t.Fatalf("truncate: %v", err)
	}
	if _, err := f.OpenFile(a, os.O_RDWR|os.O_TRUNC, 0); !errors.Is(err, syscall.EIO) {
		t.Fatalf("open with O_TRUNC: %v", err)
	}
	if readOr(t, a) != "A" {
		t.Fatal("failed writes changed the file")
	}
	f.Heal()

	// OpAllocate fails reservations alone: writes into the file work.
	f.Fail(OpAllocate, onA, syscall.ENOSPC)
	if err := file.Allocate(0, 4096); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("allocate: %v", err)
	}
	if _, err := file.WriteAt([]byte("a"), 0); err != nil {
		t.Fatalf("write while allocations fail: %v", err)
	}
	if fi, _ := os.Stat(a); fi.Size() != 1 {
		t.Fatalf("a failed allocate grew the file to %d bytes", fi.Size())
	}
}

// TestAllocateNeverShrinks: Allocate of a range inside a file changes
// neither its size nor its bytes; past the end it grows the file.
func TestAllocateNeverShrinks(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	file := create(t, OS, p, []byte(strings.Repeat("x", 8192)))
	defer file.Close()
	if err := file.Allocate(0, 100); err != nil {
		t.Fatal(err)
	}
	if got := readOr(t, p); got != strings.Repeat("x", 8192) {
		t.Fatalf("allocate inside the file changed it to %d bytes", len(got))
	}
	if err := file.Allocate(8000, 1000); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Size() != 9000 {
		t.Fatalf("allocate past the end: size %d, want 9000", fi.Size())
	}
}

func equalBools(a, b []bool) bool {
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

// TestCrashableKeepsOnlySynced: after Crash, a file holds what it held at
// its last Sync, and a directory the entries it had at its last SyncDir;
// files made before the Crashable count as durable; nothing works after.
func TestCrashableKeepsOnlySynced(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "old"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := NewCrashable(OS, root)
	if err != nil {
		t.Fatal(err)
	}
	p := func(n ...string) string { return filepath.Join(append([]string{root}, n...)...) }

	// a synced file with an unsynced tail
	f := create(t, c, p("kept"), []byte("synced"))
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("+tail"), 6)
	// directories made durable, a file in them synced
	if err := c.MkdirAll(p("d", "e"), 0o755); err != nil {
		t.Fatal(err)
	}
	create(t, c, p("d", "e", "f"), []byte("deep")).Sync()
	for _, d := range []string{root, p("d"), p("d", "e")} {
		if err := c.SyncDir(d); err != nil {
			t.Fatal(err)
		}
	}
	// a rename whose directory is not synced after it
	create(t, c, p("d", "r1"), []byte("r1")).Sync()
	c.SyncDir(p("d"))
	if err := c.Rename(p("d", "r1"), p("d", "r2")); err != nil {
		t.Fatal(err)
	}
	// a synced file whose entry never is
	create(t, c, p("d", "late"), []byte("late")).Sync()
	// a rename made durable
	c.Rename(p("old"), p("new"))
	c.SyncDir(root)
	// a remove not made durable
	c.Remove(p("d", "e", "f"))
	// a directory whose own entry is not durable
	c.MkdirAll(p("x"), 0o755)
	create(t, c, p("x", "f"), []byte("x")).Sync()
	c.SyncDir(p("x"))

	dst := filepath.Join(t.TempDir(), "image")
	if err := c.Crash(dst, nil); err != nil {
		t.Fatal(err)
	}
	q := func(n ...string) string { return readOr(t, filepath.Join(append([]string{dst}, n...)...)) }
	for path, want := range map[string]string{
		"kept":   "synced",
		"old":    "<none>",
		"new":    "old",
		"d/e/f":  "deep",
		"d/r1":   "r1",
		"d/r2":   "<none>",
		"d/late": "<none>",
		"x/f":    "<none>",
	} {
		if got := q(strings.Split(path, "/")...); got != want {
			t.Errorf("%s after the crash: %q, want %q", path, got, want)
		}
	}
	if _, err := f.WriteAt([]byte("x"), 0); !errors.Is(err, ErrCrashed) {
		t.Errorf("write after the crash: %v", err)
	}
	if err := f.Sync(); !errors.Is(err, ErrCrashed) {
		t.Errorf("sync after the crash: %v", err)
	}
	if _, err := c.OpenFile(p("kept"), os.O_RDONLY, 0); !errors.Is(err, ErrCrashed) {
		t.Errorf("open after the crash: %v", err)
	}
	if err := c.Rename(p("kept"), p("x")); !errors.Is(err, ErrCrashed) {
		t.Errorf("rename after the crash: %v", err)
	}
}

// TestCrashableKeep: with keep, a file comes back as synced, whole, or
// synced plus a prefix of the rest, and every outcome shows up.
func TestCrashableKeep(t *testing.T) {
	seen := map[string]bool{}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 60 {
		root := t.TempDir()
		c, err := NewCrashable(OS, root)
		if err != nil {
			t.Fatal(err)
		}
		f := create(t, c, filepath.Join(root, "f"), []byte("base"))
		f.Sync()
		c.SyncDir(root)
		f.WriteAt([]byte("0123456789"), 4)
		dst := filepath.Join(t.TempDir(), "image")
		if err := c.Crash(dst, rng); err != nil {
			t.Fatal(err)
		}
		got := readOr(t, filepath.Join(dst, "f"))
		if !strings.HasPrefix("base0123456789", got) || len(got) < 4 {
			t.Fatalf("round %d: %q is not the synced bytes plus a prefix of the rest", i, got)
		}
		switch got {
		case "base":
			seen["synced"] = true
		case "base0123456789":
			seen["whole"] = true
		default:
			seen["torn"] = true
		}
		f.Close()
	}
	if len(seen) != 3 {
		t.Fatalf("outcomes seen: %v, want synced, whole and torn", seen)
	}
}
