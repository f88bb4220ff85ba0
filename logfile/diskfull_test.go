package logfile

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"samsa/logfile/vfs"
	"samsa/mmapindex"
)

func isIndexFile(p string) bool {
	return strings.HasSuffix(p, IndexSuffix) || strings.HasSuffix(p, TimeIndexSuffix)
}

// TestIndexStepENOSPC: the disk is full when an index needs its next step
// of reserved blocks (mmapindex invariant 3). The append that needed it
// fails with ENOSPC before anything of it is visible, the indexes keep
// exactly the entries of the acknowledged batches, the log refuses appends
// until it is reopened (invariant 5), and the reopened log holds every
// acknowledged batch and takes appends.
func TestIndexStepENOSPC(t *testing.T) {
	fsys := vfs.NewFaulty(vfs.OS)
	dir := partDir(t)
	cfg := DefaultConfig()
	cfg.IndexIntervalBytes = 1 // an entry for every batch after the first
	l := openLog(t, dir, cfg, Options{FS: fsys})
	// The open reserved a page for each index; no more from here.
	fsys.Fail(vfs.OpAllocate, isIndexFile, syscall.ENOSPC)
	var acked []appended
	var failed error
	for i := 0; failed == nil; i++ {
		if i > 10000 {
			t.Fatal("no append failed")
		}
		b := batch(1, 20, byte(i), int64(1000+i))
		info, err := l.Append(b)
		if err != nil {
			failed = err
			break
		}
		acked = append(acked, appended{info.FirstOffset, info.LastOffset, b})
	}
	if !errors.Is(failed, syscall.ENOSPC) {
		t.Fatalf("append on a full disk: %v, want ENOSPC", failed)
	}
	// The time index, 12-byte entries, fills its page first: 341 entries,
	// for every batch but the first.
	perPage := 4096 / mmapindex.TimeEntrySize
	if len(acked) != perPage+1 {
		t.Fatalf("%d batches acknowledged, want %d: the failure is not at the step", len(acked), perPage+1)
	}
	seg := l.active()
	if seg.Index.Len() != perPage || seg.TimeIndex.Len() != perPage {
		t.Fatalf("indexes hold %d and %d entries, want %d each", seg.Index.Len(), seg.TimeIndex.Len(), perPage)
	}
	if off, pos := seg.Index.Last(); off != acked[perPage].last || pos != int64(perPage*len(acked[0].data)) {
		t.Fatalf("last index entry (%d, %d) is not the last acknowledged batch", off, pos)
	}
	if _, off := seg.TimeIndex.Last(); off != acked[perPage].last {
		t.Fatalf("last time index entry at %d, want %d", off, acked[perPage].last)
	}
	if l.EndOffset() != acked[len(acked)-1].last+1 || l.Err() == nil {
		t.Fatalf("end %d, error %v after the failure", l.EndOffset(), l.Err())
	}
	mustEqual(t, readAll(t, l, 1<<20), concat(acked))
	for _, a := range acked {
		r, err := l.Read(a.first, 1, l.EndOffset())
		if err != nil {
			t.Fatalf("read %d: %v", a.first, err)
		}
		b, _ := r.Bytes()
		r.Release()
		mustEqual(t, b, a.data)
	}
	fsys.Heal()
	if _, err := l.Append(batch(1, 20, 0xee, 5000)); err == nil {
		t.Fatal("append succeeded on a failed log")
	}
	l.Close()

	r := openLog(t, dir, cfg, Options{FS: fsys})
	defer r.Close()
	mustEqual(t, readAll(t, r, 1<<20), concat(acked))
	mustAppend(t, r, batch(1, 20, 0xcc, 6000))
}

// TestDiskFullWhileIndexesGrow: partitions of one log directory take
// batches, rolling segments and growing their indexes step by step, until
// the disk is full (vfs.Faulty's byte budget, which writes and fallocate
// both draw on). The disk fills at each kind of write in turn: a batch, an
// index's next step, a new segment's first step (a roll); a first run
// records the writes so that each budget ends inside the chosen one. Every
// partition's appends then fail. Each log holds exactly its acknowledged
// batches, refuses appends while it has a write error, and after a reopen
// with room holds them all still and takes appends.
func TestDiskFullWhileIndexesGrow(t *testing.T) {
	rec := &recorder{FS: vfs.OS}
	probe := newFullDisk(t, vfs.NewFaulty(rec))
	mark := rec.len()
	for round := range 2000 {
		probe.round(t, round)
	}
	if probe.failures() != 0 {
		t.Fatal("appends failed with no fault injected")
	}
	events := rec.since(mark)
	for _, kind := range []string{"batch", "index step", "roll"} {
		t.Run(kind, func(t *testing.T) {
			// The first write of the kind in the second half of the run.
			var budget int64
			k := len(events) / 2
			for i, e := range events {
				if i < k {
					budget += e.n
					continue
				}
				if e.kind() == kind {
					budget += e.n / 2 // this write crosses the budget
					break
				}
				budget += e.n
			}
			fsys := vfs.NewFaulty(vfs.OS)
			d := newFullDisk(t, fsys)
			fsys.FailAfter(budget, syscall.ENOSPC)
			for round := 0; d.failures() < len(d.logs) || d.anyAcked; round++ {
				if round > 100000 {
					t.Fatal("the disk never filled")
				}
				d.round(t, round)
			}
			if d.firstKind != kind {
				t.Fatalf("the disk filled at a %s, want a %s (first failures by kind: %v)", d.firstKind, kind, d.first)
			}
			d.check(t, fsys)
		})
	}
}

