package consume

// samsa consume --group: reading as a member of a consumer group.

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"samsa/cli/command"
)

// consumeGroup is samsa consume --group: it reads topic as a member of
// group, printing each record, and commits what it printed: every 5 s and
// when it stops (after -n records, at the end with -e, or on SIGINT or
// SIGTERM). from is where partitions without a committed offset start.
func consumeGroup(s *command.Session, topic, group string, parts []formatPart, from command.StartAt, num int, exitAtEnd, committed bool) error {
	reset := kgo.NewOffset()
	switch from.Kind {
	case "beginning":
		reset = reset.AtStart()
	case "end":
		reset = reset.AtEnd()
	case "offset":
		reset = reset.At(from.N)
	case "time":
		reset = reset.AfterMilli(from.N)
	}
	// pending: assigned partitions not yet read to the end they had when
	// assigned (for -e).
	var mu sync.Mutex
	pending := map[int32]bool{}
	assignedOnce := false
	var adm *kadm.Client
	onAssigned := func(ctx context.Context, _ *kgo.Client, assigned map[string][]int32) {
		if !exitAtEnd {
			return
		}
		// Where each partition starts (its commit, else --from) and where
		// its log ends now; unknown ones wait for a record.
		rctx, cancel := context.WithTimeout(ctx, s.Timeout())
		defer cancel()
		ranges, err1 := command.LookupRangesIsolated(rctx, adm, topic, nil, from, committed)
		committed, err2 := adm.FetchOffsetsForTopics(rctx, group, topic)
		mu.Lock()
		defer mu.Unlock()
		assignedOnce = true
		for _, p := range assigned[topic] {
			r, ok := ranges[p]
			if err1 != nil || !ok {
				pending[p] = true
				continue
			}
			if o, ok := committed.Lookup(topic, p); err2 == nil && ok && o.Err == nil && o.At >= 0 {
				r.Start = o.At
			}
			if r.Start < r.End {
				pending[p] = true
			}
		}
	}
	onRevoked := func(_ context.Context, _ *kgo.Client, revoked map[string][]int32) {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range revoked[topic] {
			delete(pending, p)
		}
	}
	cl, err := s.NewClient(append(isolationOpts(committed),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(reset),
		kgo.AutoCommitMarks(),
		kgo.FetchMaxWait(fetchMaxWait),
		kgo.OnPartitionsAssigned(onAssigned),
		kgo.OnPartitionsRevoked(onRevoked),
		kgo.OnPartitionsLost(onRevoked),
	)...)
	if err != nil {
		return err
	}
	adm = kadm.NewClient(cl)
	go s.WatchConnections(0)
	defer func() {
		// Commit what was printed, then leave the group; both bounded by
		// --timeout, and skipped when the brokers are known to be gone.
		ctx, cancel := context.WithTimeout(context.Background(), s.Timeout())
		defer cancel()
		if errors.As(context.Cause(s.Context()), new(*command.UnreachableError)) {
			cancel()
		}
		if err := cl.CommitMarkedOffsets(ctx); err != nil && ctx.Err() == nil {
			fmt.Fprintf(s.Err(), "samsa consume: committing offsets: %v\n", s.Explain(err))
		}
		cl.LeaveGroupContext(ctx)
		s.CloseClient(cl)
	}()

	return printLoop(s, cl, parts, num, nil, committed,
		func(r *kgo.Record) { cl.MarkCommitRecords(r) },
		func(p int32) {
			mu.Lock()
			delete(pending, p)
			mu.Unlock()
		},
		func() bool {
			mu.Lock()
			defer mu.Unlock()
			return exitAtEnd && assignedOnce && len(pending) == 0
		})
}
