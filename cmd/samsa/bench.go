package main

// samsa bench: producer and consumer load generators in the manner of
// kafka-producer-perf-test and kafka-consumer-perf-test.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/term"
)

func benchCmd(cf *clientFlags) *cobra.Command {
	c := groupCommand("bench", "Producer and consumer benchmarks",
		`Load generators in the manner of kafka-producer-perf-test.sh and
kafka-consumer-perf-test.sh.`)
	cf.persistent(c)
	c.AddCommand(benchProduceCmd(cf), benchConsumeCmd(cf))
	return c
}

// topicArg takes the topic from the one positional argument, or from the
// deprecated --topic flag that bench took before every command named its
// topic as an argument.
func topicArg(c *cobra.Command, args []string, flagTopic string) (string, error) {
	switch {
	case len(args) > 1:
		return "", usageErrorf("unexpected argument %q", args[1])
	case len(args) == 1 && flagTopic != "" && flagTopic != args[0]:
		return "", usageErrorf("two topics: %q and --topic %q", args[0], flagTopic)
	case len(args) == 1:
		return args[0], nil
	case flagTopic != "":
		fmt.Fprintf(os.Stderr, "%s: --topic is deprecated: give the topic as an argument\n", c.CommandPath())
		return flagTopic, nil
	}
	return "", usageErrorf("no topic named")
}

const benchProduceLong = `Produces --records records of --record-size random bytes (letters, as
kafka-producer-perf-test sends) without keys to TOPIC, created if missing
(with -p partitions), then prints records, MiB, elapsed time, throughput
and the latency of produce acknowledgements (from the Produce call to its
promise): p50, p95, p99, p99.9 and max. On a terminal, a progress line goes
to stderr every second.

Exits 1 if any record was not delivered (each has --timeout), or when the
brokers stop answering for --timeout. SIGINT or SIGTERM stops producing,
waits up to a second for records already sent, prints the summary and
exits 130 or 143.`

func benchProduceCmd(cf *clientFlags) *cobra.Command {
	var (
		pf                   producerFlags
		flagTopic            string
		records, size        int
		partitions, replicas int
		rate                 float64
		asJSON               bool
	)
	c := &cobra.Command{
		Use:               "produce TOPIC [flags]",
		Short:             "Produce records as fast as allowed; report throughput and ack latency",
		Long:              benchProduceLong,
		Example:           `  samsa bench produce bench --records 1000000 --record-size 100 -p 6 --compression lz4`,
		ValidArgsFunction: cf.completeTopic,
		RunE: cf.runE(func(s *session, args []string) error {
			topic, err := topicArg(s.cmd, args, flagTopic)
			if err != nil {
				return err
			}
			switch {
			case records < 1:
				return usageErrorf("--records %d: want a positive count", records)
			case size < 0 || size > 100<<20:
				return usageErrorf("--record-size %d: want 0 to %d", size, 100<<20)
			case partitions == 0 || partitions < -1:
				return usageErrorf("--partitions %d: want a positive count", partitions)
			case replicas == 0 || replicas < -1 || replicas > math.MaxInt16:
				return usageErrorf("--replicas %d: want a positive count", replicas)
			case rate < 0 || math.IsNaN(rate) || math.IsInf(rate, 0):
				return usageErrorf("--rate %v: want a non-negative rate", rate)
			}
			if size+1024 > pf.batchMaxBytes && !s.cmdFlags.Changed("batch-max-bytes") {
				pf.batchMaxBytes = min(size+4096, 100<<20)
			}
			opts, err := pf.opts(s.cf.timeout)
			if err != nil {
				return err
			}
			if err := ensureTopic(s, topic, partitions, replicas); err != nil {
				return err
			}
			cl, err := s.newClient(append(opts,
				kgo.DefaultProduceTopic(topic),
				kgo.AllowAutoTopicCreation(),
			)...)
			if err != nil {
				return err
			}
			return runBenchProduce(s, cl, topic, records, size, rate, asJSON)
		}),
	}
	pf.register(c.Flags())
	c.Flags().IntVar(&records, "records", 1000000, "records to produce, `N`")
	c.Flags().IntVar(&size, "record-size", 100, "value size in `bytes`")
	c.Flags().IntVarP(&partitions, "partitions", "p", -1, "partitions of the topic if it is created, `N` (-1: the broker's num.partitions)")
	c.Flags().IntVarP(&replicas, "replicas", "r", -1, "replicas of the topic if it is created, `N` (-1: the broker's default.replication.factor)")
	c.Flags().Float64Var(&rate, "rate", 0, "at most `R` records per second (0: no limit)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the summary as one JSON object")
	c.Flags().StringVarP(&flagTopic, "topic", "t", "", "deprecated: give the topic as an argument")
	c.Flags().MarkHidden("topic")
	return c
}

