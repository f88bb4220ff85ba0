package fuzz

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"samsa/internal/testbatch"
	"samsa/logfile"
	"samsa/logfile/vfs"
	"samsa/mmapindex"
	"samsa/record"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const fuzzBase = 1000

func writeTemp(t *testing.T, name string, data []byte) vfs.File {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := vfs.OS.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// FuzzOffsetIndex opens arbitrary bytes as a .index file.
// Invariants: opening never panics; it fails with ErrCorrupt or succeeds,
// and then every lookup returns (base, 0) or an entry present in the file,
// the largest whose offset is <= the target.
func FuzzOffsetIndex(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, target int64) {
		for _, writable := range []bool{false, true} {
			x, err := mmapindex.OpenOffset(writeTemp(t, "x.index", data), fuzzBase, 4096, writable)
			if err != nil {
				if !errors.Is(err, mmapindex.ErrCorrupt) && len(data) <= 4096 {
					t.Fatalf("open failed without ErrCorrupt: %v", err)
				}
				if x != nil {
					x.Close()
				}
				continue
			}
			off, pos := x.Lookup(target)
			if off == fuzzBase && pos == 0 {
				for i := range x.Len() {
					if o, _ := x.Entry(i); o <= target {
						t.Fatalf("Lookup(%d) missed entry %d (%d)", target, i, o)
					}
				}
			} else {
				found := false
				for i := range x.Len() {
					o, p := x.Entry(i)
					if o == off && p == pos {
						found = true
						if i+1 < x.Len() {
							if n, _ := x.Entry(i + 1); n <= target {
								t.Fatalf("Lookup(%d) = %d, but entry %d is %d", target, off, i+1, n)
							}
						}
					}
				}
				if !found || off > target {
					t.Fatalf("Lookup(%d) = (%d, %d): not a valid answer", target, off, pos)
				}
				if !bytes.Contains(data, be32(off-fuzzBase, pos)) {
					t.Fatalf("entry (%d, %d) not in the file", off, pos)
				}
			}
			// LookupPosition: the last entry whose position is <= target.
			want := -1
			for i := range x.Len() {
				if _, p := x.Entry(i); p <= target {
					want = i
				}
			}
			gotOff, gotPos := x.LookupPosition(target)
			if want < 0 && (gotOff != fuzzBase || gotPos != 0) {
				t.Fatalf("LookupPosition(%d) = (%d, %d), want none", target, gotOff, gotPos)
			}
			if want >= 0 {
				if o, p := x.Entry(want); o != gotOff || p != gotPos {
					t.Fatalf("LookupPosition(%d) = (%d, %d), want entry %d (%d, %d)", target, gotOff, gotPos, want, o, p)
				}
			}
			x.Close()
		}
	})
}

// FuzzTimeIndex opens arbitrary bytes as a .timeindex file.
// Invariants: opening never panics; on success a lookup returns the last
// entry whose timestamp is <= the target, or (NoTimestamp, base).
func FuzzTimeIndex(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, target int64) {
		for _, writable := range []bool{false, true} {
			x, err := mmapindex.OpenTime(writeTemp(t, "x.timeindex", data), fuzzBase, 4096, writable)
			if err != nil {
				if x != nil {
					x.Close()
				}
				continue
			}
			// The answer is the last entry whose timestamp is <= target.
			want := -1
			for i := range x.Len() {
				if t2, _ := x.Entry(i); t2 <= target {
					want = i
				}
			}
			ts, off := x.Lookup(target)
			if want < 0 && (ts != mmapindex.NoTimestamp || off != fuzzBase) {
				t.Fatalf("Lookup(%d) = (%d, %d), want none", target, ts, off)
			}
			if want >= 0 {
				if t2, o := x.Entry(want); t2 != ts || o != off {
					t.Fatalf("Lookup(%d) = (%d, %d), want entry %d (%d, %d)", target, ts, off, want, t2, o)
				}
			}
			x.Close()
		}
	})
}

func be32(a, b int64) []byte {
	return []byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a), byte(b >> 24), byte(b >> 16), byte(b >> 8), byte(b)}
}

