package itest

// A broker whose disk fills while its indexes grow. Its log.dirs is on a
// 2 MiB tmpfs: with indexes preallocated to their 10 MiB maximum, not one
// partition would fit; with blocks reserved a step ahead of the entries,
// four partitions take small batches, an index entry each. The test then
// fills the disk but for 12 KiB, less than the next step of partition 0's
// offset index (16 KiB at 2,048 entries) and more than its .log needs up
// to there, and produces on: partition 0 fails at an index step, the
// others wherever the disk refuses them. Each refused append answers
// KAFKA_STORAGE_ERROR (a store into a sparse mapping would have raised
// SIGBUS and killed the broker). The broker lives, /healthz names the
// failed partitions, reads serve every acknowledged record, and after a
// restart with room they are all there and appends work.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sys/unix"
)

func TestStorageDiskFull(t *testing.T) {
	disk := replTmpfs(t, 2<<20)
	b := newBroker(t, "log.index.interval.bytes=1", "log.segment.bytes=1048576")
	b.dir = filepath.Join(disk, "data")
	if err := b.startFresh(); err != nil {
		t.Fatalf("broker did not start on a 2 MiB disk: %v", err)
	}
	const topic, parts = "disk-full", 4
	b.newTopic(t, topic, parts, nil)

	// One record per batch, each acknowledged or refused on its own (no
	// retries): the ledger holds what was acknowledged.
	cl := b.client(t, kgo.RecordRetries(0))
	acked := make([][]*kgo.Record, parts)
	refused := make([]error, parts)
	round := 0
	produce := func(ps ...int32) {
		var recs []*kgo.Record
		for _, p := range ps {
			if refused[p] == nil {
				recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: fmt.Appendf(nil, "%d/%d", p, round)})
			}
		}
		round++
		for _, r := range cl.ProduceSync(ctx(t), recs...) {
			switch p := r.Record.Partition; {
			case r.Err == nil:
				acked[p] = append(acked[p], r.Record)
			case errors.Is(r.Err, kerr.KafkaStorageError):
				refused[p] = r.Err
			default:
				t.Fatalf("partition %d: %v, want KAFKA_STORAGE_ERROR", p, r.Err)
			}
		}
	}
	// 2,000 batches each: partition 0's offset index holds 1,999 entries
	// in the 16 KiB it reserved.
	for range 2000 {
		produce(0, 1, 2, 3)
	}
	for p, err := range refused {
		if err != nil {
			t.Fatalf("partition %d refused with room on the disk: %v", p, err)
		}
	}
	fill(t, disk, 12<<10)
	for refused[0] == nil {
		if len(acked[0]) > 2200 {
			t.Fatal("partition 0 took its index's next step on a full disk")
		}
		produce(0)
	}
	// Its offset index's 2,048th entry (the 2,049th batch's; the first
	// batch has none) fills the 16 KiB. The time index, an entry per
	// new millisecond, may have needed its own step before.
	if n := len(acked[0]); n <= 2000 || n > 2049 {
		t.Errorf("partition 0 took %d batches, want at most 2,049", n)
	}
	// The broker's output reaches b.log through a pipe, a little later.
	waitFor(t, "the broker to log partition 0's failure", 10*time.Second, func() bool { return failure(b, topic+"-0") != "" })
	if why := failure(b, topic+"-0"); !strings.Contains(why, "mmapindex: reserve") {
		t.Errorf("partition 0 did not fail at an index step: %q", why)
	}
	for n := 0; refused[1] == nil || refused[2] == nil || refused[3] == nil; n++ {
		if n > 100000 {
			t.Fatal("the disk never filled")
		}
		produce(1, 2, 3)
	}
	t.Logf("refused at an index step: %d partitions of %d", strings.Count(b.log.String(), "mmapindex: reserve"), parts)
	if df, err := exec.Command("df", "-k", disk).Output(); err == nil {
		t.Logf("%s", bytes.TrimSpace(df))
	}

	// The broker lives, says which partitions failed, and serves reads.
	if !b.running() {
		t.Fatalf("the broker died on a full disk: %v", b.err)
	}
	code, body := healthz(t, b)
	if code != http.StatusServiceUnavailable || strings.Count(body, "partition "+topic+"-") != parts {
		t.Fatalf("/healthz answered %d %q, want 503 naming the %d partitions", code, body, parts)
	}
	checkLedger(t, b.consumeAll(t, topic), acked)

	// Room again, a restart: every acknowledged record is there, once,
	// and every partition takes appends.
	b.kill()
	if err := os.Remove(filepath.Join(disk, "filler")); err != nil {
		t.Fatal(err)
	}
	b.restart()
	checkLedger(t, b.consumeAll(t, topic), acked)
	cl2 := b.client(t)
	for p := range int32(parts) {
		produceSync(t, cl2, &kgo.Record{Topic: topic, Partition: p, Value: []byte("after")})
	}
	if code, body := healthz(t, b); code != http.StatusOK {
		t.Fatalf("/healthz after the restart: %d %q", code, body)
	}
}

// failure returns the broker's log line that says why a partition's log
// failed.
func failure(b *broker, dir string) string {
	for _, line := range strings.Split(b.log.String(), "\n") {
		if strings.Contains(line, "log write failed") && strings.Contains(line, "/"+dir+" ") {
			return line
		}
	}
	return ""
}

// fill takes the space of the file system at dir but for leave bytes, with
// a file named filler.
func fill(t *testing.T, dir string, leave int64) {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize
	if free <= leave {
		t.Fatalf("only %d bytes free before filling", free)
	}
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fallocate(int(f.Fd()), 0, 0, free-leave); err != nil {
		t.Fatalf("fill %d of %d free bytes: %v", free-leave, free, err)
	}
}

func healthz(t *testing.T, b *broker) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + b.adminAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// checkLedger: got (sorted by partition and offset) is exactly the
// acknowledged records, at the offsets their acknowledgements gave.
func checkLedger(t *testing.T, got []*kgo.Record, acked [][]*kgo.Record) {
	t.Helper()
	i := 0
	for p, recs := range acked {
		for _, want := range recs {
			if i >= len(got) {
				t.Fatalf("partition %d: acknowledged offset %d missing (%d records read)", p, want.Offset, len(got))
			}
			r := got[i]
			if r.Partition != int32(p) || r.Offset != want.Offset || !bytes.Equal(r.Value, want.Value) {
				t.Fatalf("partition %d offset %d: read %d/%d %q, want %q", p, want.Offset, r.Partition, r.Offset, r.Value, want.Value)
			}
			i++
		}
	}
	if i != len(got) {
		t.Fatalf("read %d records, %d acknowledged", len(got), i)
	}
}
