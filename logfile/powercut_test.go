package logfile

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"samsa/logfile/checkpoint"
	"samsa/logfile/vfs"
)

// noSync skips fsync: Crashable models durability, and real fsyncs only
// make the test slow on a shared disk.
type noSync struct{ vfs.FS }

func (n noSync) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	f, err := n.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return noSyncFile{f}, nil
}

func (noSync) SyncDir(string) error { return nil }

type noSyncFile struct{ vfs.File }

func (noSyncFile) Sync() error { return nil }

// TestPowerCut runs a log directory over vfs.Crashable (only fsynced bytes
// and directory entries survive), appends, flushes, rolls, truncates and
// checkpoints at random, then cuts the power. The directory left behind opens as an
// unclean shutdown and:
//   - every batch below the checkpointed recovery point is there, byte for
//     byte (invariant 6);
//   - the log is a prefix of the acknowledged batches: recovery cut any
//     torn or lost tail at a batch boundary, and nothing truncated came
//     back;
//   - appends continue after it, and survive a clean restart.
//
// Even rounds keep nothing unsynced; odd ones keep a random part of it (a
// torn tail, entries not yet fsynced in their directory). The seed is
// logged; SAMSA_CRASH_SEED replays it.
func TestPowerCut(t *testing.T) {
	seed := crashSeed(t)
	rounds := 30
	if testing.Short() {
		rounds = 8
	}
	tps := []TopicPartition{{Topic: "pc", Partition: 0}, {Topic: "pc", Partition: 1}, {Topic: "pc.two", Partition: 0}}
	cfgFor := func(string) Config { return smallConfig() }
	for round := range rounds {
		rng := rand.New(rand.NewPCG(seed, uint64(round)))
		var keep *rand.Rand
		mode := "strict"
		if round%2 == 1 {
			keep, mode = rng, "keep"
		}
		t.Logf("round %d: %s", round, mode)
		root := t.TempDir()
		c, err := vfs.NewCrashable(noSync{vfs.OS}, root)
		if err != nil {
			t.Fatal(err)
		}
		d, err := OpenDir(root, DirOptions{FS: c, Logger: quiet, ConfigFor: cfgFor,
			CheckpointInterval: time.Hour, RetentionCheckInterval: time.Hour, FlushCheckInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		acked := map[TopicPartition][]appended{}
		mustKeep := map[TopicPartition]int64{} // recovery points a checkpoint made durable
		logs := map[TopicPartition]*Log{}
		for _, tp := range tps {
			if logs[tp], err = d.Create(tp, smallConfig()); err != nil {
				t.Fatal(err)
			}
		}
		takeCheckpoint := func() {
			// Read before: recovery points only grow (but for truncation),
			// so the checkpoint holds at least these.
			rps := map[TopicPartition]int64{}
			for _, tp := range tps {
				rps[tp] = logs[tp].RecoveryPoint()
			}
			if err := d.Checkpoint(); err != nil {
				t.Fatal(err)
			}
			for tp, rp := range rps {
				mustKeep[tp] = rp
			}
		}
		steps := 50 + rng.IntN(400)
		for i := range steps {
			tp := tps[rng.IntN(len(tps))]
			l := logs[tp]
			switch r := rng.IntN(100); {
			case r < 85:
				b := batch(1+rng.IntN(4), 10+rng.IntN(900), byte(i), int64(i))
				acked[tp] = append(acked[tp], mustAppend(t, l, b))
			case r < 92:
				if err := l.Flush(); err != nil {
					t.Fatal(err)
				}
			case r < 97:
				takeCheckpoint()
			case r < 99:
				// A follower's truncation: nothing truncated may come back,
				// and what is appended after it is recovered like any tail.
				off := l.StartOffset() + rng.Int64N(l.EndOffset()-l.StartOffset()+1)
				if err := l.TruncateTo(off); err != nil {
					t.Fatal(err)
				}
				var kept []appended
				for _, a := range acked[tp] {
					if a.last < l.EndOffset() {
						kept = append(kept, a)
					}
				}
				acked[tp] = kept
				mustKeep[tp] = min(mustKeep[tp], l.EndOffset())
			default:
				if err := l.Roll(); err != nil {
					t.Fatal(err)
				}
			}
		}
		image := filepath.Join(t.TempDir(), "image")
		if err := c.Crash(image, keep); err != nil {
			t.Fatal(err)
		}
		d.Close() // fails: the machine is off; this only unmaps and closes

		rps, err := checkpoint.Read(vfs.OS, filepath.Join(image, RecoveryPointCheckpoint))
		if err != nil {
			t.Fatalf("round %d: recovery-point checkpoint after the power cut: %v", round, err)
		}
		r, err := OpenDir(image, DirOptions{Logger: quiet, ConfigFor: cfgFor})
		if err != nil {
			t.Fatalf("round %d: open after the power cut: %v", round, err)
		}
		if r.WasClean() {
			t.Fatalf("round %d: clean-shutdown marker after a power cut", round)
		}
		for _, tp := range tps {
			if rps[tp] < mustKeep[tp] {
				t.Fatalf("round %d %s: checkpointed recovery point %d, below the %d a successful checkpoint wrote", round, tp, rps[tp], mustKeep[tp])
			}
			l := r.Get(tp)
			if l == nil {
				t.Fatalf("round %d: %s lost", round, tp)
			}
			got := readAll(t, l, 64<<10)
			all := concat(acked[tp])
			if !bytes.HasPrefix(all, got) {
				n := 0
				for n < len(got) && got[n] == all[n] {
					n++
				}
				t.Fatalf("round %d %s: recovered %d bytes differ from the acknowledged ones at byte %d", round, tp, len(got), n)
			}
			var below []byte // the batches wholly below the recovery point
			for _, a := range acked[tp] {
				if a.last < rps[tp] {
					below = append(below, a.data...)
				}
			}
			if len(got) < len(below) || l.EndOffset() < rps[tp] {
				t.Fatalf("round %d %s: recovered %d bytes up to offset %d; the recovery point %d needs %d bytes",
					round, tp, len(got), l.EndOffset(), rps[tp], len(below))
			}
			// What survived of the tail is whole batches; keep them as
			// acknowledged, and go on appending after them.
			var kept []appended
			for _, a := range acked[tp] {
				if a.last < l.EndOffset() {
					kept = append(kept, a)
				}
			}
			acked[tp] = append(kept, mustAppend(t, l, batch(2, 100, 0xee, 1)))
		}
		if err := r.Close(); err != nil {
			t.Fatalf("round %d: close after recovery: %v", round, err)
		}
		r, err = OpenDir(image, DirOptions{Logger: quiet, ConfigFor: cfgFor})
		if err != nil {
			t.Fatal(err)
		}
		if !r.WasClean() {
			t.Fatalf("round %d: the restart after recovery was not clean", round)
		}
		for _, tp := range tps {
			mustEqual(t, readAll(t, r.Get(tp), 64<<10), concat(acked[tp]))
		}
		r.Close()
	}
}
