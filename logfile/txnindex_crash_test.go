package logfile

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"samsa/logfile/vfs"
	"samsa/record"
)

// TestTxnIndexPowerCut runs one log over vfs.Crashable (only fsynced
// bytes and directory entries survive, or a random part of the rest) and
// appends transactional batches and COMMIT/ABORT markers of a few
// producers, with flushes and rolls, then cuts the power. The log opens
// as after an unclean shutdown; the entries the rebuild is given (a
// replay of the surviving log from the segment it names) and the entries
// of the segments it did not scan are then exactly those a replay of the
// whole surviving log finds: every index entry below the recovery point
// survived with its marker (invariant 10), none of a lost marker came
// back (invariant 12). The seed is logged; SAMSA_CRASH_SEED replays it.
func TestTxnIndexPowerCut(t *testing.T) {
	seed := crashSeed(t)
	rounds := 20
	if testing.Short() {
		rounds = 6
	}
	cfg := smallConfig()
	cfg.SegmentBytes = 4 << 10
	for round := range rounds {
		rng := rand.New(rand.NewPCG(seed, uint64(round)))
		var keep *rand.Rand
		if round%2 == 1 {
			keep = rng
		}
		root := t.TempDir()
		c, err := vfs.NewCrashable(noSync{vfs.OS}, root)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(root, "t-0")
		// The partition directory's own entry is durable, as a Dir makes it.
		if err := c.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := c.SyncDir(root); err != nil {
			t.Fatal(err)
		}
		l := openLog(t, dir, cfg, Options{FS: c})
		tr := &txnTracker{open: map[int64]int64{}}
		seqs := map[int64]int32{}
		for range 100 + rng.IntN(300) {
			pid := int64(1 + rng.IntN(4))
			switch r := rng.IntN(100); {
			case r < 60:
				n := 1 + rng.IntN(3)
				tr.appendTxn(t, l, txnBatch(pid, seqs[pid], n))
				seqs[pid] += int32(n)
			case r < 85:
				tr.appendTxn(t, l, markerBatch(pid, r < 72))
			case r < 95:
				if err := l.Flush(); err != nil {
					t.Fatal(err)
				}
			default:
				if err := l.Roll(); err != nil {
					t.Fatal(err)
				}
			}
		}
		rp := l.RecoveryPoint()
		image := filepath.Join(t.TempDir(), "image")
		if err := c.Crash(image, keep); err != nil {
			t.Fatal(err)
		}
		l.Close() // fails: the machine is off; this only unmaps and closes

		r := openLog(t, filepath.Join(image, "t-0"), cfg, Options{RecoveryPoint: rp})
		if r.EndOffset() < rp {
			t.Fatalf("round %d: the log ends at %d, below the recovery point %d", round, r.EndOffset(), rp)
		}
		from := r.TxnIndexRebuildFrom()
		want, rebuild := replayAborts(t, r, from)
		if len(want) == 0 {
			t.Fatalf("round %d: no abort survived: the test tests nothing", round)
		}
		if from >= 0 {
			if err := r.RebuildTxnIndex(rebuild); err != nil {
				t.Fatal(err)
			}
		}
		if got := r.AbortedTxns(0, r.EndOffset()); !slices.Equal(got, want) {
			t.Fatalf("round %d (rebuild from %d, recovery point %d, end %d):\nindex  %+v\nreplay %+v", round, from, rp, r.EndOffset(), got, want)
		}
		if r.RecoveryPoint() != r.EndOffset() {
			t.Fatalf("round %d: recovery point %d after the rebuild, end %d", round, r.RecoveryPoint(), r.EndOffset())
		}
		r.Close()
	}
}

// replayAborts replays a whole log as the producer state would and
// returns every abort's entry, and those at or past from.
func replayAborts(t *testing.T, l *Log, from int64) (all, past []AbortedTxn) {
	t.Helper()
	open := map[int64]int64{}
	err := l.ScanProducerBatches(l.StartOffset(), func(h *record.Header, control []byte) bool {
		if a, ok := applyTxn(open, h, control); ok {
			all = append(all, a)
			if from >= 0 && a.LastOffset >= from {
				past = append(past, a)
			}
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return all, past
}

// TestTxnIndexSyncedWithSegment: a segment's .txnindex is fsynced with
// the segment, so once the recovery point passes the segment (never
// scanned again) its entries survive a power cut.
func TestTxnIndexSyncedWithSegment(t *testing.T) {
	root := t.TempDir()
	c, err := vfs.NewCrashable(noSync{vfs.OS}, root)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "t-0")
	if err := c.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := c.SyncDir(root); err != nil {
		t.Fatal(err)
	}
	l := openLog(t, dir, smallConfig(), Options{FS: c})
	tr := &txnTracker{open: map[int64]int64{}}
	tr.appendTxn(t, l, txnBatch(1, 0, 1))
	tr.appendTxn(t, l, markerBatch(1, false))
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	tr.appendTxn(t, l, txnBatch(2, 0, 1))
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	rp := l.RecoveryPoint()
	image := filepath.Join(t.TempDir(), "image")
	if err := c.Crash(image, nil); err != nil {
		t.Fatal(err)
	}
	l.Close()
	r := openLog(t, filepath.Join(image, "t-0"), smallConfig(), Options{RecoveryPoint: rp})
	defer r.Close()
	if r.TxnIndexRebuildFrom() != -1 || rp != 3 {
		t.Fatalf("recovery point %d, rebuild from %d: the first segment must not be scanned", rp, r.TxnIndexRebuildFrom())
	}
	want := []AbortedTxn{{ProducerID: 1, FirstOffset: 0, LastOffset: 1, LastStableOffset: 2}}
	if got := r.AbortedTxns(0, r.EndOffset()); r.EndOffset() != 3 || !slices.Equal(got, want) {
		t.Fatalf("after the power cut: end %d, entries %+v", r.EndOffset(), got)
	}
}
