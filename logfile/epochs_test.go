package logfile

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

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
