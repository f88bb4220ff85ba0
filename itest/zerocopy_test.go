package itest

import (
	"bytes"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestZeroCopyFetch proves at the process level that fetched record bytes
// do not pass through the broker's Go heap: while a consumer reads some
// 200 MiB, the broker's total allocation (go_memstats_alloc_bytes_total on
// /metrics) grows by far less than the bytes it sends: sendfile moves them
// from the page cache to the socket.
func TestZeroCopyFetch(t *testing.T) {
	b := startBroker(t)
	const topic = "zerocopy"
	const parts = 2
	b.newTopic(t, topic, parts, nil)

	const valueSize = 256 << 10
	const total = 200 << 20
	value := bytes.Repeat([]byte("0123456789abcdef"), valueSize/16)
	cl := b.client(t, kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(64))
	start := time.Now()
	var recs []*kgo.Record
	for i := range total / valueSize {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(i % parts), Value: value})
	}
	produceSync(t, cl, recs...)
	cl.Close()
	t.Logf("produced %d MiB in %v", total>>20, time.Since(start))

	outBefore := b.metric(t, `samsa_topic_bytes_out_total{topic="zerocopy"}`)
	allocBefore := b.metric(t, "go_memstats_alloc_bytes_total")
	start = time.Now()
	c := b.client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart(), 1: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxBytes(64<<20), kgo.FetchMaxPartitionBytes(32<<20))
	var n, size int64
	c0 := ctx(t)
	for n < int64(len(recs)) {
		fs := c.PollFetches(c0)
		if c0.Err() != nil {
			t.Fatalf("consumed %d of %d records before the deadline", n, len(recs))
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			n++
			size += int64(len(r.Value))
			if len(r.Value) != valueSize {
				t.Fatalf("record of %d bytes", len(r.Value))
			}
		})
	}
	c.Close()
	elapsed := time.Since(start)
	allocAfter := b.metric(t, "go_memstats_alloc_bytes_total")
	outAfter := b.metric(t, `samsa_topic_bytes_out_total{topic="zerocopy"}`)

	served := outAfter - outBefore
	alloc := allocAfter - allocBefore
	t.Logf("consumed %d MiB in %v; broker sent %.0f MiB of batches and allocated %.2f MiB (%.2f%%)",
		size>>20, elapsed, served/(1<<20), alloc/(1<<20), 100*alloc/served)
	if served < total {
		t.Fatalf("broker reports %.0f bytes sent, want at least %d", served, total)
	}
	if alloc >= served/10 {
		t.Fatalf("broker allocated %.0f bytes while sending %.0f: record bytes went through Go memory", alloc, served)
	}
}
