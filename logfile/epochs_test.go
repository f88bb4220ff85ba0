package logfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"samsa/logfile/vfs"
	"samsa/record"
)

// leaderBatch is a batch as a leader stores it: base offset and leader
// epoch stamped (both outside the CRC).
func leaderBatch(base int64, epoch int32, n int, fill byte) []byte {
	b := batch(n, 16, fill, 1000+base)
	record.SetBaseOffset(b, base)
	record.SetLeaderEpoch(b, epoch)
	return b
}

// TestEpochCache: assignments, Kafka's endOffsetFor answers, the
// checkpoint file in Kafka's text format, truncation from the end and the
// start, and reopening.
func TestEpochCache(t *testing.T) {
	dir := partDir(t)
	l := openLog(t, dir, smallConfig(), Options{})
	for _, a := range []struct {
		epoch int32
		start int64
	}{{0, 0}, {2, 10}, {2, 12}, {5, 30}} {
		if err := l.AssignEpoch(a.epoch, a.start); err != nil {
			t.Fatal(err)
		}
	}
	want := []EpochEntry{{0, 0}, {2, 10}, {5, 30}}
	if got := l.Epochs(); !slices.Equal(got, want) {
		t.Fatalf("epochs %v, want %v", got, want)
	}
	data, err := os.ReadFile(filepath.Join(dir, LeaderEpochCheckpoint))
	if err != nil || string(data) != "0\n3\n0 0\n2 10\n5 30\n" {
		t.Fatalf("checkpoint %q, %v", data, err)
	}
	// The log end answers for the latest epoch.
	for range 40 {
		mustAppend(t, l, batch(1, 8, 'a', 1))
	}
	for _, c := range []struct {
		req       int32
		epoch     int32
		endOffset int64
	}{{5, 5, 40}, {2, 2, 30}, {3, 2, 30}, {4, 2, 30}, {0, 0, 10}, {1, 0, 10}, {6, -1, -1}, {-1, -1, -1}} {
		if e, o := l.EpochEndOffset(c.req); e != c.epoch || o != c.endOffset {
			t.Errorf("EpochEndOffset(%d) = (%d, %d), want (%d, %d)", c.req, e, o, c.epoch, c.endOffset)
		}
	}
	// A lower epoch or start offset removes what it contradicts.
	if err := l.AssignEpoch(4, 20); err != nil {
		t.Fatal(err)
	}
	if got, want := l.Epochs(), []EpochEntry{{0, 0}, {2, 10}, {4, 20}}; !slices.Equal(got, want) {
		t.Fatalf("after assigning 4@20: %v, want %v", got, want)
	}
	if err := l.TruncateTo(15); err != nil {
		t.Fatal(err)
	}
	if got, want := l.Epochs(), []EpochEntry{{0, 0}, {2, 10}}; !slices.Equal(got, want) {
		t.Fatalf("after truncating to 15: %v, want %v", got, want)
	}
	if _, err := l.DeleteRecordsBefore(12); err == nil || !errors.Is(err, ErrOffsetOutOfRange) {
		// The standalone log's high watermark is its end (15).
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, want := l.Epochs(), []EpochEntry{{2, 12}}; !slices.Equal(got, want) {
		t.Fatalf("after the log start moved to 12: %v, want %v", got, want)
	}
	l.Close()
	l = openLog(t, dir, smallConfig(), Options{Clean: true})
	defer l.Close()
	if got, want := l.Epochs(), []EpochEntry{{2, 12}}; !slices.Equal(got, want) {
		t.Fatalf("after reopening: %v, want %v", got, want)
	}
}

// TestAppendAsFollower: a follower keeps the leader's offsets (gaps of a
// compacted leader included) and learns its epochs from the batches; an
// overlap with its own log end is refused; a manual high watermark stays
// where it is set.
func TestAppendAsFollower(t *testing.T) {
	dir := partDir(t)
	l := openLog(t, dir, smallConfig(), Options{ManualHighWatermark: true})
	defer l.Close()
	buf := append(leaderBatch(0, 1, 3, 'a'), leaderBatch(3, 1, 2, 'b')...)
	buf = append(buf, leaderBatch(9, 4, 1, 'c')...) // offsets 5-8 compacted away
	info, err := l.AppendAsFollower(buf)
	if err != nil {
		t.Fatal(err)
	}
	if info.FirstOffset != 0 || info.LastOffset != 9 || l.EndOffset() != 10 {
		t.Fatalf("append: %+v, end %d", info, l.EndOffset())
	}
	if got, want := l.Epochs(), []EpochEntry{{1, 0}, {4, 9}}; !slices.Equal(got, want) {
		t.Fatalf("epochs %v, want %v", got, want)
	}
	if hw := l.HighWatermark(); hw != 0 {
		t.Fatalf("manual high watermark moved to %d by an append", hw)
	}
	l.SetHighWatermark(7)
	if _, err := l.AppendAsFollower(leaderBatch(8, 4, 1, 'd')); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("overlapping append: %v", err)
	}
	bad := leaderBatch(10, 4, 1, 'e')
	bad[len(bad)-1] ^= 1
	if _, err := l.AppendAsFollower(bad); !errors.Is(err, record.ErrCRC) {
		t.Fatalf("corrupt batch: %v", err)
	}
	r, err := l.Read(0, 1<<20, l.EndOffset())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	got, err := r.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(buf) {
		t.Fatal("the follower's log differs from the leader's batches")
	}
}