// validLog is the valid prefix FuzzRecoverTail appends to: a few batches.
func validLog() (data []byte, ends []int64) {
	for i := range 6 {
		b := testbatch.Make(testbatch.Spec{Records: 1 + i%3, ValueSize: 30 + 50*i, Fill: byte(i), Timestamp: int64(1000 + i)})
		off := int64(0)
		if len(ends) > 0 {
			off = ends[len(ends)-1]
		}
		for j := range 8 {
			b[j] = byte(off >> (56 - 8*j))
		}
		ends = append(ends, off+int64(1+i%3))
		data = append(data, b...)
	}
	return data, ends
}

// FuzzRecoverTail appends arbitrary bytes to a valid segment and recovers it
// as after a crash. Invariants: no panic; every batch of the valid prefix is
// kept byte for byte; the recovered log reads back as whole valid batches;
// an append after recovery works.
func FuzzRecoverTail(f *testing.F) {
	f.Fuzz(func(t *testing.T, tail []byte) {
		valid, ends := validLog()
		dir := filepath.Join(t.TempDir(), "t-0")
		os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(filepath.Join(dir, logfile.SegmentName(0, logfile.LogSuffix)), append(valid, tail...), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := logfile.DefaultConfig()
		cfg.IndexIntervalBytes = 100
		l, err := logfile.Open(dir, cfg, logfile.Options{Logger: quiet})
		if err != nil {
			t.Fatalf("recovery failed: %v", err)
		}
		defer l.Close()
		if l.EndOffset() < ends[len(ends)-1] {
			t.Fatalf("end %d lost valid batches ending at %d", l.EndOffset(), ends[len(ends)-1])
		}
		r, err := l.Read(0, 1<<30, l.EndOffset())
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Bytes()
		r.Release()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(got, valid) {
			t.Fatal("valid prefix changed by recovery")
		}
		var bs record.Batches
		if err := record.ValidateBatches(&bs, got); err != nil {
			t.Fatalf("recovered log does not re-parse: %v", err)
		}
		if _, err := l.Append(testbatch.Make(testbatch.Spec{Records: 1, ValueSize: 5})); err != nil {
			t.Fatalf("append after recovery: %v", err)
		}
	})
}

// warnCounter is a slog handler that counts records at Warn and above and
// keeps their text.
type warnCounter struct {
	mu    sync.Mutex
	warns []string
}

func (w *warnCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnCounter) WithAttrs([]slog.Attr) slog.Handler           { return w }
func (w *warnCounter) WithGroup(string) slog.Handler                { return w }
func (w *warnCounter) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	w.mu.Lock()
	w.warns = append(w.warns, b.String())
	w.mu.Unlock()
	return nil
}

// reopenConfig rolls segments and fills indexes after a few batches, so that
// short op strings reach every segment shape: empty, rolled, full index.
func reopenConfig() logfile.Config {
	cfg := logfile.DefaultConfig()
	cfg.SegmentBytes = 2048
	cfg.IndexIntervalBytes = 100
	cfg.MaxIndexBytes = 96 // 12 offset entries, 8 time entries
	return cfg
}

