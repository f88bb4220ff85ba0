package logfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRetentionByTime(t *testing.T) {
	c := newClock(1_700_000_000_000)
	cfg := smallConfig()
	cfg.RetentionMs = 60_000
	l := openLog(t, partDir(t), cfg, Options{Now: c.Now})
	defer l.Close()
	// Old records (timestamps an hour ago), then fresh ones.
	old := c.Now().Add(-time.Hour).UnixMilli()
	for i := range 100 {
		mustAppend(t, l, batch(2, 200, byte(i), old+int64(i)))
	}
	l.Roll()
	var fresh []appended
	for i := range 100 {
		fresh = append(fresh, mustAppend(t, l, batch(2, 200, byte(i), c.Now().UnixMilli())))
	}
	n, err := l.DeleteOldSegments()
	if err != nil || n == 0 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	if l.StartOffset() != fresh[0].first {
		t.Fatalf("start %d, want %d", l.StartOffset(), fresh[0].first)
	}
	mustEqual(t, readAll(t, l, 1<<20), concat(fresh))
	// Later, everything expires: the active segment is rolled so that its
	// data can go, and the log stays writable at the same end.
	c.Advance(2 * time.Minute)
	end := l.EndOffset()
	if _, err := l.DeleteOldSegments(); err != nil {
		t.Fatal(err)
	}
	if l.StartOffset() != end || l.EndOffset() != end || l.Size() != 0 {
		t.Fatalf("after full expiry start %d end %d size %d", l.StartOffset(), l.EndOffset(), l.Size())
	}
	if a := mustAppend(t, l, batch(1, 1, 1, c.Now().UnixMilli())); a.first != end {
		t.Fatalf("append after expiry at %d", a.first)
	}
}

func TestRetentionByBytes(t *testing.T) {
	cfg := smallConfig()
	cfg.RetentionBytes = 50 << 10
	l := openLog(t, partDir(t), cfg, Options{})
	defer l.Close()
	for i := range 1000 {
		mustAppend(t, l, batch(1, 200, byte(i), int64(i)))
	}
	before := l.NumSegments()
	if _, err := l.DeleteOldSegments(); err != nil {
		t.Fatal(err)
	}
	// Kafka's rule: delete the oldest segment while the log without it is
	// still at least retention.bytes.
	first := (*l.segs.Load())[0].Size()
	if l.Size() < cfg.RetentionBytes || l.Size()-first >= cfg.RetentionBytes || l.NumSegments() >= before {
		t.Fatalf("size %d (first segment %d) after retention of %d (segments %d -> %d)", l.Size(), first, cfg.RetentionBytes, before, l.NumSegments())
	}
	readAll(t, l, 1<<20)
	// The active segment is never deleted, whatever the limit.
	cfg.RetentionBytes = 0
	l.SetConfig(cfg)
	l.DeleteOldSegments()
	if l.NumSegments() != 1 || l.Size() == 0 {
		t.Fatalf("%d segments, size %d: active segment must stay", l.NumSegments(), l.Size())
	}
}

// TestDeletedSegmentStaysReadable: a region keeps its segment's file open
// after retention deletes it; the files go when the region is released.
func TestDeletedSegmentStaysReadable(t *testing.T) {
	dir := partDir(t)
	cfg := smallConfig()
	l := openLog(t, dir, cfg, Options{})
	defer l.Close()
	var all []appended
	for i := range 200 {
		all = append(all, mustAppend(t, l, batch(2, 200, byte(i), int64(i))))
	}
	r, err := l.Read(0, 1<<20, l.EndOffset())
	if err != nil {
		t.Fatal(err)
	}
	// Background fsyncs after rolls hold segment references for a moment;
	// wait for them so that only the region's reference remains.
	l.bg.Wait()
	if _, err := l.DeleteRecordsBefore(l.EndOffset() - 1); err != nil {
		t.Fatal(err)
	}
	if l.NumSegments() != 1 {
		t.Fatalf("%d segments after DeleteRecords", l.NumSegments())
	}
	if _, err := l.Read(0, 100, l.EndOffset()); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below start: %v", err)
	}
	deleted := func() int {
		ents, _ := os.ReadDir(dir)
		n := 0
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), DeletedSuffix) {
				n++
			}
		}
		return n
	}
	if deleted() != 3 {
		t.Fatalf("%d .deleted files while a region holds the first segment, want its 3", deleted())
	}
	b, err := r.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	checkBatches(t, b, 0)
	mustEqual(t, b, concat(all)[:len(b)])
	r.Release()
	if deleted() != 0 {
		t.Fatal("files of the deleted segment remain after release")
	}
}

func TestDeleteRecordsBounds(t *testing.T) {
	l := openLog(t, partDir(t), smallConfig(), Options{})
	defer l.Close()
	for i := range 10 {
		mustAppend(t, l, batch(1, 10, byte(i), 1))
	}
	l.SetHighWatermark(5)
	if _, err := l.DeleteRecordsBefore(6); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("past hw: %v", err)
	}
	if s, err := l.DeleteRecordsBefore(3); err != nil || s != 3 {
		t.Fatalf("DeleteRecordsBefore(3) = %d, %v", s, err)
	}
	// The start offset can sit inside a segment: reads begin there.
	if _, err := l.Read(2, 100, 5); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatal("offset 2 should be below the start")
	}
	r, err := l.Read(3, 1, 5)
	if err != nil || r.Len == 0 {
		t.Fatalf("read at start: %v", err)
	}
	r.Release()
}

