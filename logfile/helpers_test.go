package logfile

import (
	"bytes"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"samsa/internal/testbatch"
	"samsa/record"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// smallConfig rolls segments and adds index entries often.
func smallConfig() Config {
	c := DefaultConfig()
	c.SegmentBytes = 16 << 10
	c.IndexIntervalBytes = 512
	c.MaxIndexBytes = 4096
	c.RetentionMs = -1
	return c
}

func openLog(t testing.TB, dir string, cfg Config, opts Options) *Log {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	l, err := Open(dir, cfg, opts)
	if err != nil {
		t.Fatalf("Open %s: %v", dir, err)
	}
	return l
}

func partDir(t testing.TB) string { return filepath.Join(t.TempDir(), "topic-0") }

// batch returns a batch of n records whose values are all fill.
func batch(n, size int, fill byte, ts int64) []byte {
	return testbatch.Make(testbatch.Spec{Records: n, ValueSize: size, Fill: fill, Timestamp: ts})
}

type appended struct {
	first, last int64
	data        []byte // as stored: base offset stamped
}

func mustAppend(t testing.TB, l *Log, b []byte) appended {
	t.Helper()
	info, err := l.Append(b)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return appended{info.FirstOffset, info.LastOffset, append([]byte(nil), b...)}
}

// readAll reads the whole log from start to end through Read and returns
// the concatenated bytes, checking that every region holds whole, valid,
// contiguous batches.
func readAll(t testing.TB, l *Log, maxBytes int64) []byte {
	t.Helper()
	var out []byte
	off := l.StartOffset()
	for off < l.EndOffset() {
		r, err := l.Read(off, maxBytes, l.EndOffset())
		if err != nil {
			t.Fatalf("Read(%d): %v", off, err)
		}
		if r.Len == 0 {
			t.Fatalf("Read(%d) empty before end %d", off, l.EndOffset())
		}
		b, err := r.Bytes()
		r.Release()
		if err != nil {
			t.Fatal(err)
		}
		next := checkBatches(t, b, off)
		out = append(out, b...)
		off = next
	}
	return out
}

// checkBatches verifies b is whole valid batches, the first holding off, and
// returns the offset after the last.
func checkBatches(t testing.TB, b []byte, off int64) int64 {
	t.Helper()
	first := true
	for len(b) > 0 {
		h, err := record.ParseHeader(b)
		if err != nil || h.Size() > int64(len(b)) {
			t.Fatalf("region not whole batches: %v (size %d, have %d)", err, h.Size(), len(b))
		}
		if err := record.CheckCRC(b, &h); err != nil {
			t.Fatal(err)
		}
		if first && (h.BaseOffset > off || h.LastOffset() < off) {
			t.Fatalf("first batch [%d, %d] does not hold %d", h.BaseOffset, h.LastOffset(), off)
		}
		if !first && h.BaseOffset != off {
			t.Fatalf("batch at %d, want contiguous %d", h.BaseOffset, off)
		}
		first = false
		off = h.NextOffset()
		b = b[h.Size():]
	}
	return off
}

func concat(as []appended) []byte {
	var b []byte
	for _, a := range as {
		b = append(b, a.data...)
	}
	return b
}

func mustEqual(t testing.TB, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		n := 0
		for n < len(got) && n < len(want) && got[n] == want[n] {
			n++
		}
		t.Fatalf("bytes differ at %d: got %d bytes, want %d", n, len(got), len(want))
	}
}

// clock is a settable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(ms int64) *clock { return &clock{t: time.UnixMilli(ms)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
