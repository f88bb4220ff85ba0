package epochcache

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"samsa/logfile/vfs"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestLoad: a file that parses is loaded and cut to the log end, written
// again if that dropped entries; one that does not parse, or does not
// exist, is an empty cache, not an error (invariant 3).
func TestLoad(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		logEnd     int64
		want       []Entry
		rewritten  string // the file after Load; "" if unchanged
	}{
		{"whole", "0\n2\n0 0\n3 10\n", 20, []Entry{{0, 0}, {3, 10}}, ""},
		{"cut to the log end", "0\n2\n0 0\n3 10\n", 10, []Entry{{0, 0}}, "0\n1\n0 0\n"},
		{"bad version", "1\n1\n0 0\n", 20, nil, ""},
		{"short", "0\n2\n0 0\n", 20, nil, ""},
		{"not ascending", "0\n2\n3 10\n2 20\n", 30, nil, ""},
		{"missing", "", 20, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), FileName)
			if tc.file != "" {
				os.WriteFile(path, []byte(tc.file), 0o644)
			}
			c := New(vfs.OS, path)
			if err := c.Load(tc.logEnd, quiet); err != nil {
				t.Fatal(err)
			}
			if got := c.Entries(); !slices.Equal(got, tc.want) {
				t.Fatalf("entries %v, want %v", got, tc.want)
			}
			want := tc.file
			if tc.rewritten != "" {
				want = tc.rewritten
			}
			if data, _ := os.ReadFile(path); string(data) != want {
				t.Fatalf("file %q, want %q", data, want)
			}
		})
	}
}

// TestAssignDeferred: deferred entries count at once, mark the cache dirty
// and reach the file with WriteDeferred, or with any other write; an
// assignment that changes nothing marks nothing.
func TestAssignDeferred(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	c := New(vfs.OS, path)
	c.AssignDeferred(1, 0)
	c.AssignDeferred(2, 5)
	if !c.Dirty() || c.Latest() != 2 {
		t.Fatalf("dirty %v, latest %d", c.Dirty(), c.Latest())
	}
	if e, o := c.EndOffset(1, 9); e != 1 || o != 5 {
		t.Fatalf("EndOffset(1) = (%d, %d), want (1, 5)", e, o)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("deferred entries written: %v", err)
	}
	if err := c.WriteDeferred(); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); string(data) != "0\n2\n1 0\n2 5\n" || c.Dirty() {
		t.Fatalf("file %q, dirty %v", data, c.Dirty())
	}
	c.AssignDeferred(2, 7) // the same epoch, later: no change
	if c.Dirty() {
		t.Fatal("an assignment that changed nothing made the cache dirty")
	}
	c.AssignDeferred(3, 9)
	if err := c.TruncateFromStart(6); err != nil { // a write of its own
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); string(data) != "0\n2\n2 6\n3 9\n" || c.Dirty() {
		t.Fatalf("file %q, dirty %v", data, c.Dirty())
	}
}
