package itest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// sameRecords compares two consumptions record by record: partition,
// offset, key, value, headers and timestamp.
func sameRecords(t *testing.T, what string, got, want []*kgo.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Partition != w.Partition || g.Offset != w.Offset || !bytes.Equal(g.Key, w.Key) || !bytes.Equal(g.Value, w.Value) ||
			!g.Timestamp.Equal(w.Timestamp) || fmt.Sprint(g.Headers) != fmt.Sprint(w.Headers) {
			t.Fatalf("%s: record %d:\n got p%d@%d key %q value of %d bytes ts %v headers %v\nwant p%d@%d key %q value of %d bytes ts %v headers %v",
				what, i, g.Partition, g.Offset, g.Key, len(g.Value), g.Timestamp.UnixMilli(), g.Headers,
				w.Partition, w.Offset, w.Key, len(w.Value), w.Timestamp.UnixMilli(), w.Headers)
		}
	}
}

// TestRestartClean: records survive SIGTERM and a restart unchanged, over
// several segments per partition; the clean-shutdown marker is written at
// shutdown and gone while the broker runs; offsets continue afterwards.
func TestRestartClean(t *testing.T) {
	b := startBroker(t, "log.segment.bytes=16384")
	const topic = "restart.clean"
	b.newTopic(t, topic, 3, nil)
	marker := filepath.Join(b.dir, cleanShutdownMarker)
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("clean-shutdown marker while running: %v", err)
	}
	cl := b.client(t)
	base := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	for round := range 10 {
		var recs []*kgo.Record
		for i := range 30 {
			n := round*30 + i
			recs = append(recs, &kgo.Record{
				Topic: topic, Partition: int32(n % 3),
				Key:       []byte("k" + strconv.Itoa(n)),
				Value:     bytes.Repeat([]byte{byte(n)}, 100+n),
				Headers:   []kgo.RecordHeader{{Key: "n", Value: []byte(strconv.Itoa(n))}},
				Timestamp: base.Add(time.Duration(n) * time.Millisecond),
			})
		}
		produceSync(t, cl, recs...)
	}
	before := b.consumeAll(t, topic)
	if len(before) != 300 {
		t.Fatalf("consumed %d records before the restart, want 300", len(before))
	}
	segs, _ := filepath.Glob(filepath.Join(b.dir, topic+"-0", "*.log"))
	if len(segs) < 2 {
		t.Fatalf("partition 0 has %d segments, want several (log.segment.bytes=16384)", len(segs))
	}
	cl.Close()

	b.stop() // checks exit status 0 and the marker
	b.restart()
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("clean-shutdown marker still there after the restart: %v", err)
	}
	after := b.consumeAll(t, topic)
	sameRecords(t, "after a clean restart", after, before)

	// Timestamp lookups still work: the time index came back.
	lo, err := b.admin(t).ListOffsetsAfterMilli(ctx(t), base.Add(150*time.Millisecond).UnixMilli(), topic)
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := lo.Lookup(topic, 0); o.Offset != 50 { // record 150 is the 51st of partition 0
		t.Errorf("offset for timestamp of record 150 after restart: %d, want 50", o.Offset)
	}

	// New records continue the offsets.
	recs := produceSync(t, b.client(t), &kgo.Record{Topic: topic, Partition: 1, Value: []byte("after")})
	if recs[0].Offset != 100 {
		t.Fatalf("first offset after the restart %d, want 100", recs[0].Offset)
	}
}

// TestCrashAckedRecordsSurvive: franz-go produces with acks=all while the
// broker is SIGKILLed mid-stream. After a restart every acknowledged record
// is there exactly once, at the offset it was acknowledged with, in
// production order; offsets are contiguous; and producing continues.
func TestCrashAckedRecordsSurvive(t *testing.T) {
	b := startBroker(t, "log.segment.bytes=262144")
	const topic, parts = "restart.crash", 2
	b.newTopic(t, topic, parts, nil)

	type ack struct {
		partition int32
		offset    int64
	}
	var (
		mu     sync.Mutex
		acked  = map[int]ack{}
		failed int
	)
	cl := b.client(t, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordRetries(0), kgo.RequestRetries(0),
		kgo.MaxBufferedRecords(200), kgo.RecordDeliveryTimeout(5*time.Second))
	pctx, stopProducing := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	produced := 0
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		for i := 0; pctx.Err() == nil; i++ {
			r := &kgo.Record{Topic: topic, Partition: int32(i % parts), Value: []byte("seq-" + strconv.Itoa(i) + "-" + string(bytes.Repeat([]byte("x"), i%300)))}
			wg.Add(1)
			seq := i
			cl.Produce(pctx, r, func(r *kgo.Record, err error) {
				defer wg.Done()
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed++
					return
				}
				acked[seq] = ack{r.Partition, r.Offset}
			})
			mu.Lock()
			produced = i + 1
			mu.Unlock()
		}
	}()
	// Kill once a few thousand records are acknowledged.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 3000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d records acknowledged in 30s", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.kill()
	stopProducing()
	<-loopDone
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("produce callbacks still pending 30s after the kill")
	}
	cl.Close()
	mu.Lock()
	t.Logf("%d records produced, %d acknowledged, %d failed when the broker was killed", produced, len(acked), failed)
	mu.Unlock()

	b.restart()
	got := b.consumeAll(t, topic)
	seen := map[string]bool{}
	next := map[int32]int64{}
	lastSeq := map[int32]int{}
	bySlot := map[ack]string{}
	for _, r := range got {
		if r.Offset != next[r.Partition] {
			t.Fatalf("partition %d: offset %d follows %d: not contiguous", r.Partition, r.Offset, next[r.Partition]-1)
		}
		next[r.Partition]++
		v := string(r.Value)
		if seen[v] {
			t.Fatalf("record %.20q appears twice", v)
		}
		seen[v] = true
		var seq int
		fmt.Sscanf(v, "seq-%d-", &seq)
		if prev, ok := lastSeq[r.Partition]; ok && seq <= prev {
			t.Fatalf("partition %d: seq %d after %d: out of production order", r.Partition, seq, prev)
		}
		lastSeq[r.Partition] = seq
		bySlot[ack{r.Partition, r.Offset}] = v
	}
	for seq, a := range acked {
		v, ok := bySlot[a]
		if !ok {
			t.Fatalf("acknowledged record seq %d at p%d@%d is missing after the crash (partition ends at %d)", seq, a.partition, a.offset, next[a.partition])
		}
		var gotSeq int
		fmt.Sscanf(v, "seq-%d-", &gotSeq)
		if gotSeq != seq {
			t.Fatalf("p%d@%d holds seq %d, but seq %d was acknowledged there", a.partition, a.offset, gotSeq, seq)
		}
	}

	// Producing continues after the recovered end.
	cl2 := b.client(t)
	for p := range int32(parts) {
		recs := produceSync(t, cl2, &kgo.Record{Topic: topic, Partition: p, Value: []byte("after the crash")})
		if recs[0].Offset != next[p] {
			t.Errorf("partition %d: first offset after recovery %d, want %d", p, recs[0].Offset, next[p])
		}
	}
	all := b.consumeAll(t, topic)
	if len(all) != len(got)+parts {
		t.Fatalf("%d records after producing again, want %d", len(all), len(got)+parts)
	}
}