// TestAppendAsFollowerReusesHeaders: a follower's appends of 3, 1 and 5
// batches, with the log's space for their headers kept from one to the
// next, each write what they were given; a set with a corrupt batch among
// good ones is refused whole, nothing of it written, and the append after
// it is whole again; an append in the steady state allocates nothing.
func TestAppendAsFollowerReusesHeaders(t *testing.T) {
	l := openLog(t, partDir(t), DefaultConfig(), Options{ManualHighWatermark: true})
	defer l.Close()
	next := int64(0)
	set := func(batches int, fill byte) []byte {
		var buf []byte
		for range batches {
			buf = append(buf, leaderBatch(next, 1, 2, fill)...)
			next += 2
		}
		return buf
	}
	var want []byte
	for i, n := range []int{3, 1, 5} {
		buf := set(n, byte('a'+i))
		if _, err := l.AppendAsFollower(buf); err != nil {
			t.Fatal(err)
		}
		want = append(want, buf...)
	}
	bad := set(4, 'x')
	bad[len(bad)/4+record.HeaderSize+20] ^= 1 // in the second batch's records
	if _, err := l.AppendAsFollower(bad); !errors.Is(err, record.ErrCRC) {
		t.Fatalf("a set with a corrupt batch: %v", err)
	}
	if end := l.EndOffset(); end != int64(len(want)/len(leaderBatch(0, 1, 2, 'a')))*2 {
		t.Fatalf("log end %d after a refused set", end)
	}
	next = l.EndOffset()
	good := set(2, 'g')
	if _, err := l.AppendAsFollower(good); err != nil {
		t.Fatal(err)
	}
	want = append(want, good...)
	r, err := l.Read(0, 1<<20, l.EndOffset())
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Bytes()
	r.Release()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatal("the follower's log differs from the batches appended")
	}
	steady := set(5, 's')
	next -= 10
	if a := testing.AllocsPerRun(20, func() {
		for i := 0; i < len(steady); i += len(steady) / 5 {
			record.SetBaseOffset(steady[i:], next)
			next += 2
		}
		if _, err := l.AppendAsFollower(steady); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("%v allocations per follower append of 5 batches", a)
	}
}

// TestAppendAsFollowerNeverDecompresses: a follower appends a zstd batch
// whose payload no codec would read, as the leader sent it: it checks a
// batch's framing and CRC, never its records (the leader checked those on
// produce), and stores the bytes as they came.
func TestAppendAsFollowerNeverDecompresses(t *testing.T) {
	l := openLog(t, partDir(t), DefaultConfig(), Options{ManualHighWatermark: true})
	defer l.Close()
	b := leaderBatch(0, 1, 3, 'z')
	for i := record.HeaderSize; i < len(b); i++ {
		b[i] = byte(i * 7) // not a zstd frame
	}
	record.SetCodec(b, 4) // zstd
	record.SetCRC(b)
	if _, err := l.AppendAsFollower(b); err != nil {
		t.Fatalf("the leader's zstd batch: %v", err)
	}
	r, err := l.Read(0, 1<<20, l.EndOffset())
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Bytes()
	r.Release()
	if err != nil || !bytes.Equal(got, b) {
		t.Fatalf("stored %d bytes (%v), want the batch as sent", len(got), err)
	}
}