// fullDisk is the workload of TestDiskFullWhileIndexesGrow: partitions of
// one directory with what each acknowledged and how it first failed.
type fullDisk struct {
	path      string
	cfg       Config
	d         *Dir
	logs      []*Log
	acked     [][]appended
	failed    []error
	first     map[string]int // first failures by kind of write
	firstKind string         // of the first failure of all
	anyAcked  bool           // in the last round
}

func newFullDisk(t *testing.T, fsys vfs.FS) *fullDisk {
	const parts = 6
	cfg := DefaultConfig()
	cfg.SegmentBytes = 256 << 10 // ~1,300 batches: indexes take steps
	cfg.IndexIntervalBytes = 1   // an entry per batch
	cfg.RetentionMs = -1
	w := &fullDisk{path: t.TempDir(), cfg: cfg, first: map[string]int{},
		logs: make([]*Log, parts), acked: make([][]appended, parts), failed: make([]error, parts)}
	var err error
	if w.d, err = OpenDir(w.path, w.dirOptions(fsys)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.d.Close() })
	for i := range w.logs {
		if w.logs[i], err = w.d.Create(TopicPartition{Topic: "t", Partition: int32(i)}, cfg); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func (w *fullDisk) dirOptions(fsys vfs.FS) DirOptions {
	return DirOptions{FS: fsys, Logger: quiet, ConfigFor: func(string) Config { return w.cfg },
		CheckpointInterval: time.Hour, FlushCheckInterval: time.Hour, RetentionCheckInterval: time.Hour}
}

// round appends one batch to every partition; the batches differ in size
// and record count from round to round, the same in every run.
func (w *fullDisk) round(t *testing.T, round int) {
	w.anyAcked = false
	for i, l := range w.logs {
		b := batch(1+(round+i)%3, 20+(round*37+i*101)%100, byte(round), int64(1000+round))
		info, err := l.Append(b)
		if err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("partition %d: %v, want ENOSPC", i, err)
			}
			if w.failed[i] == nil {
				w.failed[i] = err
				w.first[failureKind(err)]++
			}
			if w.firstKind == "" {
				w.firstKind = failureKind(err)
			}
			continue
		}
		w.acked[i] = append(w.acked[i], appended{info.FirstOffset, info.LastOffset, b})
		w.anyAcked = true
	}
}

func (w *fullDisk) failures() (n int) {
	for _, err := range w.failed {
		if err != nil {
			n++
		}
	}
	return n
}

// check verifies the logs after the disk filled, then reopens the
// directory with room and verifies it again.
func (w *fullDisk) check(t *testing.T, fsys *vfs.Faulty) {
	for i, l := range w.logs {
		mustEqual(t, readAll(t, l, 1<<20), concat(w.acked[i]))
		if last := w.acked[i][len(w.acked[i])-1].last; l.EndOffset() != last+1 {
			t.Fatalf("partition %d ends at %d, last acknowledged %d", i, l.EndOffset(), last)
		}
	}
	fsys.Heal()
	for i, l := range w.logs {
		// A failed write is sticky; only a roll that could not create
		// its segment leaves the log writable once space is back.
		if l.Err() != nil {
			if _, err := l.Append(batch(1, 10, 1, 1)); err == nil {
				t.Fatalf("partition %d: append succeeded on a failed log", i)
			}
		} else if failureKind(w.failed[i]) != "roll" {
			t.Fatalf("partition %d: write error %v not sticky", i, w.failed[i])
		}
	}
	w.d.Close()

	d, err := OpenDir(w.path, w.dirOptions(vfs.OS))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for i := range w.logs {
		l := d.Get(TopicPartition{Topic: "t", Partition: int32(i)})
		mustEqual(t, readAll(t, l, 1<<20), concat(w.acked[i]))
		mustAppend(t, l, batch(1, 10, 0xcc, 1))
	}
	// No index file kept more than its entries and one step.
	ents, _ := filepath.Glob(filepath.Join(w.path, "t-*", "*index"))
	for _, e := range ents {
		if fi, err := os.Stat(e); err != nil || fi.Size() > 64<<10 {
			t.Fatalf("%s: %v, %d bytes", e, err, fi.Size())
		}
	}
}

// failureKind names the write an append failed at, from its error.
func failureKind(err error) string {
	switch s := err.Error(); {
	case strings.Contains(s, "roll"):
		return "roll"
	case strings.Contains(s, "mmapindex: reserve"):
		return "index step"
	default:
		return "batch"
	}
}

// recorder is an FS that records the writes that draw on a disk's space:
// WriteAt and Allocate, in order.
type recorder struct {
	vfs.FS
	mu     sync.Mutex
	events []writeEvent
}

type writeEvent struct {
	path  string
	alloc bool
	off   int64
	n     int64
}

// kind is the kind of write as failureKind names it: a batch (the .log),
// an index's first step (a new segment: a roll) or a later one.
func (e writeEvent) kind() string {
	switch {
	case !isIndexFile(e.path):
		return "batch"
	case e.off == 0:
		return "roll"
	}
	return "index step"
}

func (r *recorder) add(e writeEvent) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func (r *recorder) since(i int) []writeEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events[i:])
}

func (r *recorder) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	f, err := r.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &recFile{File: f, r: r}, nil
}

type recFile struct {
	vfs.File
	r *recorder
}

func (f *recFile) WriteAt(p []byte, off int64) (int, error) {
	f.r.add(writeEvent{f.Name(), false, off, int64(len(p))})
	return f.File.WriteAt(p, off)
}

func (f *recFile) Allocate(off, n int64) error {
	f.r.add(writeEvent{f.Name(), true, off, n})
	return f.File.Allocate(off, n)
}
