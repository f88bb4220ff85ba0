package logfile

import (
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"samsa/logfile/checkpoint"
	"samsa/logfile/vfs"
)

// countingFS counts renames by the base name of their target: a file
// written atomically (vfs.WriteFileAtomic) is renamed once per write.
// With gate set, a rename onto gateName waits until gate is closed.
type countingFS struct {
	vfs.FS
	mu       sync.Mutex
	renames  map[string]int
	gateName string
	gate     chan struct{}
}

func (c *countingFS) Rename(o, n string) error {
	c.mu.Lock()
	if c.renames == nil {
		c.renames = map[string]int{}
	}
	c.renames[filepath.Base(n)]++
	gate := c.gate
	if filepath.Base(n) != c.gateName {
		gate = nil
	}
	c.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return c.FS.Rename(o, n)
}

func (c *countingFS) renamed(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.renames[name]
}

func (c *countingFS) hold(name string) chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gateName, c.gate = name, make(chan struct{})
	return c.gate
}

// TestCheckpointGroupCommit: while a checkpoint write runs, a hundred
// callers (truncations of a hundred partitions, say) wait for the next
// write and share it: two writes in all. Each caller returns after a
// write that began after its call, so what it changed before is on disk.
func TestCheckpointGroupCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfs := &countingFS{FS: vfs.OS}
		path := t.TempDir()
		d, err := OpenDir(path, DirOptions{FS: cfs, Logger: quiet, ConfigFor: func(string) Config { return smallConfig() },
			CheckpointInterval: time.Hour, FlushCheckInterval: time.Hour, RetentionCheckInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		var logs []*Log
		for i := range 100 {
			l, err := d.Create(TopicPartition{Topic: "t", Partition: int32(i)}, smallConfig())
			if err != nil {
				t.Fatal(err)
			}
			logs = append(logs, l)
		}
		before := cfs.renamed(RecoveryPointCheckpoint)

		gate := cfs.hold(RecoveryPointCheckpoint)
		first := make(chan error)
		go func() { first <- d.Checkpoint() }()
		synctest.Wait() // the first write waits in its rename

		// Each caller moves its partition's recovery point, then asks
		// for a checkpoint.
		errs := make(chan error, len(logs))
		for i, l := range logs {
			mustAppend(t, l, batch(1+i%3, 10, byte(i), 1))
			if err := l.Flush(); err != nil {
				t.Fatal(err)
			}
			go func() { errs <- d.Checkpoint() }()
		}
		synctest.Wait() // every caller waits: one for the slot, the rest for its write
		close(gate)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		for range logs {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if n := cfs.renamed(RecoveryPointCheckpoint) - before; n != 2 {
			t.Fatalf("%d checkpoint writes for 101 concurrent calls, want 2", n)
		}
		rps, err := checkpoint.Read(vfs.OS, filepath.Join(path, RecoveryPointCheckpoint))
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range logs {
			if got := rps[TopicPartition{Topic: "t", Partition: int32(i)}]; got != l.EndOffset() || got == 0 {
				t.Fatalf("partition %d: checkpointed recovery point %d, want %d", i, got, l.EndOffset())
			}
		}
	})
}