// FuzzCloseReopen drives a log through appends (with growing, falling and
// missing timestamps), rolls and truncations, one op per input byte, closes
// it cleanly and opens it again. Invariants: no panic; a log this package
// wrote and closed reopens after a clean shutdown with no warning and no
// segment rebuilt (so its own index files, including those of empty
// segments, pass its own checks); the reopened log has the same offsets,
// the same bytes and the same answers to timestamp lookups; a second close
// and reopen changes nothing either.
func FuzzCloseReopen(f *testing.F) {
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 200 {
			ops = ops[:200]
		}
		dir := filepath.Join(t.TempDir(), "t-0")
		cfg := reopenConfig()
		l, err := logfile.Open(dir, cfg, logfile.Options{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		for i, op := range ops {
			switch op % 8 {
			case 0:
				if err := l.Roll(); err != nil {
					t.Fatal(err)
				}
			case 1:
				if err := l.TruncateTo(max(l.EndOffset()-1-int64(op>>3)%4, 0)); err != nil {
					t.Fatal(err)
				}
			default:
				ts := int64(1_700_000_000_000 + 10*i)
				switch op >> 6 {
				case 1:
					ts = mmapindex.NoTimestamp
				case 2:
					ts = 1_700_000_000_000 - int64(10*i) // falling
				}
				b := testbatch.Make(testbatch.Spec{Records: 1 + int(op>>3)%3, ValueSize: int(op) * 3, Fill: op, Timestamp: ts})
				if _, err := l.Append(b); err != nil {
					t.Fatal(err)
				}
			}
		}
		snapshot := func(l *logfile.Log) (end int64, data []byte, lookups []int64) {
			end = l.EndOffset()
			if end > l.StartOffset() {
				r, err := l.Read(l.StartOffset(), 1<<30, end)
				if err != nil {
					t.Fatal(err)
				}
				if data, err = r.Bytes(); err != nil {
					t.Fatal(err)
				}
				r.Release()
			}
			for _, ts := range []int64{-1, 0, 1_700_000_000_000 - 1000, 1_700_000_000_000, 1_700_000_000_000 + 777, 1 << 62} {
				info, r, found, err := l.OffsetForTimestamp(ts)
				if err != nil {
					t.Fatal(err)
				}
				if found {
					r.Release()
					lookups = append(lookups, info.BaseOffset)
				} else {
					lookups = append(lookups, -1)
				}
			}
			return end, data, lookups
		}
		end, data, lookups := snapshot(l)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		for round := range 2 {
			w := &warnCounter{}
			r, err := logfile.Open(dir, cfg, logfile.Options{Clean: true, RecoveryPoint: end, Logger: slog.New(w)})
			if err != nil {
				t.Fatalf("reopen %d: %v", round, err)
			}
			if st := r.LoadStats(); st != (logfile.LoadStats{}) || len(w.warns) > 0 {
				r.Close()
				t.Fatalf("reopen %d after a clean close: %+v, warnings:\n%s", round, st, strings.Join(w.warns, "\n"))
			}
			e2, d2, l2 := snapshot(r)
			if e2 != end || !bytes.Equal(d2, data) || !slices.Equal(l2, lookups) {
				r.Close()
				t.Fatalf("reopen %d: end %d, %d bytes, lookups %v; before close: end %d, %d bytes, lookups %v", round, e2, len(d2), l2, end, len(data), lookups)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzValidateProduce feeds arbitrary bytes as a producer's record set.
// Invariants: no panic; on acceptance the batches tile the input exactly,
// each re-parses with the header the run carries, and validation is
// deterministic; the one-batch form (Produce v3+) accepts exactly the
// sets the other accepts as one batch.
func FuzzValidateProduce(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		bs, err := record.ValidateProduce(data, 1<<20, false)
		one, oneErr := record.ValidateProduce(data, 1<<20, true)
		if (oneErr == nil) != (err == nil && bs.Count == 1) {
			t.Fatalf("one-batch validation %v disagrees: %d batches, %v", oneErr, bs.Count, err)
		}
		if oneErr == nil && *one.Header(0) != *bs.Header(0) {
			t.Fatalf("one-batch header %+v, want %+v", *one.Header(0), *bs.Header(0))
		}
		if err != nil {
			return
		}
		again, err := record.ValidateProduce(data, 1<<20, false)
		if err != nil || again.Count != bs.Count || again.Records != bs.Records {
			t.Fatalf("validation not deterministic: %v", err)
		}
		pos, n := 0, 0
		for pos < len(data) {
			h, err := record.ParseHeader(data[pos:])
			if err != nil {
				t.Fatalf("accepted set has an unparsable batch at %d: %v", pos, err)
			}
			if err := record.CheckCRC(data[pos:], &h); err != nil {
				t.Fatal(err)
			}
			if n < bs.Count && *bs.Header(n) != h {
				t.Fatalf("batch %d: carried header %+v, bytes say %+v", n, *bs.Header(n), h)
			}
			pos += int(h.Size())
			n++
		}
		if pos != len(data) || n != bs.Count {
			t.Fatalf("batches do not tile the input: %d/%d bytes, %d/%d batches", pos, len(data), n, bs.Count)
		}
	})
}