func runBenchProduce(s *session, cl *kgo.Client, topic string, records, size int, rate float64, asJSON bool) error {
	ctx := s.ctx
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = 'A' + byte(rand.IntN(26))
	}
	var (
		mu       sync.Mutex
		acked    int64
		failed   int64
		firstErr error
		hist     latencyHist
		prog     progress
	)
	counts := func() (int64, int64) {
		mu.Lock()
		defer mu.Unlock()
		return acked, acked * int64(size)
	}
	go s.watchConnections(0)
	go s.watchProgress(&prog)
	stopProgress := startProgress(counts)

	start := time.Now()
	for i := range records {
		if ctx.Err() != nil {
			break
		}
		if rate > 0 {
			due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
				}
			}
		}
		sent := time.Now()
		prog.sending()
		cl.Produce(ctx, &kgo.Record{Value: payload}, func(_ *kgo.Record, err error) {
			lat := time.Since(sent)
			mu.Lock()
			if err != nil {
				failed++
				if firstErr == nil {
					firstErr = err
				}
			} else {
				acked++
				hist.record(lat)
			}
			mu.Unlock()
			prog.acked()
		})
	}
	var flushErr error
	if ctx.Err() == nil {
		if err := cl.Flush(ctx); ctx.Err() == nil {
			flushErr = err
		}
	}
	stopped := ctx.Err() != nil
	if stopped {
		gctx, cancel := context.WithTimeout(context.Background(), stopGrace)
		cl.Flush(gctx)
		cancel()
	}
	elapsed := time.Since(start)
	stopProgress()

	mu.Lock()
	res := newBenchResult("produce", topic, acked, acked*int64(size), elapsed)
	res.Failed = prog.sent.Load() - acked
	res.Latency = hist.summary()
	var err error
	switch {
	case stopped:
		err = context.Cause(ctx)
	case flushErr != nil:
		err = flushErr
	case failed > 0:
		err = fmt.Errorf("%d of %d records not delivered; first error: %w", failed, failed+acked, firstErr)
	}
	mu.Unlock()
	if err != nil {
		res.Error = s.explain(err).Error()
	}
	res.print(os.Stdout, asJSON)
	s.closeClient(cl)
	return err
}

// ensureTopic creates topic unless it exists.
func ensureTopic(s *session, topic string, partitions, replicas int) error {
	adm, ctx, done, err := s.adminCall()
	if err != nil {
		return err
	}
	defer done()
	tds, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return err
	}
	if td, ok := tds[topic]; ok && td.Err == nil {
		if partitions > 0 && len(td.Partitions) != partitions {
			fmt.Fprintf(os.Stderr, "samsa bench produce: topic %s exists with %d partitions; --partitions %d ignored\n",
				topic, len(td.Partitions), partitions)
		}
		return nil
	} else if ok && !errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
		return fmt.Errorf("topic %s: %w", topic, td.Err)
	}
	r, err := adm.CreateTopic(ctx, int32(partitions), int16(replicas), nil, topic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("creating topic %s: %s", topic, errText(s.explain(err), r.ErrMessage))
	}
	return nil
}

