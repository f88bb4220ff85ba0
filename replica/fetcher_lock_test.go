package replica

import (
	"encoding/binary"
	"hash/crc32"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/config"
	"samsa/logfile"
	"samsa/metadata"
)

// testBatch is a valid uncompressed v2 record batch of one record.
func testBatch() []byte {
	r := kmsg.NewRecord()
	r.Value = []byte("v")
	r.Length = int32(len(r.AppendTo(nil)) - 1)
	now := time.Now().UnixMilli()
	b := kmsg.RecordBatch{Magic: 2, PartitionLeaderEpoch: -1, FirstTimestamp: now, MaxTimestamp: now,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: 1, Records: r.AppendTo(nil)}
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-12))
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli)))
	return out
}

// TestFollowerLockOrder runs, on a follower partition, what happens there
// at once during a failover: a produce from a client whose metadata is
// stale (refused: not the leader), the replica fetcher truncating to the
// leader's log, and LeaderAndIsr changing the partition's state. None may
// wait on another forever.
func TestFollowerLockOrder(t *testing.T) {
	dir, err := logfile.OpenDir(t.TempDir(), logfile.DirOptions{ManualHighWatermark: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	cfg, err := config.New(map[string]string{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := NewManager(dir, Options{BrokerID: 1, Defaults: cfg.TopicDefaults, Logger: slog.New(slog.DiscardHandler)})
	defer m.Close()
	ts, err := m.OpenTopic(metadata.Topic{Name: "t", ID: metadata.NewTopicID(), Replicas: [][]int32{{2, 1}}})
	if err != nil {
		t.Fatal(err)
	}
	p := ts.Parts[0]
	follower := State{Leader: 2, LeaderEpoch: 1, Replicas: []int32{2, 1}, ISR: []int32{2, 1}}
	p.setState(follower)
	diverged := kmsg.NewFetchResponseTopicPartition()
	diverged.DivergingEpoch.Epoch, diverged.DivergingEpoch.EndOffset = 0, 0

	var progress [3]atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	loop := func(i int, fn func()) {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				fn()
				progress[i].Add(1)
			}
		})
	}
	batch := testBatch()
	loop(0, func() { m.Append(ts, p, 9, append([]byte(nil), batch...), time.Now().UnixMilli(), -1) })
	loop(1, func() { m.fetchers.Apply(m.followed(p), 2, 1, &diverged) })
	loop(2, func() { p.setState(follower) })

	deadline := time.Now().Add(1500 * time.Millisecond)
	last := [3]int64{}
	stuckSince := time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		moved := false
		for i := range progress {
			if n := progress[i].Load(); n != last[i] {
				last[i], moved = n, true
			}
		}
		if moved {
			stuckSince = time.Now()
		} else if time.Since(stuckSince) > time.Second {
			buf := make([]byte, 1<<20)
			t.Fatalf("no progress for a second: deadlock (progress %v)\n%s", last, buf[:runtime.Stack(buf, true)])
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("produces %d, truncations %d, state changes %d", last[0], last[1], last[2])
}
