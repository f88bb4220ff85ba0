package segment

import (
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"samsa/internal/testbatch"
	"samsa/logfile/vfs"
	"samsa/record"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const (
	maxIndex = 4096
	interval = 256
)

// appendBatches writes n batches of 3 records of 100 bytes at the end of
// s, indexes and publishes them, as the log's append does, and returns
// their positions.
func appendBatches(t *testing.T, s *Segment, n int) []int64 {
	t.Helper()
	var pos []int64
	for range n {
		b := testbatch.Make(testbatch.Spec{Records: 3, ValueSize: 100, Timestamp: 1_000 + s.Next()})
		binary.BigEndian.PutUint64(b, uint64(s.Next())) // the base offset, outside the CRC
		h, err := record.ParseHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		p := s.Size()
		if _, err := s.File.WriteAt(b, p); err != nil {
			t.Fatal(err)
		}
		if err := s.IndexBatch(&h, p, interval); err != nil {
			t.Fatal(err)
		}
		s.Publish(p+int64(len(b)), h.NextOffset())
		pos = append(pos, p)
	}
	return pos
}

func create(t *testing.T, dir string, base int64) *Segment {
	t.Helper()
	s, _, err := Open(vfs.OS, dir, base, maxIndex, Create)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRecoverRebuildsAndCuts: a segment reopened for a rebuild gets its
// indexes, end offset and timestamps back from its batches; a torn tail
// is cut at the last whole batch and the file truncated there (invariant
// 6); a clean reopen's LoadTail agrees.
func TestRecoverRebuildsAndCuts(t *testing.T) {
	dir := t.TempDir()
	s := create(t, dir, 100)
	pos := appendBatches(t, s, 20)
	size, next := s.Load()
	maxTs, entries := s.MaxTimestamp(), s.Index.Len()
	if entries == 0 {
		t.Fatal("no index entries: the test needs some")
	}
	s.Finish(quiet)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	s.Release()

	r, rebuild, err := Open(vfs.OS, dir, 100, maxIndex, Writable)
	if err != nil || rebuild {
		t.Fatalf("clean open: rebuild %v, %v", rebuild, err)
	}
	if err := r.LoadTail(); err != nil {
		t.Fatal(err)
	}
	if gs, gn := r.Load(); gs != size || gn != next || r.MaxTimestamp() != maxTs {
		t.Fatalf("after LoadTail: size %d next %d max ts %d; want %d %d %d", gs, gn, r.MaxTimestamp(), size, next, maxTs)
	}
	r.Release()

	// A torn tail: half of a batch after the last whole one.
	f, err := os.OpenFile(filepath.Join(dir, Name(100, LogSuffix)), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	half := testbatch.Make(testbatch.Spec{Records: 3, ValueSize: 100})
	if _, err := f.WriteAt(half[:len(half)/2], size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r, rebuild, err = Open(vfs.OS, dir, 100, maxIndex, Rebuild)
	if err != nil || !rebuild {
		t.Fatalf("open to rebuild: rebuild %v, %v", rebuild, err)
	}
	defer r.Release()
	cut, err := r.Recover(interval, 100, quiet)
	if err != nil || !cut {
		t.Fatalf("Recover of a torn tail: cut %v, %v", cut, err)
	}
	if gs, gn := r.Load(); gs != size || gn != next || r.Index.Len() != entries || r.MaxTimestamp() != maxTs {
		t.Fatalf("after Recover: size %d next %d entries %d max ts %d; want %d %d %d %d", gs, gn, r.Index.Len(), r.MaxTimestamp(), size, next, entries, maxTs)
	}
	if fi, err := r.File.Stat(); err != nil || fi.Size() != size {
		t.Fatalf("file not cut to %d: %v %v", size, fi.Size(), err)
	}
	if p, err := r.Locate(next-1, size); err != nil || p != pos[len(pos)-1] {
		t.Fatalf("Locate(last offset) = %d, %v; want %d", p, err, pos[len(pos)-1])
	}
}

// TestRecoverRefusesOffsetsBelow: a batch whose offsets do not increase
// from the minimum is corrupt, and Recover cuts before it.
func TestRecoverRefusesOffsetsBelow(t *testing.T) {
	dir := t.TempDir()
	s := create(t, dir, 0)
	appendBatches(t, s, 3)
	s.Release()
	r, _, err := Open(vfs.OS, dir, 0, maxIndex, Rebuild)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	cut, err := r.Recover(interval, 6, quiet) // the previous segment ended at 6
	if err != nil || !cut || r.Size() != 0 {
		t.Fatalf("Recover from a minimum of 6 over batches from 0: cut %v, size %d, %v", cut, r.Size(), err)
	}
}

// TestReadWholeBatches: a read starts at the batch holding the offset,
// ends at a batch boundary within maxBytes (or after the first batch when
// it alone is larger: KIP-74), and stops before maxOffset.
func TestReadWholeBatches(t *testing.T) {
	s := create(t, t.TempDir(), 0)
	defer s.Release()
	pos := appendBatches(t, s, 10)
	one := pos[1] - pos[0]
	for _, tc := range []struct {
		offset, maxBytes, maxOffset int64
		pos, n, next                int64
	}{
		{4, 2 * one, 30, pos[1], 2 * one, 9},      // offset 4 is in the second batch
		{4, 1, 30, pos[1], one, 6},                // KIP-74: the first batch whole
		{4, 100 * one, 9, pos[1], 2 * one, 9},     // up to the batch holding maxOffset
		{4, 100 * one, 3, 0, 0, 0},                // nothing before maxOffset
		{29, 100 * one, 30, pos[9], one, 30},      // the last batch
		{0, 100 * one, 30, 0, s.Size(), s.Next()}, // everything
	} {
		p, n, next, err := s.Read(tc.offset, tc.maxBytes, tc.maxOffset)
		if err != nil || p != tc.pos || n != tc.n || next != tc.next {
			t.Errorf("Read(%d, %d, %d) = %d, %d, %d, %v; want %d, %d, %d", tc.offset, tc.maxBytes, tc.maxOffset, p, n, next, err, tc.pos, tc.n, tc.next)
		}
	}
}

// TestReferencesKeepFiles: a segment marked deleted keeps its files open
// and readable while a reader holds it; they are removed when the last
// reference goes (invariant 2), and no new reference is taken then.
func TestReferencesKeepFiles(t *testing.T) {
	dir := t.TempDir()
	s := create(t, dir, 0)
	appendBatches(t, s, 2)
	if !s.Acquire() {
		t.Fatal("Acquire of a live segment failed")
	}
	if err := s.MarkDeleted(); err != nil {
		t.Fatal(err)
	}
	s.Release() // the owner's reference
	if _, err := s.HeaderAt(0, s.Size()); err != nil {
		t.Fatalf("read while held: %v", err)
	}
	deleted := filepath.Join(dir, Name(0, LogSuffix)+DeletedSuffix)
	if _, err := os.Stat(deleted); err != nil {
		t.Fatalf("held segment's file: %v", err)
	}
	s.Release()
	if _, err := os.Stat(deleted); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file after the last release: %v", err)
	}
	if s.Acquire() {
		t.Fatal("Acquire succeeded after the last release")
	}
}
