package replica

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"samsa/config"
	"samsa/logfile"
	"samsa/logfile/checkpoint"
	"samsa/logfile/vfs"
)

// writesFS counts what a log directory writes: renames by the base name of
// their target (one per file written atomically) and fsyncs, which it
// counts without doing, so that a thousand partitions are quick to make.
type writesFS struct {
	vfs.FS
	mu      sync.Mutex
	renames map[string]int
	fsyncs  int
}

func (w *writesFS) Rename(o, n string) error {
	w.mu.Lock()
	w.renames[filepath.Base(n)]++
	w.mu.Unlock()
	return w.FS.Rename(o, n)
}

func (w *writesFS) SyncDir(string) error { w.synced(); return nil }

func (w *writesFS) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	f, err := w.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &writesFile{File: f, w: w}, nil
}

func (w *writesFS) synced() {
	w.mu.Lock()
	w.fsyncs++
	w.mu.Unlock()
}

// take returns the counts since the last take.
func (w *writesFS) take() (renames map[string]int, fsyncs int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	renames, fsyncs = w.renames, w.fsyncs
	w.renames, w.fsyncs = map[string]int{}, 0
	return renames, fsyncs
}

type writesFile struct {
	vfs.File
	w *writesFS
}

func (f *writesFile) Sync() error { f.w.synced(); return nil }

// TestCreationCheckpointWrites: a LeaderAndIsr that makes this broker the
// leader of 1,000 new partitions writes no checkpoint file for them: the
// log directory's checkpoints are written for all partitions at once, by
// the checkpoint interval (here one call), and each partition's
// leader-epoch-checkpoint when its first batch is appended. What is left
// per partition is its directory, its segment files and partition.metadata,
// Kafka's record of the topic ID.
func TestCreationCheckpointWrites(t *testing.T) {
	const n = 1000
	w := &writesFS{FS: vfs.OS, renames: map[string]int{}}
	dir, err := logfile.OpenDir(t.TempDir(), logfile.DirOptions{FS: w, ManualHighWatermark: true, Logger: quiet,
		CheckpointInterval: time.Hour, FlushCheckInterval: time.Hour, RetentionCheckInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	c := newCluster(t)
	m := NewManager(dir, Options{BrokerID: 1, Logger: quiet, Defaults: config.DefaultTopicConfig(), FetchSessionSlots: 10,
		AlterISR: c.ctl.alterISR, ReplicaLagTimeMax: 10 * time.Second, Fetcher: FetcherConfig{Connect: c.dial}})
	defer func() {
		m.Close()
		if err := dir.Close(); err != nil {
			t.Error(err)
		}
	}()
	w.take()

	var ups []PartitionUpdate
	for i := range n {
		ups = append(ups, PartitionUpdate{Topic: testTopic, TopicID: topicID, Partition: int32(i), IsNew: true,
			State: state(1, 1, 0, []int32{1, 2}, []int32{1, 2})})
	}
	began := time.Now()
	errs, _, err := m.ApplyLeaderAndIsr(1, ups, map[int32]string{1: addr(1)}, lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	for i, code := range errs {
		if code != 0 {
			t.Fatalf("partition %d: error %d", i, code)
		}
	}
	took := time.Since(began)
	renames, fsyncs := w.take()
	t.Logf("%d partitions: %v, renames %v, %d fsyncs", n, took, renames, fsyncs)
	for _, f := range []string{logfile.RecoveryPointCheckpoint, logfile.LogStartOffsetCheckpoint,
		logfile.ReplicationCheckpoint, logfile.LeaderEpochCheckpoint} {
		if renames[f] != 0 {
			t.Errorf("creating %d partitions wrote %s %d times, want none", n, f, renames[f])
		}
	}
	if got := renames["partition.metadata"]; got != n {
		t.Errorf("partition.metadata written %d times, want once per partition", got)
	}

	// The interval's checkpoint: each file once, for all partitions.
	if err := dir.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	renames, _ = w.take()
	for _, f := range []string{logfile.RecoveryPointCheckpoint, logfile.LogStartOffsetCheckpoint, logfile.ReplicationCheckpoint} {
		if renames[f] != 1 {
			t.Errorf("a checkpoint wrote %s %d times, want once", f, renames[f])
		}
	}
	hws, err := checkpoint.Read(vfs.OS, filepath.Join(dir.Path(), logfile.ReplicationCheckpoint))
	if err != nil || len(hws) != n {
		t.Fatalf("replication checkpoint holds %d partitions (%v), want %d", len(hws), err, n)
	}

	// A partition's first batch writes its leader epoch first.
	for i := range 10 {
		mustProduce(t, m, m.Partition(testTopic, int32(i)), 1)
	}
	renames, _ = w.take()
	if got := renames[logfile.LeaderEpochCheckpoint]; got != 10 {
		t.Errorf("first batches of 10 partitions wrote %d leader epoch checkpoints, want 10", got)
	}
	for i := range 10 {
		data, err := os.ReadFile(filepath.Join(m.Partition(testTopic, int32(i)).Log.Dir(), logfile.LeaderEpochCheckpoint))
		if err != nil || string(data) != "0\n1\n1 0\n" {
			t.Fatalf("partition %d: leader epoch checkpoint %q, %v", i, data, err)
		}
	}
}
