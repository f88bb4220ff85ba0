package logfile

import (
	"context"
	"encoding/binary"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// logCapture is a slog handler that keeps every record's message and
// attributes, one line each.
type logCapture struct {
	mu    sync.Mutex
	lines []string
	warns int
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCapture) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *logCapture) WithGroup(string) slog.Handler            { return c }
func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, b.String())
	if r.Level >= slog.LevelWarn {
		c.warns++
	}
	return nil
}

func (c *logCapture) find(prefix string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.lines {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func openDirLogged(t *testing.T, path string) (*Dir, *logCapture) {
	t.Helper()
	c := &logCapture{}
	d, err := OpenDir(path, DirOptions{Logger: slog.New(c)})
	if err != nil {
		t.Fatal(err)
	}
	return d, c
}

// residentIndexPages counts the pages of the active segments' index files,
// over every log of d, that are in the page cache.
func residentIndexPages(t *testing.T, d *Dir) int {
	t.Helper()
	n := 0
	for _, l := range d.Logs() {
		n += residentPages(t, l.active().Path(IndexSuffix)) + residentPages(t, l.active().Path(TimeIndexSuffix))
	}
	return n
}

// residentPages counts the pages of a file that are in the page cache
// (mincore on a mapping of its own).
func residentPages(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	if fi.Size() == 0 {
		return 0
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(data)
	vec := make([]byte, (len(data)+4095)/4096)
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&data[0])), uintptr(len(data)), uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		t.Fatal(errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

// TestRestartManyEmptyPartitions: a directory of 60 empty partitions with
// the default 10 MiB indexes restarts after a clean shutdown without a
// warning or a rebuild, and after a crash by scanning 60 empty segments and
// nothing else; either way the index mappings stay out of memory. Before
// time indexes followed Kafka's maybeAppend rule, Close gave each empty
// segment a (NoTimestamp, base) entry, the clean restart rebuilt every
// segment, and each rebuild read its 10 MiB preallocated indexes.
func TestRestartManyEmptyPartitions(t *testing.T) {
	const parts = 60
	path := t.TempDir()
	// The broker writes meta.properties before it opens the directory.
	os.WriteFile(filepath.Join(path, "meta.properties"), []byte("version=0\n"), 0o644)
	d, c := openDirLogged(t, path)
	if !d.Fresh() || d.WasClean() {
		t.Fatalf("new directory: Fresh %v, WasClean %v; want a fresh one", d.Fresh(), d.WasClean())
	}
	if line := c.find("INFO loaded log directory"); !strings.Contains(line, "state=new") {
		t.Fatalf("a new directory is not reported as new: %q", line)
	}
	for i := range parts {
		if _, err := d.Create(TopicPartition{Topic: "__consumer_offsets", Partition: int32(i)}, DefaultConfig()); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range parts {
		for _, suf := range []string{IndexSuffix, TimeIndexSuffix} {
			p := filepath.Join(path, TopicPartition{Topic: "__consumer_offsets", Partition: int32(i)}.String(), SegmentName(0, suf))
			if fi, err := os.Stat(p); err != nil || fi.Size() != 0 {
				t.Fatalf("%s after a clean close: %v, %v; want an empty file", p, fi.Size(), err)
			}
		}
	}

	d, c = openDirLogged(t, path)
	if d.Fresh() || !d.WasClean() {
		t.Fatalf("clean restart: Fresh %v, WasClean %v", d.Fresh(), d.WasClean())
	}
	if got := d.LoadStats(); got != (LoadStats{}) || c.warns != 0 {
		t.Fatalf("clean restart of %d empty partitions: %+v, %d warnings:\n%s", parts, got, c.warns, strings.Join(c.lines, "\n"))
	}
	if line := c.find("INFO loaded log directory"); !strings.Contains(line, "state=clean") || !strings.Contains(line, "rebuilt_segments=0") {
		t.Fatalf("load line %q", line)
	}
	// Two indexes per partition, each 10 MiB mapped: at most a page each.
	if n := residentIndexPages(t, d); n > 2*parts {
		t.Fatalf("%d index pages in memory after a clean restart, want at most %d", n, 2*parts)
	}

	// A crash: every empty segment is recovered, at the cost of nothing.
	d.lock.Close()
	d2, c := openDirLogged(t, path)
	defer d2.Close()
	if d2.Fresh() || d2.WasClean() {
		t.Fatalf("crash: Fresh %v, WasClean %v", d2.Fresh(), d2.WasClean())
	}
	if got := d2.LoadStats(); got != (LoadStats{Recovered: parts}) || c.warns != 0 {
		t.Fatalf("unclean restart: %+v, %d warnings", got, c.warns)
	}
	if line := c.find("INFO loaded log directory"); !strings.Contains(line, "state=unclean") {
		t.Fatalf("load line %q", line)
	}
	if n := residentIndexPages(t, d2); n > 2*parts {
		t.Fatalf("%d index pages in memory after an unclean restart", n)
	}
}

// TestLegacyEmptyTimeIndex: a directory written before the fix holds, for
// each empty segment, a time index of one (NoTimestamp, base) entry. It
// loads without a rebuild; the active segment drops the entry and its next
// close leaves an empty file, and a read-only segment keeps it harmlessly.
func TestLegacyEmptyTimeIndex(t *testing.T) {
	legacy := make([]byte, 12)
	binary.BigEndian.PutUint64(legacy, ^uint64(0)) // NoTimestamp, relative offset 0
	path := t.TempDir()
	d, _ := openDirLogged(t, path)
	for i := range 3 {
		if _, err := d.Create(TopicPartition{Topic: "old", Partition: int32(i)}, DefaultConfig()); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	// Partition 2 gets a non-active empty segment 0 (as compaction may
	// leave) before an active segment 10 holding a batch.
	p2 := filepath.Join(path, "old-2")
	b := batch(1, 10, 'x', 1000)
	putBase(b, 10)
	os.WriteFile(filepath.Join(p2, SegmentName(10, LogSuffix)), b, 0o644)
	os.WriteFile(filepath.Join(p2, SegmentName(10, IndexSuffix)), nil, 0o644)
	os.WriteFile(filepath.Join(p2, SegmentName(10, TimeIndexSuffix)), nil, 0o644)
	for i := range 3 {
		os.WriteFile(filepath.Join(path, TopicPartition{Topic: "old", Partition: int32(i)}.String(), SegmentName(0, TimeIndexSuffix)), legacy, 0o644)
	}

	d, c := openDirLogged(t, path)
	if got := d.LoadStats(); got != (LoadStats{}) || c.warns != 0 {
		t.Fatalf("legacy directory: %+v, %d warnings:\n%s", got, c.warns, strings.Join(c.lines, "\n"))
	}
	for i := range 2 {
		if n := d.Get(TopicPartition{Topic: "old", Partition: int32(i)}).active().TimeIndex.Len(); n != 0 {
			t.Fatalf("active legacy time index keeps %d entries", n)
		}
	}
	l2 := d.Get(TopicPartition{Topic: "old", Partition: 2})
	if l2.EndOffset() != 11 || l2.NumSegments() != 2 {
		t.Fatalf("partition 2: end %d, %d segments", l2.EndOffset(), l2.NumSegments())
	}
	info, r, found, err := l2.OffsetForTimestamp(0)
	if !found || err != nil || info.BaseOffset != 10 || info.MaxTimestamp != 1000 {
		t.Fatalf("OffsetForTimestamp(0) past the legacy entry = %+v, %v, %v", info, found, err)
	}
	r.Release()
	// Appends after the repair index as usual: a kept (NoTimestamp, 0)
	// entry would refuse the entry (2000, 0) as not increasing.
	l0 := d.Get(TopicPartition{Topic: "old", Partition: 0})
	mustAppend(t, l0, batch(1, 10, 'a', 2000))
	for i := range 10 {
		mustAppend(t, l0, batch(1, 1000, byte(i), 1000))
	}
	if err := d.Close(); err != nil || c.warns != 0 {
		t.Fatalf("close after appends: %v, %d warnings:\n%s", err, c.warns, strings.Join(c.lines, "\n"))
	}
	// Partition 1 stayed empty. Its dropped entry is zeroed in place (the
	// file is never cut below the entries it was loaded with, which a
	// reader may have seen), so the file holds no entry; the close after
	// the next open trims it away.
	p1 := filepath.Join(path, "old-1", SegmentName(0, TimeIndexSuffix))
	if data, _ := os.ReadFile(p1); strings.Trim(string(data), "\x00") != "" {
		t.Fatalf("time index %x after the repair and a close", data)
	}
	d, c = openDirLogged(t, path)
	if got := d.LoadStats(); got != (LoadStats{}) || c.warns != 0 {
		t.Fatalf("second restart: %+v, %d warnings", got, c.warns)
	}
	d.Close()
	if data, _ := os.ReadFile(p1); len(data) != 0 {
		t.Fatalf("time index %x after two closes", data)
	}
}

// TestUntrimmedClosedSegment: a crash right after a roll can leave a
// closed segment's indexes at their preallocated 10 MiB. Below the recovery
// point such a segment is opened read-only and sanity-checked: that reads
// its entries, not the zeros after them, and warns of nothing.
func TestUntrimmedClosedSegment(t *testing.T) {
	dir := partDir(t)
	cfg := DefaultConfig()
	cfg.SegmentBytes = 64 << 10
	cfg.IndexIntervalBytes = 1024
	l := openLog(t, dir, cfg, Options{})
	var all []appended
	for i := 0; l.NumSegments() < 3; i++ {
		all = append(all, mustAppend(t, l, batch(2, 1000, byte(i), int64(1000+i))))
	}
	bases := l.SegmentBases()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for suf, entry := range map[string]int64{IndexSuffix: 8, TimeIndexSuffix: 12} {
		if err := os.Truncate(filepath.Join(dir, SegmentName(bases[0], suf)), cfg.MaxIndexBytes/entry*entry); err != nil {
			t.Fatal(err)
		}
	}
	c := &logCapture{}
	r := openLog(t, dir, cfg, Options{Clean: true, Logger: slog.New(c)})
	defer r.Close()
	if got := r.LoadStats(); got != (LoadStats{}) || c.warns != 0 {
		t.Fatalf("%+v, %d warnings:\n%s", got, c.warns, strings.Join(c.lines, "\n"))
	}
	mustEqual(t, readAll(t, r, 1<<20), concat(all))
	seg := (*r.segs.Load())[0]
	if seg.Index.Len() == 0 || seg.TimeIndex.Len() == 0 {
		t.Fatalf("entries lost: %d, %d", seg.Index.Len(), seg.TimeIndex.Len())
	}
	for _, suf := range []string{IndexSuffix, TimeIndexSuffix} {
		if n := residentPages(t, seg.Path(suf)); n > 2 {
			t.Fatalf("%s: %d pages of the untrimmed file in memory, want the page of its entries", suf, n)
		}
	}
}

// TestRebuildTouchesOnlyEntries: rebuilding the 10 MiB indexes of an active
// segment that fails its sanity check brings into memory the pages of the
// rebuilt entries, not the preallocated files (the rebuild used to reopen
// the segment and read both files whole).
func TestRebuildTouchesOnlyEntries(t *testing.T) {
	dir := partDir(t)
	cfg := DefaultConfig()
	cfg.IndexIntervalBytes = 1024
	l := openLog(t, dir, cfg, Options{})
	var all []appended
	for i := range 50 {
		all = append(all, mustAppend(t, l, batch(2, 1000, byte(i), int64(1000+i))))
	}
	l.Close()
	// A time index entry past the end of the segment fails the sanity check.
	p := filepath.Join(dir, SegmentName(0, TimeIndexSuffix))
	data, _ := os.ReadFile(p)
	os.WriteFile(p, append(data, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0), 0o644)

	c := &logCapture{}
	r := openLog(t, dir, cfg, Options{Clean: true, Logger: slog.New(c)})
	defer r.Close()
	if got := r.LoadStats(); got != (LoadStats{Rebuilt: 1}) || c.warns != 1 {
		t.Fatalf("%+v, %d warnings, want one rebuilt segment", got, c.warns)
	}
	mustEqual(t, readAll(t, r, 1<<20), concat(all))
	s := r.active()
	if s.Index.Len() == 0 || s.TimeIndex.Len() == 0 {
		t.Fatal("nothing rebuilt")
	}
	for _, suf := range []string{IndexSuffix, TimeIndexSuffix} {
		if n := residentPages(t, s.Path(suf)); n > 2 {
			t.Fatalf("%s: %d pages in memory after the rebuild, want the page of its entries", suf, n)
		}
	}
}