// TestAssignEpochDeferred: a deferred assignment counts at once but writes
// no file; the first append after it writes the file before its batch, and
// an append whose write of the file fails appends nothing and makes the log
// refuse appends until it is reopened (a failed write of the log, as
// Kafka's storage exception). Several deferred entries cost one write.
func TestAssignEpochDeferred(t *testing.T) {
	fsys := vfs.NewFaulty(vfs.OS)
	dir := partDir(t)
	l := openLog(t, dir, smallConfig(), Options{FS: fsys})
	defer l.Close()
	path := filepath.Join(dir, LeaderEpochCheckpoint)
	l.AssignEpochDeferred(3, 0)
	l.AssignEpochDeferred(4, 0)
	if got, want := l.Epochs(), []EpochEntry{{4, 0}}; !slices.Equal(got, want) {
		t.Fatalf("epochs %v, want %v", got, want)
	}
	if e, o := l.EpochEndOffset(4); e != 4 || o != 0 {
		t.Fatalf("EpochEndOffset(4) = (%d, %d)", e, o)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("deferred assignments wrote the checkpoint: %v", err)
	}

	fsys.Fail(vfs.OpRename, baseIs(LeaderEpochCheckpoint), nil)
	if _, err := l.Append(batch(1, 8, 'a', 1)); err == nil {
		t.Fatal("append succeeded with its epoch checkpoint unwritten")
	}
	if l.EndOffset() != 0 || l.Size() != 0 || l.Err() == nil {
		t.Fatalf("after a failed epoch write: end %d, size %d, error %v; want nothing appended and a sticky error", l.EndOffset(), l.Size(), l.Err())
	}
	if _, err := l.Append(batch(1, 8, 'a', 1)); err == nil {
		t.Fatal("append succeeded after a failed epoch write")
	}
	fsys.Heal()
	l.Close()
	l = openLog(t, dir, smallConfig(), Options{FS: fsys})
	defer l.Close()
	l.AssignEpochDeferred(4, 0) // the leadership, again after the reopen
	a := mustAppend(t, l, batch(1, 8, 'b', 1))
	if data, err := os.ReadFile(path); err != nil || string(data) != "0\n1\n4 0\n" {
		t.Fatalf("checkpoint after the first append: %q, %v", data, err)
	}
	mustEqual(t, readAll(t, l, 1<<20), a.data)

	// Nothing pending: appends write no file.
	fsys.Fail(vfs.OpRename|vfs.OpWrite, baseIs(LeaderEpochCheckpoint+".tmp", LeaderEpochCheckpoint), nil)
	mustAppend(t, l, batch(1, 8, 'c', 2))
	fsys.Heal()

	// A follower's fetched batches of two new epochs: one write, before
	// them.
	cfs := &countingFS{FS: vfs.OS}
	f := openLog(t, partDir(t), smallConfig(), Options{FS: cfs})
	defer f.Close()
	buf := append(leaderBatch(0, 1, 2, 'x'), leaderBatch(2, 2, 2, 'y')...)
	if _, err := f.AppendAsFollower(buf); err != nil {
		t.Fatal(err)
	}
	if got, want := f.Epochs(), []EpochEntry{{1, 0}, {2, 2}}; !slices.Equal(got, want) {
		t.Fatalf("follower epochs %v, want %v", got, want)
	}
	if n := cfs.renamed(LeaderEpochCheckpoint); n != 1 {
		t.Fatalf("the follower wrote its epoch checkpoint %d times, want once", n)
	}
	if data, err := os.ReadFile(filepath.Join(f.Dir(), LeaderEpochCheckpoint)); err != nil || string(data) != "0\n2\n1 0\n2 2\n" {
		t.Fatalf("follower checkpoint %q, %v", data, err)
	}
}
