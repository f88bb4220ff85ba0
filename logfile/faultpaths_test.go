package logfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"samsa/logfile/checkpoint"
	"samsa/logfile/compact"
	"samsa/logfile/vfs"
)

func hasSuffix(s string) func(string) bool {
	return func(p string) bool { return strings.HasSuffix(p, s) }
}

func baseIs(names ...string) func(string) bool {
	return func(p string) bool {
		for _, n := range names {
			if filepath.Base(p) == n {
				return true
			}
		}
		return false
	}
}

// TestCheckpointWriteFaults fails each step of writing the checkpoint
// files (create, write, fsync, rename, directory fsync): the checkpoint
// reports the error, the files on disk still parse and hold the old or
// the new offsets, the logs keep taking appends, Close leaves no
// clean-shutdown marker, and the directory reopens, once the disk heals,
// with every acknowledged batch.
func TestCheckpointWriteFaults(t *testing.T) {
	rp, rpTmp := RecoveryPointCheckpoint, RecoveryPointCheckpoint+".tmp"
	for _, tc := range []struct {
		name   string
		inject func(f *vfs.Faulty, dir string)
	}{
		{"create tmp", func(f *vfs.Faulty, _ string) { f.Fail(vfs.OpWrite, baseIs(rpTmp), nil) }},
		{"write tmp", func(f *vfs.Faulty, _ string) { f.FailNth(vfs.OpWrite, baseIs(rpTmp), 1, 0, nil) }},
		{"short write", func(f *vfs.Faulty, _ string) { f.FailAfter(5, syscall.ENOSPC) }},
		{"fsync tmp", func(f *vfs.Faulty, _ string) { f.Fail(vfs.OpSync, baseIs(rpTmp), nil) }},
		{"rename", func(f *vfs.Faulty, _ string) { f.Fail(vfs.OpRename, baseIs(rp), nil) }},
		{"fsync dir", func(f *vfs.Faulty, dir string) { f.Fail(vfs.OpSyncDir, baseIs(filepath.Base(dir)), nil) }},
		{"second file", func(f *vfs.Faulty, _ string) {
			f.Fail(vfs.OpRename, baseIs(LogStartOffsetCheckpoint), syscall.EROFS)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := t.TempDir()
			f := vfs.NewFaulty(vfs.OS)
			opts := DirOptions{FS: f, Logger: quiet, ConfigFor: func(string) Config { return smallConfig() },
				CheckpointInterval: time.Hour, FlushCheckInterval: time.Hour, RetentionCheckInterval: time.Hour}
			d, err := OpenDir(path, opts)
			if err != nil {
				t.Fatal(err)
			}
			tps := []TopicPartition{{Topic: "ck", Partition: 0}, {Topic: "ck", Partition: 1}}
			acked := map[TopicPartition][]appended{}
			appendAll := func(n int) {
				for _, tp := range tps {
					l, err := d.Create(tp, smallConfig())
					if err != nil {
						t.Fatal(err)
					}
					for i := range n {
						acked[tp] = append(acked[tp], mustAppend(t, l, batch(2, 200, byte(i), int64(i))))
					}
					if err := l.Flush(); err != nil {
						t.Fatal(err)
					}
				}
			}
			appendAll(30)
			if err := d.Checkpoint(); err != nil {
				t.Fatal(err)
			}
			old := map[TopicPartition]int64{}
			for _, tp := range tps {
				old[tp] = d.Get(tp).RecoveryPoint()
			}
			appendAll(30)

			tc.inject(f, path)
			if err := d.Checkpoint(); err == nil {
				t.Fatal("checkpoint succeeded with a fault injected")
			}
			got, err := checkpoint.Read(vfs.OS, filepath.Join(path, rp))
			if err != nil {
				t.Fatalf("recovery-point checkpoint after a failed write: %v", err)
			}
			for _, tp := range tps {
				if v := got[tp]; v != old[tp] && v != d.Get(tp).RecoveryPoint() {
					t.Fatalf("%s: checkpointed %d, neither the old %d nor the new %d", tp, v, old[tp], d.Get(tp).RecoveryPoint())
				}
			}
			if _, err := checkpoint.Read(vfs.OS, filepath.Join(path, LogStartOffsetCheckpoint)); err != nil {
				t.Fatalf("log-start checkpoint after a failed write: %v", err)
			}
			for _, tp := range tps {
				if err := d.Get(tp).Err(); err != nil {
					t.Fatalf("a failed checkpoint poisoned %s: %v", tp, err)
				}
			}
			if tc.name != "short write" { // a spent write budget also stops appends
				appendAll(5)
			}
			if err := d.Close(); err == nil {
				t.Fatal("close succeeded while checkpoints cannot be written")
			}
			if _, err := os.Stat(filepath.Join(path, CleanShutdownMarker)); !os.IsNotExist(err) {
				t.Fatalf("clean-shutdown marker after a failed close: %v", err)
			}

			f.Heal()
			r, err := OpenDir(path, opts)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			if r.WasClean() {
				t.Fatal("reopen after a failed close found a clean shutdown")
			}
			for _, tp := range tps {
				l := r.Get(tp)
				mustEqual(t, readAll(t, l, 1<<20), concat(acked[tp]))
				acked[tp] = append(acked[tp], mustAppend(t, l, batch(1, 10, 0xaa, 1)))
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			r, err = OpenDir(path, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if !r.WasClean() {
				t.Fatal("not clean after a healed close")
			}
			for _, tp := range tps {
				mustEqual(t, readAll(t, r.Get(tp), 1<<20), concat(acked[tp]))
			}
		})
	}
}

// TestOpenReadFaults: a read error while opening a directory (its
// checkpoints, its listing, a segment being recovered) fails the open,
// leaves the directory unlocked and as it was, and the next open works.
func TestOpenReadFaults(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inject func(f *vfs.Faulty)
	}{
		{"checkpoint", func(f *vfs.Faulty) { f.Fail(vfs.OpRead, baseIs(RecoveryPointCheckpoint), nil) }},
		{"directory listing", func(f *vfs.Faulty) { f.Fail(vfs.OpRead, baseIs("rf-0"), nil) }},
		{"segment scan", func(f *vfs.Faulty) { f.FailNth(vfs.OpRead, hasSuffix(LogSuffix), 3, 0, nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := t.TempDir()
			f := vfs.NewFaulty(vfs.OS)
			opts := DirOptions{FS: f, Logger: quiet, ConfigFor: func(string) Config { return smallConfig() }}
			d, err := OpenDir(path, opts)
			if err != nil {
				t.Fatal(err)
			}
			l, err := d.Create(TopicPartition{Topic: "rf", Partition: 0}, smallConfig())
			if err != nil {
				t.Fatal(err)
			}
			var acked []appended
			for i := range 100 {
				acked = append(acked, mustAppend(t, l, batch(2, 200, byte(i), int64(i))))
			}
			// An unclean stop: the logs' bytes are in the files, the
			// recovery point is 0, so the open scans every segment.
			d.lock.Close()
			for _, l := range d.Logs() {
				l.mu.Lock()
				l.closed = true
				l.mu.Unlock()
			}
			close(d.stop)
			<-d.done

			tc.inject(f)
			if _, err := OpenDir(path, opts); err == nil {
				t.Fatal("open succeeded with reads failing")
			}
			f.Heal()
			r, err := OpenDir(path, opts)
			if err != nil {
				t.Fatalf("open after the disk healed: %v", err)
			}
			defer r.Close()
			mustEqual(t, readAll(t, r.Get(TopicPartition{Topic: "rf", Partition: 0}), 1<<20), concat(acked))
		})
	}
}

// TestCompactSwapFaults fails each step of a compaction: reading the old
// segments, writing and syncing the cleaned file, renaming it to the swap
// file (the commit point), renaming the old segments away and the swap
// file into place, the directory fsyncs, opening the new segment. Before
// the commit point the compaction fails and the log is as it was, still
// writable; after it the log refuses appends (the error is sticky) and the
// next open finishes the swap. Either way every key keeps its latest
// record, no record changes, and the log reopens and takes appends.
func TestCompactSwapFaults(t *testing.T) {
	first := SegmentName(0, "")
	for _, tc := range []struct {
		name      string
		inject    func(f *vfs.Faulty)
		committed bool
	}{
		{"read old segment", func(f *vfs.Faulty) { f.Fail(vfs.OpRead, hasSuffix(LogSuffix), nil) }, false},
		{"write cleaned", func(f *vfs.Faulty) { f.FailNth(vfs.OpWrite, hasSuffix(CleanedSuffix), 1, 0, nil) }, false},
		{"disk full", func(f *vfs.Faulty) { f.FailAfter(10, syscall.ENOSPC) }, false},
		{"disk full after the commit", func(f *vfs.Faulty) { f.FailAfter(1000, syscall.ENOSPC) }, true},
		{"fsync cleaned", func(f *vfs.Faulty) { f.Fail(vfs.OpSync, hasSuffix(CleanedSuffix), nil) }, false},
		{"rename to swap", func(f *vfs.Faulty) { f.Fail(vfs.OpRename, hasSuffix(CleanedSuffix), nil) }, false},
		{"fsync dir after the commit", func(f *vfs.Faulty) { f.FailNth(vfs.OpSyncDir, nil, 0, 1, nil) }, true},
		{"rename old segment", func(f *vfs.Faulty) { f.Fail(vfs.OpRename, hasSuffix(DeletedSuffix), nil) }, true},
		{"rename swap into place", func(f *vfs.Faulty) { f.FailNth(vfs.OpRename, hasSuffix(SwapSuffix), 1, 0, nil) }, true},
		{"fsync dir after the swap", func(f *vfs.Faulty) { f.FailNth(vfs.OpSyncDir, nil, 1, 1, nil) }, true},
		{"open new segment", func(f *vfs.Faulty) { f.Fail(vfs.OpWrite, baseIs(first+IndexSuffix), nil) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := partDir(t)
			clk := newClock(1_000_000)
			cfg := compactConfig()
			f := vfs.NewFaulty(vfs.OS)
			l := openLog(t, dir, cfg, Options{FS: f, Now: clk.Now})
			// A key never updated: the first group's cleaned file is not
			// empty, so the faults hit it before its commit point.
			mustAppend(t, l, kvBatch(clk.Now().UnixMilli(), -1, -1, kv{key: "once", value: "kept"}))
			fill(t, l, clk, 40, 10)
			if err := l.Flush(); err != nil { // and wait out the rolls' flushes
				t.Fatal(err)
			}
			before := readRecords(t, l)

			tc.inject(f)
			res, err := l.Compact(compact.Options{})
			if err == nil {
				t.Fatalf("compaction succeeded with a fault injected: %+v", res)
			}
			f.Heal()
			if got := readRecords(t, l); fmt.Sprint(got) != fmt.Sprint(before) {
				t.Fatalf("the open log changed under a failed compaction: %d records, had %d", len(got), len(before))
			}
			if tc.committed {
				if l.Err() == nil {
					t.Fatal("a failure after the commit point is not sticky")
				}
				if _, err := l.Append(kvBatch(clk.Now().UnixMilli(), -1, -1, kv{key: "k0", value: "late"})); err == nil {
					t.Fatal("append accepted after a failure past the commit point")
				}
			} else {
				if err := l.Err(); err != nil {
					t.Fatalf("a failure before the commit point poisoned the log: %v", err)
				}
				ents, _ := os.ReadDir(dir)
				for _, e := range ents {
					if strings.HasSuffix(e.Name(), CleanedSuffix) || strings.HasSuffix(e.Name(), SwapSuffix) {
						t.Fatalf("failed compaction left %s", e.Name())
					}
				}
				mustAppend(t, l, kvBatch(clk.Now().UnixMilli(), -1, -1, kv{key: "k0", value: "late"}))
				before = readRecords(t, l)
			}
			l.Close()

			r := openLog(t, dir, cfg, Options{FS: f, Now: clk.Now})
			got := readRecords(t, r)
			checkCompacted(t, got, before)
			if tc.committed && len(got) >= len(before) {
				t.Fatalf("the reopen did not finish the committed swap: %d records, had %d", len(got), len(before))
			}
			if !tc.committed && len(got) != len(before) {
				t.Fatalf("a compaction that failed before its commit point changed the log: %d records, had %d", len(got), len(before))
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if n := e.Name(); strings.HasSuffix(n, SwapSuffix) || strings.HasSuffix(n, CleanedSuffix) || strings.HasSuffix(n, DeletedSuffix) {
					t.Fatalf("leftover %s after reopen", n)
				}
			}
			// Writable again, and compaction works now.
			mustAppend(t, r, kvBatch(clk.Now().UnixMilli(), -1, -1, kv{key: "k1", value: "after"}))
			if _, err := r.Compact(compact.Options{}); err != nil {
				t.Fatalf("compaction after the disk healed: %v", err)
			}
			all := readRecords(t, r)
			r.Close()
			r = openLog(t, dir, cfg, Options{FS: f, Now: clk.Now, Clean: true})
			defer r.Close()
			if again := readRecords(t, r); fmt.Sprint(again) != fmt.Sprint(all) {
				t.Fatalf("clean reopen: %d records, had %d", len(again), len(all))
			}
			if latest := latestOf(all); latest["k1"].value != "after" {
				t.Fatalf("k1 = %+v after compaction, want the last append", latest["k1"])
			}
		})
	}
}

// checkCompacted checks that got is what compaction may make of before:
// a subsequence of its records, unchanged, with every key's latest record.
func checkCompacted(t *testing.T, got, before []logRecord) {
	t.Helper()
	i := 0
	for _, r := range got {
		for i < len(before) && before[i].offset < r.offset {
			i++
		}
		if i == len(before) || before[i] != r {
			t.Fatalf("record %+v was not in the log", r)
		}
	}
	want, have := latestOf(before), latestOf(got)
	if len(want) != len(have) {
		t.Fatalf("%d keys after compaction, want %d", len(have), len(want))
	}
	for k, r := range want {
		if have[k] != r {
			t.Fatalf("key %q: %+v after compaction, want its latest %+v", k, have[k], r)
		}
	}
}
