package logfile

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"samsa/mmapindex"
	"samsa/record"
)

func TestAppendReadRoundTrip(t *testing.T) {
	dir := partDir(t)
	l := openLog(t, dir, smallConfig(), Options{})
	var all []appended
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		n := 1 + rng.IntN(5)
		a := mustAppend(t, l, batch(n, 10+rng.IntN(400), byte(i), int64(1000+i)))
		if len(all) > 0 && a.first != all[len(all)-1].last+1 {
			t.Fatalf("offsets not contiguous: %d after %d", a.first, all[len(all)-1].last)
		}
		all = append(all, a)
	}
	if l.NumSegments() < 5 {
		t.Fatalf("expected several segments with 16 KiB segment.bytes, got %d", l.NumSegments())
	}
	want := concat(all)
	mustEqual(t, readAll(t, l, 1<<20), want)
	mustEqual(t, readAll(t, l, 1000), want)
	mustEqual(t, readAll(t, l, 1), want) // one batch per read (KIP-74)

	// Every offset reads from the batch that holds it.
	for _, a := range all {
		for off := a.first; off <= a.last; off++ {
			r, err := l.Read(off, 1, l.EndOffset())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := r.Bytes()
			r.Release()
			mustEqual(t, b, a.data)
		}
	}
	// Segment files are named by base offset and the indexes have entries.
	bases := l.SegmentBases()
	for _, b := range bases {
		if _, err := os.Stat(filepath.Join(dir, SegmentName(b, LogSuffix))); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Closed logs have trimmed indexes: whole entries, no preallocated tail.
	for _, b := range bases {
		fi, err := os.Stat(filepath.Join(dir, SegmentName(b, IndexSuffix)))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() == 0 || fi.Size() >= 4096 || fi.Size()%8 != 0 {
			t.Fatalf("index of %d has size %d: want trimmed entries", b, fi.Size())
		}
	}

	l2 := openLog(t, dir, smallConfig(), Options{Clean: true})
	defer l2.Close()
	if l2.EndOffset() != all[len(all)-1].last+1 {
		t.Fatalf("reopened end %d", l2.EndOffset())
	}
	mustEqual(t, readAll(t, l2, 4096), want)
	a := mustAppend(t, l2, batch(2, 10, 0xee, 5000))
	if a.first != all[len(all)-1].last+1 {
		t.Fatalf("append after reopen at %d", a.first)
	}
}

func TestIndexEntryEveryInterval(t *testing.T) {
	cfg := DefaultConfig()
	l := openLog(t, partDir(t), cfg, Options{})
	defer l.Close()
	b := batch(1, 1000, 1, 1) // ~1 KiB batches
	var positions []int64
	for range 100 {
		positions = append(positions, l.active().Size())
		mustAppend(t, l, append([]byte(nil), b...))
	}
	idx := l.active().Index
	if idx.Len() < 100*len(b)/4096-2 || idx.Len() > 100*len(b)/4096+1 {
		t.Fatalf("%d index entries for %d bytes at a 4096 interval", idx.Len(), 100*len(b))
	}
	// Each entry maps a batch's last offset to that batch's start.
	for i := range idx.Len() {
		off, pos := idx.Entry(i)
		if positions[off] != pos {
			t.Fatalf("entry %d: offset %d -> %d, batch starts at %d", i, off, pos, positions[off])
		}
		if i > 0 {
			_, prev := idx.Entry(i - 1)
			if pos-prev <= 4096 {
				t.Fatalf("entries %d bytes apart, interval is 4096", pos-prev)
			}
		}
	}
}