func TestTruncateTo(t *testing.T) {
	dir := partDir(t)
	l := openLog(t, dir, smallConfig(), Options{})
	var all []appended
	for i := range 200 {
		all = append(all, mustAppend(t, l, batch(2, 200, byte(i), int64(i))))
	}
	bases := l.SegmentBases()
	held, _ := l.Read(all[len(all)-1].first, 1<<20, l.EndOffset())

	// Into the active segment, at a batch boundary.
	cut := all[len(all)-3].first
	if err := l.TruncateTo(cut); err != nil {
		t.Fatal(err)
	}
	if l.EndOffset() != cut {
		t.Fatalf("end %d, want %d", l.EndOffset(), cut)
	}
	all = all[:len(all)-3]
	mustEqual(t, readAll(t, l, 1<<20), concat(all))
	held.Release()

	// Into an older segment, mid-batch: the straddling batch goes whole.
	k := 0
	for all[k].first < bases[1]+10 {
		k++
	}
	if err := l.TruncateTo(all[k].first + 1); err != nil {
		t.Fatal(err)
	}
	all = all[:k]
	if l.EndOffset() != all[k-1].last+1 || l.NumSegments() != 2 {
		t.Fatalf("end %d, segments %d", l.EndOffset(), l.NumSegments())
	}
	mustEqual(t, readAll(t, l, 1<<20), concat(all))
	for _, b := range bases[2:] {
		if _, err := os.Stat(filepath.Join(dir, SegmentName(b, LogSuffix))); !os.IsNotExist(err) {
			t.Fatalf("segment %d survives truncation", b)
		}
	}
	// Appends continue from the new end, and everything survives a reopen.
	for i := range 50 {
		all = append(all, mustAppend(t, l, batch(2, 200, byte(i), int64(i))))
	}
	l.Close()
	r := openLog(t, dir, smallConfig(), Options{Clean: true})
	defer r.Close()
	mustEqual(t, readAll(t, r, 1<<20), concat(all))

	// Below the first segment: the log restarts empty at that offset.
	if err := r.TruncateTo(0); err != nil {
		t.Fatal(err)
	}
	if r.EndOffset() != 0 || r.Size() != 0 || r.NumSegments() != 1 {
		t.Fatalf("after truncate to 0: end %d size %d", r.EndOffset(), r.Size())
	}
	// A negative offset names no segment: refused, the log unchanged and
	// still writable (FuzzCloseReopen found a segment "-0000000000000000004").
	if err := r.TruncateTo(-4); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("TruncateTo(-4) = %v, want ErrOffsetOutOfRange", err)
	}
	if bases := r.SegmentBases(); len(bases) != 1 || bases[0] != 0 || r.Err() != nil {
		t.Fatalf("after TruncateTo(-4): segments %v, err %v", bases, r.Err())
	}
	mustAppend(t, r, batch(1, 10, 1, 1))
}

func TestSegmentMsRoll(t *testing.T) {
	c := newClock(1_700_000_000_000)
	cfg := smallConfig()
	cfg.SegmentMs = 1000
	l := openLog(t, partDir(t), cfg, Options{Now: c.Now})
	defer l.Close()
	mustAppend(t, l, batch(1, 10, 1, c.Now().UnixMilli()))
	mustAppend(t, l, batch(1, 10, 1, c.Now().UnixMilli()))
	if l.NumSegments() != 1 {
		t.Fatal("rolled too early")
	}
	c.Advance(1500 * time.Millisecond)
	mustAppend(t, l, batch(1, 10, 1, c.Now().UnixMilli()))
	if l.NumSegments() != 2 {
		t.Fatalf("%d segments: segment.ms should roll", l.NumSegments())
	}
}

// TestTruncateToRebuildsIndexesAside: when TruncateTo finds the indexes of
// the segment it cuts corrupt, it rebuilds them into new files (new
// inodes), so that readers of the replaced segment object keep a valid
// mapping of the old ones, and the log reads and looks up as it should.
func TestTruncateToRebuildsIndexesAside(t *testing.T) {
	dir := partDir(t)
	l := openLog(t, dir, smallConfig(), Options{})
	defer l.Close()
	var all []appended
	for i := range 20 {
		all = append(all, mustAppend(t, l, batch(2, 200, byte(i), int64(1000+i))))
	}
	kept := all[len(all)-4]
	held, err := l.Read(kept.first, 1, l.EndOffset())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	act := l.active()
	inode := func(suf string) uint64 {
		fi, err := os.Stat(act.Path(suf))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	before := inode(TimeIndexSuffix)
	// A partial entry: the time index no longer opens.
	f, _ := os.OpenFile(act.Path(TimeIndexSuffix), os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{1, 2, 3})
	f.Close()

	cut := all[len(all)-3].first
	if err := l.TruncateTo(cut); err != nil {
		t.Fatal(err)
	}
	if inode(TimeIndexSuffix) == before {
		t.Fatal("time index rebuilt in place under the old segment's readers")
	}
	if b, err := held.Bytes(); err != nil || !bytes.Equal(b, kept.data) {
		t.Fatalf("region held across the truncation: %d bytes, %v", len(b), err)
	}
	mustEqual(t, readAll(t, l, 1<<20), concat(all[:len(all)-3]))
	info, r, found, err := l.OffsetForTimestamp(1000 + int64(len(all)) - 4) // batch i holds 1000+i, 1001+i
	if err != nil || !found || info.BaseOffset != all[len(all)-5].first {
		t.Fatalf("time lookup after the rebuild: %+v %v %v", info, found, err)
	}
	r.Release()
}