func benchConsumeCmd(cf *clientFlags) *cobra.Command {
	var (
		flagTopic string
		records   int
		asJSON    bool
	)
	c := &cobra.Command{
		Use:   "consume TOPIC [flags]",
		Short: "Consume a topic from the beginning; report throughput",
		Long: `Consumes all partitions of TOPIC from the beginning, without a consumer
group, until --records records or the end of every partition as of the
start, then prints records, MiB (keys and values), elapsed time and
throughput. On a terminal, a progress line goes to stderr every second.
Exits 1 if no record arrives for --timeout while some are still expected,
130 or 143 when stopped by SIGINT or SIGTERM.`,
		ValidArgsFunction: cf.completeTopic,
		RunE: cf.runE(func(s *session, args []string) error {
			topic, err := topicArg(s.cmd, args, flagTopic)
			if err != nil {
				return err
			}
			if records < 0 {
				return usageErrorf("--records %d: want a positive count, or 0 for all", records)
			}
			return runBenchConsume(s, topic, records, asJSON)
		}),
	}
	c.Flags().IntVar(&records, "records", 0, "stop after `N` records (0: at the end)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the summary as one JSON object")
	c.Flags().StringVarP(&flagTopic, "topic", "t", "", "deprecated: give the topic as an argument")
	c.Flags().MarkHidden("topic")
	return c
}

func runBenchConsume(s *session, topic string, records int, asJSON bool) error {
	adm, closeAdm, err := s.admin()
	if err != nil {
		return err
	}
	lctx, cancel := s.reqCtx()
	ranges, err := lookupRanges(lctx, adm, topic, nil, startAt{kind: "beginning", until: -1})
	cancel()
	closeAdm()
	if err != nil {
		return err
	}
	pending := make(map[int32]int64) // partition → end offset still to reach
	offsets := make(map[int32]kgo.Offset)
	for p, r := range ranges {
		offsets[p] = kgo.NewOffset().At(r.start)
		if r.start < r.end {
			pending[p] = r.end
		}
	}
	start := time.Now()
	cl, err := s.newClient(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}))
	if err != nil {
		return err
	}
	defer s.closeClient(cl)
	ctx := s.ctx
	go s.watchConnections(0)

	var mu sync.Mutex
	var n, nbytes int64
	stopProgress := startProgress(func() (int64, int64) {
		mu.Lock()
		defer mu.Unlock()
		return n, nbytes
	})
	var fetchErr error
	for len(pending) > 0 && (records == 0 || n < int64(records)) {
		pctx, cancel := context.WithTimeout(ctx, s.cf.timeout)
		fetches := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			fetchErr = context.Cause(ctx)
			break
		}
		if fetches.NumRecords() == 0 && pctx.Err() != nil {
			fetchErr = fmt.Errorf("no records for %v with %d partitions still to read", s.cf.timeout, len(pending))
			break
		}
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				fmt.Fprintf(os.Stderr, "samsa bench consume: %s partition %d: %v\n", t, p, err)
			}
		})
		mu.Lock()
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			for _, r := range fp.Records {
				if records > 0 && n >= int64(records) {
					return
				}
				n++
				nbytes += int64(len(r.Key) + len(r.Value))
			}
			if len(fp.Records) > 0 {
				if end, ok := pending[fp.Partition]; ok && fp.Records[len(fp.Records)-1].Offset+1 >= end {
					delete(pending, fp.Partition)
				}
			}
		})
		mu.Unlock()
	}
	elapsed := time.Since(start)
	stopProgress()
	mu.Lock()
	defer mu.Unlock()
	res := newBenchResult("consume", topic, n, nbytes, elapsed)
	if fetchErr != nil {
		res.Error = s.explain(fetchErr).Error()
	}
	res.print(os.Stdout, asJSON)
	return fetchErr
}

// benchResult is the summary of a bench run; its JSON form is the output of
// --json.
type benchResult struct {
	Mode          string          `json:"mode"`
	Topic         string          `json:"topic"`
	Records       int64           `json:"records"`
	Failed        int64           `json:"failed"`
	Bytes         int64           `json:"bytes"`
	MiB           float64         `json:"mib"`
	ElapsedSec    float64         `json:"elapsed_s"`
	MiBPerSec     float64         `json:"mib_per_s"`
	RecordsPerSec float64         `json:"records_per_s"`
	Latency       *latencySummary `json:"latency_ms,omitempty"`
	Error         string          `json:"error,omitempty"`
}