func TestReadBounds(t *testing.T) {
	l := openLog(t, partDir(t), smallConfig(), Options{})
	defer l.Close()
	var all []appended
	for i := range 10 {
		all = append(all, mustAppend(t, l, batch(3, 100, byte(i), 100)))
	}
	if _, err := l.Read(-1, 100, 30); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("Read(-1): %v", err)
	}
	if _, err := l.Read(31, 100, 30); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("Read(31): %v", err)
	}
	if r, err := l.Read(30, 100, 30); err != nil || r.Len != 0 {
		t.Fatalf("Read at end: %v, len %d", err, r.Len)
	}
	// maxOffset (high watermark) 9 excludes the batch [9, 11].
	r, err := l.Read(0, 1<<20, 9)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := r.Bytes()
	r.Release()
	mustEqual(t, b, concat(all[:3]))
	// A read below the high watermark but in the excluded batch is empty.
	if r, err := l.Read(10, 1<<20, 9); err != nil || r.Len != 0 {
		t.Fatalf("read past hw: %v, %d", err, r.Len)
	}
	// maxBytes cuts at a batch boundary.
	sz := int64(len(all[0].data))
	r, _ = l.Read(4, 2*sz+sz/2, 30)
	b, _ = r.Bytes()
	r.Release()
	mustEqual(t, b, concat(all[1:3]))
}

func TestAppendRejectsBadBatches(t *testing.T) {
	cfg := smallConfig()
	cfg.MaxMessageBytes = 2000
	l := openLog(t, partDir(t), cfg, Options{})
	defer l.Close()
	good := batch(2, 10, 1, 1)
	corrupt := func(f func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		return b
	}
	for name, tc := range map[string]struct {
		b    []byte
		want error
	}{
		"empty":          {nil, record.ErrCorrupt},
		"short":          {good[:40], record.ErrTornTail},
		"truncated":      {good[:len(good)-1], record.ErrTornTail},
		"trailing bytes": {append(append([]byte(nil), good...), 1, 2, 3), record.ErrTornTail},
		"crc":            {corrupt(func(b []byte) { b[len(b)-1] ^= 1 }), record.ErrCRC},
		"magic":          {corrupt(func(b []byte) { b[16] = 1 }), record.ErrMagic},
		"length too small": {corrupt(func(b []byte) {
			b[8], b[9], b[10], b[11] = 0, 0, 0, 10
		}), record.ErrCorrupt},
		"count mismatch": {corrupt(func(b []byte) { b[60] = 5; record.SetCRC(b) }), record.ErrInvalidRecord},
		"too large":      {batch(1, 3000, 1, 1), record.ErrBatchTooLarge},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := l.Append(tc.b); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if l.EndOffset() != 0 || l.Size() != 0 {
		t.Fatalf("rejected batches changed the log: end %d size %d", l.EndOffset(), l.Size())
	}
	// A set of several batches is appended as a unit with contiguous offsets.
	set := append(batch(2, 10, 1, 1), batch(3, 10, 2, 2)...)
	info, err := l.Append(set)
	if err != nil || info.FirstOffset != 0 || info.LastOffset != 4 || info.Batches != 2 {
		t.Fatalf("multi-batch append: %+v %v", info, err)
	}
}

func TestTimestamps(t *testing.T) {
	l := openLog(t, partDir(t), smallConfig(), Options{})
	defer l.Close()
	// Batches of 2 records: timestamps 1000+10i and 1000+10i+1.
	for i := range 200 {
		mustAppend(t, l, batch(2, 200, byte(i), int64(1000+10*i)))
	}
	for _, ts := range []int64{0, 1000, 1001, 1002, 1500, 2990, 2991} {
		info, r, found, err := l.OffsetForTimestamp(ts)
		if err != nil || !found {
			t.Fatalf("ts %d: found %v, %v", ts, found, err)
		}
		r.Release()
		// First batch whose max timestamp (1000+10i+1) >= ts.
		i := max((ts-1000-1+9)/10, 0)
		if info.BaseOffset != 2*i {
			t.Fatalf("ts %d: batch at %d, want %d", ts, info.BaseOffset, 2*i)
		}
	}
	if _, _, found, _ := l.OffsetForTimestamp(2992); found {
		t.Fatal("timestamp past the newest should not be found")
	}
	if ts, off := l.MaxTimestamp(); ts != 2991 || off != 399 {
		t.Fatalf("MaxTimestamp = %d at %d", ts, off)
	}
}

// TestConcurrentReaders runs readers against a writer under -race: every
// region a reader gets is whole valid batches.
func TestConcurrentReaders(t *testing.T) {
	cfg := smallConfig()
	cfg.RetentionBytes = 64 << 10
	l := openLog(t, partDir(t), cfg, Options{})
	defer l.Close()
	var done atomic.Bool
	var wg sync.WaitGroup
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 9))
			reads := 0
			for !done.Load() || reads < 100 {
				start, end := l.StartOffset(), l.EndOffset()
				if end == start {
					continue
				}
				off := start + rng.Int64N(end-start)
				reg, err := l.Read(off, int64(1+rng.IntN(8000)), end)
				if errors.Is(err, ErrOffsetOutOfRange) {
					continue // retention moved the start
				}
				if err != nil {
					t.Error(err)
					return
				}
				b, err := reg.Bytes()
				reg.Release()
				if err != nil {
					t.Error(err)
					return
				}
				if reg.Len > 0 {
					checkBatches(t, b, off)
				}
				reads++
			}
		}()
	}
	for i := range 2000 {
		mustAppend(t, l, batch(1+i%4, 100+i%300, byte(i), int64(i)))
		if i%100 == 0 {
			if _, err := l.DeleteOldSegments(); err != nil {
				t.Error(err)
			}
		}
	}
	done.Store(true)
	wg.Wait()
}

