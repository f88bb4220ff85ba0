package consume

// Reading partitions directly, without a group.

import (
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"samsa/cli/command"
)

// fetchMaxWait is how long a fetch waits for records at the broker: the
// Java consumer's fetch.max.wait.ms, where kgo's default is 5s. Shorter,
// a consumer notices a broker that stopped answering sooner.
const fetchMaxWait = 500 * time.Millisecond

func consumePartitions(s *command.Session, topic string, want []int32, fparts []formatPart, start command.StartAt, num int, exitAtEnd, committed bool) error {
	adm, closeAdm, err := s.Admin()
	if err != nil {
		return err
	}
	ctx, cancel := s.ReqCtx()
	ranges, err := command.LookupRangesIsolated(ctx, adm, topic, want, start, committed)
	cancel()
	closeAdm()
	if err != nil {
		return err
	}

	// pending holds the partitions not yet read to their end, for -e; limits
	// the end offsets of a range with an end.
	pending := make(map[int32]bool)
	offsets := make(map[int32]kgo.Offset)
	var limits map[int32]int64
	if start.Until >= 0 || start.UntilEnd {
		limits = make(map[int32]int64)
	}
	for p, r := range ranges {
		offsets[p] = kgo.NewOffset().At(r.Start)
		if r.Start < r.End {
			pending[p] = true
		}
		if limits != nil {
			limits[p] = r.End
		}
	}
	if exitAtEnd && len(pending) == 0 {
		return nil
	}

	cl, err := s.NewClient(append(isolationOpts(committed),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.FetchMaxWait(fetchMaxWait),
	)...)
	if err != nil {
		return err
	}
	defer s.CloseClient(cl)
	// A fetch is always outstanding: an answer comes at least every
	// fetchMaxWait while the broker is there.
	go s.WatchConnections(fetchMaxWait + s.Timeout())
	return printLoop(s, cl, fparts, num, limits, committed, nil,
		func(p int32) { delete(pending, p) },
		func() bool { return exitAtEnd && len(pending) == 0 })
}

// isolationOpts are the consumer's options for --isolation: read_committed
// when committed. Control records (transaction markers) are kept, never
// printed: their offsets tell -e that a partition whose last records are a
// transaction's is read to its end.
func isolationOpts(committed bool) []kgo.Opt {
	opts := []kgo.Opt{kgo.KeepControlRecords()}
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	return opts
}
