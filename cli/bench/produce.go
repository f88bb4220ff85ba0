package bench

// samsa bench produce, like kafka-producer-perf-test.sh.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"samsa/cli/command"
)

const produceLong = `Produces --records records of --record-size random bytes (letters, as
kafka-producer-perf-test sends) without keys to TOPIC, created if missing
(with -p partitions), then prints records, MiB, elapsed time, throughput
and the latency of produce acknowledgements (from the Produce call to its
promise): p50, p95, p99, p99.9 and max. On a terminal, a progress line goes
to stderr every second.

Exits 1 if any record was not delivered (each has --timeout), or when the
brokers stop answering for --timeout. SIGINT or SIGTERM stops producing,
waits up to a second for records already sent, prints the summary and
exits 130 or 143.`

func produceCommand(cf *command.ClientFlags) *cobra.Command {
	var (
		pf                   command.ProducerFlags
		flagTopic            string
		records, size        int
		partitions, replicas int
		rate                 float64
		asJSON               bool
	)
	c := &cobra.Command{
		Use:               "produce TOPIC [flags]",
		Short:             "Produce records as fast as allowed; report throughput and ack latency",
		Long:              produceLong,
		Example:           `  samsa bench produce bench --records 1000000 --record-size 100 -p 6 --compression lz4`,
		ValidArgsFunction: cf.CompleteTopic,
		RunE: cf.RunE(func(s *command.Session, args []string) error {
			topic, err := topicArg(s.Cmd, args, flagTopic)
			if err != nil {
				return err
			}
			switch {
			case records < 1:
				return command.UsageErrorf("--records %d: want a positive count", records)
			case size < 0 || size > 100<<20:
				return command.UsageErrorf("--record-size %d: want 0 to %d", size, 100<<20)
			case partitions == 0 || partitions < -1:
				return command.UsageErrorf("--partitions %d: want a positive count", partitions)
			case replicas == 0 || replicas < -1 || replicas > math.MaxInt16:
				return command.UsageErrorf("--replicas %d: want a positive count", replicas)
			case rate < 0 || math.IsNaN(rate) || math.IsInf(rate, 0):
				return command.UsageErrorf("--rate %v: want a non-negative rate", rate)
			}
			if size+1024 > pf.BatchMaxBytes && !s.Cmd.Flags().Changed("batch-max-bytes") {
				pf.BatchMaxBytes = min(size+4096, 100<<20)
			}
			opts, err := pf.Opts(s.Timeout())
			if err != nil {
				return err
			}
			if err := ensureTopic(s, topic, partitions, replicas); err != nil {
				return err
			}
			cl, err := s.NewClient(append(opts,
				kgo.DefaultProduceTopic(topic),
				kgo.AllowAutoTopicCreation(),
			)...)
			if err != nil {
				return err
			}
			return runBenchProduce(s, cl, topic, records, size, rate, asJSON)
		}),
	}
	pf.Register(c.Flags())
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

func runBenchProduce(s *command.Session, cl *kgo.Client, topic string, records, size int, rate float64, asJSON bool) error {
	ctx := s.Context()
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
		prog     command.Progress
	)
	counts := func() (int64, int64) {
		mu.Lock()
		defer mu.Unlock()
		return acked, acked * int64(size)
	}
	go s.WatchConnections(0)
	go s.WatchProgress(&prog)
	stopProgress := startProgress(s.Err(), counts)

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
		prog.Sending()
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
			prog.Acked()
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
		gctx, cancel := context.WithTimeout(context.Background(), command.StopGrace)
		cl.Flush(gctx)
		cancel()
	}
	elapsed := time.Since(start)
	stopProgress()

	mu.Lock()
	res := newBenchResult("produce", topic, acked, acked*int64(size), elapsed)
	res.Failed = prog.Sent() - acked
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
		res.Error = s.Explain(err).Error()
	}
	res.print(s.Out(), asJSON)
	s.CloseClient(cl)
	return err
}

// ensureTopic creates topic unless it exists.
func ensureTopic(s *command.Session, topic string, partitions, replicas int) error {
	adm, ctx, done, err := s.AdminCall()
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
			fmt.Fprintf(s.Err(), "samsa bench produce: topic %s exists with %d partitions; --partitions %d ignored\n",
				topic, len(td.Partitions), partitions)
		}
		return nil
	} else if ok && !errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
		return fmt.Errorf("topic %s: %w", topic, td.Err)
	}
	r, err := adm.CreateTopic(ctx, int32(partitions), int16(replicas), nil, topic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("creating topic %s: %s", topic, command.ErrText(s.Explain(err), r.ErrMessage))
	}
	return nil
}