func TestRollOnFullIndex(t *testing.T) {
	cfg := smallConfig()
	cfg.SegmentBytes = 1 << 30
	cfg.IndexIntervalBytes = 0 // an entry for every batch after the first
	cfg.MaxIndexBytes = 10 * mmapindex.TimeEntrySize
	l := openLog(t, partDir(t), cfg, Options{})
	defer l.Close()
	for i := range 50 {
		mustAppend(t, l, batch(1, 10, byte(i), int64(i)))
	}
	if l.NumSegments() < 5 {
		t.Fatalf("%d segments: a full index should roll", l.NumSegments())
	}
	readAll(t, l, 1<<20)
}

func TestScanBatches(t *testing.T) {
	l := openLog(t, partDir(t), smallConfig(), Options{})
	defer l.Close()
	var all []appended
	for i := range 100 {
		all = append(all, mustAppend(t, l, batch(1+i%3, 300, byte(i), int64(i))))
	}
	for _, from := range []int64{0, 1, all[40].first, all[40].first + 1, all[99].last, l.EndOffset()} {
		var got []int64
		if err := l.ScanBatches(from, func(h *record.Header) bool { got = append(got, h.BaseOffset); return true }); err != nil {
			t.Fatal(err)
		}
		var want []int64
		for _, a := range all {
			if a.last >= from {
				want = append(want, a.first)
			}
		}
		if len(got) != len(want) || (len(got) > 0 && (got[0] != want[0] || got[len(got)-1] != want[len(want)-1])) {
			t.Fatalf("from %d: %d batches %v..., want %d", from, len(got), got[:min(3, len(got))], len(want))
		}
	}
	n := 0
	l.ScanBatches(0, func(*record.Header) bool { n++; return n < 5 })
	if n != 5 {
		t.Fatalf("scan did not stop: %d", n)
	}
}

func TestReadChunks(t *testing.T) {
	l := openLog(t, partDir(t), smallConfig(), Options{})
	defer l.Close()
	var all []appended
	for i := range 200 {
		all = append(all, mustAppend(t, l, batch(2, 200, byte(i), int64(i))))
	}
	l.DeleteRecordsBefore(all[10].first)
	var got []byte
	chunks := 0
	if err := l.ReadChunks(3000, func(b []byte) error {
		checkBatches(t, b, firstOffset(b))
		got = append(got, b...)
		chunks++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	mustEqual(t, got, readAll(t, l, 1<<20))
	if chunks < 10 {
		t.Fatalf("%d chunks of at most 3000 bytes for %d bytes", chunks, len(got))
	}
	stop := errors.New("stop")
	if err := l.ReadChunks(3000, func([]byte) error { return stop }); err != stop {
		t.Fatalf("fn's error not returned: %v", err)
	}
}

// firstOffset is the base offset of the first batch in b.
func firstOffset(b []byte) int64 { h, _ := record.ParseHeader(b); return h.BaseOffset }
