package bench

// samsa bench consume, like kafka-consumer-perf-test.sh.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"samsa/cli/command"
)

func consumeCommand(cf *command.ClientFlags) *cobra.Command {
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
		ValidArgsFunction: cf.CompleteTopic,
		RunE: cf.RunE(func(s *command.Session, args []string) error {
			topic, err := topicArg(s.Cmd, args, flagTopic)
			if err != nil {
				return err
			}
			if records < 0 {
				return command.UsageErrorf("--records %d: want a positive count, or 0 for all", records)
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

func runBenchConsume(s *command.Session, topic string, records int, asJSON bool) error {
	adm, closeAdm, err := s.Admin()
	if err != nil {
		return err
	}
	lctx, cancel := s.ReqCtx()
	ranges, err := command.LookupRanges(lctx, adm, topic, nil, command.StartAt{Kind: "beginning", Until: -1})
	cancel()
	closeAdm()
	if err != nil {
		return err
	}
	pending := make(map[int32]int64) // partition → end offset still to reach
	offsets := make(map[int32]kgo.Offset)
	for p, r := range ranges {
		offsets[p] = kgo.NewOffset().At(r.Start)
		if r.Start < r.End {
			pending[p] = r.End
		}
	}
	start := time.Now()
	cl, err := s.NewClient(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}))
	if err != nil {
		return err
	}
	defer s.CloseClient(cl)
	ctx := s.Context()
	go s.WatchConnections(0)

	var mu sync.Mutex
	var n, nbytes int64
	stopProgress := startProgress(s.Err(), func() (int64, int64) {
		mu.Lock()
		defer mu.Unlock()
		return n, nbytes
	})
	var fetchErr error
	for len(pending) > 0 && (records == 0 || n < int64(records)) {
		pctx, cancel := context.WithTimeout(ctx, s.Timeout())
		fetches := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			fetchErr = context.Cause(ctx)
			break
		}
		if fetches.NumRecords() == 0 && pctx.Err() != nil {
			fetchErr = fmt.Errorf("no records for %v with %d partitions still to read", s.Timeout(), len(pending))
			break
		}
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				fmt.Fprintf(s.Err(), "samsa bench consume: %s partition %d: %v\n", t, p, err)
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
		res.Error = s.Explain(fetchErr).Error()
	}
	res.print(s.Out(), asJSON)
	return fetchErr
}
