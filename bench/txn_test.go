package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// txnCommitEvery is how long each transaction of the transactional
// producer runs before it commits (issue 16's workload).
const txnCommitEvery = 100 * time.Millisecond

// produceTxn produces n records of size bytes to topic with cl, every
// record acknowledged; with txn, in transactions committed every
// txnCommitEvery. It returns the seconds taken and the commits.
func produceTxn(b *testing.B, cl *kgo.Client, topic string, n, size int, txn bool) (float64, int) {
	ctx := context.Background()
	value := make([]byte, size)
	var failed error
	done := func(_ *kgo.Record, err error) {
		if err != nil && failed == nil {
			failed = err
		}
	}
	commits := 0
	t0 := time.Now()
	began := t0
	if txn {
		if err := cl.BeginTransaction(); err != nil {
			b.Fatal(err)
		}
	}
	for i := range n {
		cl.Produce(ctx, &kgo.Record{Topic: topic, Value: value}, done)
		if txn && (i == n-1 || time.Since(began) >= txnCommitEvery) {
			// franz-go ends a transaction only once its records are
			// acknowledged.
			if err := cl.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
				b.Fatal(err)
			}
			commits++
			if i < n-1 {
				if err := cl.BeginTransaction(); err != nil {
					b.Fatal(err)
				}
				began = time.Now()
			}
		}
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	if failed != nil {
		b.Fatal(failed)
	}
	return time.Since(t0).Seconds(), commits
}

// consumeIsolation reads n records of partition 0 of topic from its start
// at an isolation level and returns the seconds taken.
func consumeIsolation(b *testing.B, s *server, topic string, n int, iso kgo.IsolationLevel) float64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr), kgo.FetchIsolationLevel(iso),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxBytes(32<<20), kgo.FetchMaxPartitionBytes(16<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	t0 := time.Now()
	for got := 0; got < n; {
		fs := cl.PollFetches(context.Background())
		if err := fs.Err0(); err != nil {
			b.Fatal(err)
		}
		got += fs.NumRecords()
	}
	return time.Since(t0).Seconds()
}

// BenchmarkTxnProduce runs, against one broker process and in one run,
// the same franz-go producer (idempotent, acks=all, no linger) without
// and with transactions committed every 100 ms, and reports each one's
// throughput, the broker's CPU per MiB and the ratio transactional /
// idempotent. Then it reads the transactional topic back with a
// read_uncommitted and a read_committed consumer and reports their ratio:
// read_committed adds the last stable offset and the aborted
// transactions of each fetch (none here), the records still leave with
// sendfile. Each side goes first every other iteration: run with
// -benchtime 2x (or any even count) for figures free of order.
func BenchmarkTxnProduce(b *testing.B) {
	s := startSamsa(b)
	defer s.stop()
	for _, w := range []struct {
		name    string
		records int
		size    int
	}{
		{"1KiB", 200_000, 1024},
		{"100B", 500_000, 100},
	} {
		b.Run(w.name, func(b *testing.B) {
			mib := float64(w.records*w.size) / (1 << 20)
			var idemSec, txnSec, idemCPU, txnCPU, uncSec, comSec, uncCPU, comCPU float64
			commits := 0
			for i := 0; i < b.N; i++ {
				idemTopic, txnTopic := fmt.Sprintf("idem-%s-%d", w.name, i), fmt.Sprintf("txn-%s-%d", w.name, i)
				adm, err := kgo.NewClient(kgo.SeedBrokers(s.addr))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := kadm.NewClient(adm).CreateTopics(context.Background(), 1, 1, nil, idemTopic, txnTopic); err != nil {
					b.Fatal(err)
				}
				adm.Close()
				opts := []kgo.Opt{kgo.SeedBrokers(s.addr), kgo.RequiredAcks(kgo.AllISRAcks()),
					kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.ProducerLinger(0),
					kgo.ProducerBatchMaxBytes(1 << 20), kgo.MaxBufferedRecords(1 << 16)}
				idem, err := kgo.NewClient(opts...)
				if err != nil {
					b.Fatal(err)
				}
				txn, err := kgo.NewClient(append(opts, kgo.TransactionalID(fmt.Sprintf("bench-%s-%d", w.name, i)))...)
				if err != nil {
					b.Fatal(err)
				}
				// Producer ids, and the coordinator's topic on the
				// first run, before the clock starts.
				produceTxn(b, idem, idemTopic, 1, w.size, false)
				produceTxn(b, txn, txnTopic, 1, w.size, true)

				// Each side goes first every other iteration.
				runs := []func(){func() {
					cpu0 := s.cpuSeconds(b)
					sec, _ := produceTxn(b, idem, idemTopic, w.records, w.size, false)
					idemSec, idemCPU = idemSec+sec, idemCPU+s.cpuSeconds(b)-cpu0
				}, func() {
					cpu0 := s.cpuSeconds(b)
					sec, c := produceTxn(b, txn, txnTopic, w.records, w.size, true)
					txnSec, txnCPU, commits = txnSec+sec, txnCPU+s.cpuSeconds(b)-cpu0, commits+c
				}}
				n := w.records + 1
				reads := []func(){func() {
					cpu0 := s.cpuSeconds(b)
					uncSec += consumeIsolation(b, s, txnTopic, n, kgo.ReadUncommitted())
					uncCPU += s.cpuSeconds(b) - cpu0
				}, func() {
					cpu0 := s.cpuSeconds(b)
					comSec += consumeIsolation(b, s, txnTopic, n, kgo.ReadCommitted())
					comCPU += s.cpuSeconds(b) - cpu0
				}}
				first := i % 2
				runs[first]()
				runs[1-first]()
				idem.Close()
				txn.Close()
				reads[first]()
				reads[1-first]()
			}
			N := float64(b.N)
			b.ReportMetric(N*mib/idemSec, "idempotent-MiB/s")
			b.ReportMetric(N*mib/txnSec, "transactional-MiB/s")
			b.ReportMetric(idemSec/txnSec, "transactional/idempotent")
			b.ReportMetric(1000*idemCPU/(N*mib), "idempotent-cpu-ms/MiB")
			b.ReportMetric(1000*txnCPU/(N*mib), "transactional-cpu-ms/MiB")
			b.ReportMetric(float64(commits)/N, "commits")
			b.ReportMetric(N*mib/uncSec, "read_uncommitted-MiB/s")
			b.ReportMetric(N*mib/comSec, "read_committed-MiB/s")
			b.ReportMetric(uncSec/comSec, "read_committed/read_uncommitted")
			b.ReportMetric(1000*uncCPU/(N*mib), "read_uncommitted-cpu-ms/MiB")
			b.ReportMetric(1000*comCPU/(N*mib), "read_committed-cpu-ms/MiB")
		})
	}
}