// latencySummary holds percentiles of ack latency in milliseconds.
type latencySummary struct {
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

func newBenchResult(mode, topic string, records, nbytes int64, elapsed time.Duration) *benchResult {
	r := &benchResult{
		Mode:       mode,
		Topic:      topic,
		Records:    records,
		Bytes:      nbytes,
		MiB:        float64(nbytes) / (1 << 20),
		ElapsedSec: elapsed.Seconds(),
	}
	if s := elapsed.Seconds(); s > 0 {
		r.MiBPerSec = r.MiB / s
		r.RecordsPerSec = float64(records) / s
	}
	return r
}

func (r *benchResult) print(w io.Writer, asJSON bool) {
	if asJSON {
		b, _ := json.Marshal(r)
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	tw := newTable(w)
	fmt.Fprintf(tw, "topic\t%s\n", r.Topic)
	if r.Mode == "produce" {
		fmt.Fprintf(tw, "records\t%d (%d failed)\n", r.Records, r.Failed)
	} else {
		fmt.Fprintf(tw, "records\t%d\n", r.Records)
	}
	fmt.Fprintf(tw, "data\t%.2f MiB\n", r.MiB)
	fmt.Fprintf(tw, "elapsed\t%.3fs\n", r.ElapsedSec)
	fmt.Fprintf(tw, "throughput\t%.2f MiB/s, %.1f records/s\n", r.MiBPerSec, r.RecordsPerSec)
	if l := r.Latency; l != nil {
		fmt.Fprintf(tw, "ack latency (ms)\tp50 %.3f  p95 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n",
			l.P50, l.P95, l.P99, l.P999, l.Max)
	}
	tw.Flush()
}

// startProgress prints a progress line to stderr every second while stderr
// is a terminal: the totals so far and the rates over the last second. The
// returned function stops it and clears the line.
func startProgress(counts func() (records, nbytes int64)) func() {
	if !term.IsTerminal(int(os.Stderr.Fd())) {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		last := time.Now()
		var lastN, lastB int64
		for {
			select {
			case <-done:
				fmt.Fprint(os.Stderr, "\r\x1b[K")
				return
			case now := <-t.C:
				n, b := counts()
				s := now.Sub(last).Seconds()
				fmt.Fprintf(os.Stderr, "\r\x1b[K%d records  %.2f MiB/s  %.0f records/s",
					n, float64(b-lastB)/(1<<20)/s, float64(n-lastN)/s)
				last, lastN, lastB = now, n, b
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// latencyHist is a log-linear histogram of durations in microseconds:
// values below 128µs are counted exactly; above, each power of two is split
// into 64 buckets, so a bucket's width is under 1/64 of its values (a
// percentile is reported at most 1.6% high). Memory is fixed whatever the
// number of records.
type latencyHist struct {
	counts [histBuckets]int64
	total  int64
	max    time.Duration
}

const (
	histSubBits = 6 // 64 buckets per power of two
	histExact   = 2 << histSubBits
	histBuckets = histExact + (64-histSubBits-1)*(1<<histSubBits)
)

func histIndex(us uint64) int {
	if us < histExact {
		return int(us)
	}
	shift := bits.Len64(us) - histSubBits - 1 // us>>shift is in [64, 128)
	return histExact + (shift-1)<<histSubBits + int(us>>shift) - 1<<histSubBits
}

// histUpper returns the largest value counted in bucket i.
func histUpper(i int) uint64 {
	if i < histExact {
		return uint64(i)
	}
	j := i - histExact
	shift := j>>histSubBits + 1
	m := uint64(j&(1<<histSubBits-1) + 1<<histSubBits)
	return (m+1)<<shift - 1
}

func (h *latencyHist) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[histIndex(uint64(d.Microseconds()))]++
	h.total++
	h.max = max(h.max, d)
}

// quantile returns the smallest bucket bound at or below which a fraction q
// of the values lie, capped at the maximum seen.
func (h *latencyHist) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1)
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(histUpper(i))*time.Microsecond, h.max)
		}
	}
	return h.max
}

func (h *latencyHist) summary() *latencySummary {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return &latencySummary{
		P50:  ms(h.quantile(0.50)),
		P95:  ms(h.quantile(0.95)),
		P99:  ms(h.quantile(0.99)),
		P999: ms(h.quantile(0.999)),
		Max:  ms(h.max),
	}
}
