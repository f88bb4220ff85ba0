package logfile

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestDirCreateConcurrent: Creates of different partitions run at once and
// each gets its log; Creates of one partition at once all get the same
// log; a Create racing Close gets ErrClosed or a log Close closed, and
// the directory reopens with every partition made before.
func TestDirCreateConcurrent(t *testing.T) {
	path := t.TempDir()
	d := openDir(t, path)
	const n = 24
	logs := make([]*Log, 3*n)
	errs := make([]error, 3*n)
	var wg sync.WaitGroup
	for i := range 3 * n {
		wg.Go(func() {
			// Three Creates of each partition.
			logs[i], errs[i] = d.Create(TopicPartition{Topic: "c", Partition: int32(i % n)}, smallConfig())
		})
	}
	wg.Wait()
	for i := range 3 * n {
		if errs[i] != nil {
			t.Fatalf("create %d: %v", i%n, errs[i])
		}
		if logs[i] != logs[i%n] {
			t.Fatalf("partition %d: two Creates got different logs", i%n)
		}
	}
	if got := len(d.Logs()); got != n {
		t.Fatalf("%d logs, want %d", got, n)
	}
	for i := range n {
		if _, err := logs[i].Append(batch(1, 10, 'x', 1)); err != nil {
			t.Fatalf("append to partition %d: %v", i, err)
		}
	}

	var late sync.WaitGroup
	for i := range n {
		late.Go(func() {
			_, err := d.Create(TopicPartition{Topic: "late", Partition: int32(i)}, smallConfig())
			if err != nil && !errors.Is(err, ErrClosed) {
				t.Errorf("create racing close: %v", err)
			}
		})
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	late.Wait()
	if _, err := d.Create(TopicPartition{Topic: "after", Partition: 0}, smallConfig()); !errors.Is(err, ErrClosed) {
		t.Fatalf("create after close: %v, want ErrClosed", err)
	}
	d = openDir(t, path)
	defer d.Close()
	for i := range n {
		l := d.Get(TopicPartition{Topic: "c", Partition: int32(i)})
		if l == nil || l.EndOffset() != 1 {
			t.Fatalf("after reopen, partition %d: %v", i, fmt.Sprint(l))
		}
	}
}
