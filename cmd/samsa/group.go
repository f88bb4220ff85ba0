package main

// samsa group: list, describe, delete consumer groups and reset their
// committed offsets (ListGroups, DescribeGroups, OffsetFetch, ListOffsets,
// DeleteGroups, OffsetCommit), like kafka-consumer-groups.sh and rpk
// group; and consumeGroup, the body of samsa consume --group.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func groupCmd(cf *clientFlags) *cobra.Command {
	c := groupCommand("group", "List, describe, delete consumer groups; reset their offsets",
		`Consumer group administration, like kafka-consumer-groups.sh and rpk group.
To consume as a member of a group, use samsa consume --group.`)
	cf.persistent(c)
	c.AddCommand(groupListCmd(cf), groupDescribeCmd(cf), groupDeleteCmd(cf), groupSeekCmd(cf))
	return c
}

func groupListCmd(cf *clientFlags) *cobra.Command {
	var states []string
	c := &cobra.Command{
		Use:     "list [--states S,...]",
		Aliases: []string{"ls"},
		Short:   "List groups with their state and protocol type",
		Long: `Lists the groups: name, state and protocol type ("consumer" for consumer
groups; empty for groups that only hold offsets of simple consumers).`,
		Args: noArgs,
		RunE: cf.runE(func(s *session, _ []string) error {
			var filter []string
			for _, st := range states {
				if st = strings.TrimSpace(st); st != "" {
					filter = append(filter, st)
				}
			}
			adm, ctx, done, err := s.adminCall()
			if err != nil {
				return err
			}
			defer done()
			gs, err := adm.ListGroups(ctx, filter...)
			if err != nil {
				return err
			}
			tw := newTable(os.Stdout)
			fmt.Fprintln(tw, "GROUP\tSTATE\tPROTOCOL-TYPE")
			for _, g := range gs.Sorted() {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", g.Group, g.State, g.ProtocolType)
			}
			return tw.Flush()
		}),
	}
	c.Flags().StringSliceVarP(&states, "states", "s", nil, "only groups in these states, `S,...`: Stable, Empty, PreparingRebalance, CompletingRebalance")
	// -s means --set elsewhere; kept working here, out of the help.
	c.Flags().MarkShorthandDeprecated("states", "use --states")
	return c
}

func groupDescribeCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "describe GROUP...",
		Short: "Show members, assignments, committed offsets and lag",
		Long: `Prints, for each group: its state, protocol, members (id, instance id,
client id, host, assigned partitions) and, for every partition it is
assigned or has a committed offset in, the member reading it, the
committed offset, the log start and end offsets and the lag (end minus
committed; end minus start with no commit). Exits 1 if a group does not
exist or could not be described.`,
		Args:              minArgs(1, "group"),
		ValidArgsFunction: cf.completeGroups,
		RunE: cf.runE(func(s *session, names []string) error {
			adm, ctx, done, err := s.adminCall()
			if err != nil {
				return err
			}
			defer done()
			lags, err := adm.Lag(ctx, names...)
			if err != nil {
				return err
			}
			failed := 0
			out := bufio.NewWriter(os.Stdout)
			defer out.Flush()
			for i, name := range names {
				if i > 0 {
					fmt.Fprintln(out)
				}
				l, ok := lags[name]
				switch {
				case !ok:
					fmt.Fprintf(out, "GROUP %s: no response from the broker\n", name)
					failed++
					continue
				case l.DescribeErr != nil:
					fmt.Fprintf(out, "GROUP %s: %v\n", name, s.explain(l.DescribeErr))
					failed++
					continue
				case l.State == "Dead":
					fmt.Fprintf(out, "GROUP %s: does not exist\n", name)
					failed++
					continue
				}
				describeGroupLag(out, l)
				if l.FetchErr != nil {
					fmt.Fprintf(out, "committed offsets: %v\n", s.explain(l.FetchErr))
					failed++
				}
			}
			out.Flush()
			if failed > 0 {
				return fmt.Errorf("%d of %d groups not described", failed, len(names))
			}
			return nil
		}),
	}
}

func describeGroupLag(w *bufio.Writer, l kadm.DescribedGroupLag) {
	var total int64
	for _, m := range l.Lag.Sorted() {
		if m.Lag > 0 {
			total += m.Lag
		}
	}
	tw := newTable(w)
	fmt.Fprintf(tw, "GROUP\t%s\n", l.Group)
	fmt.Fprintf(tw, "COORDINATOR\t%d\n", l.Coordinator.NodeID)
	fmt.Fprintf(tw, "STATE\t%s\n", l.State)
	fmt.Fprintf(tw, "PROTOCOL-TYPE\t%s\n", l.ProtocolType)
	fmt.Fprintf(tw, "PROTOCOL\t%s\n", l.Protocol)
	fmt.Fprintf(tw, "MEMBERS\t%d\n", len(l.Members))
	fmt.Fprintf(tw, "TOTAL-LAG\t%d\n", total)
	tw.Flush()
	if len(l.Members) > 0 {
		fmt.Fprintln(w)
		tw = newTable(w)
		fmt.Fprintln(tw, "MEMBER-ID\tINSTANCE-ID\tCLIENT-ID\tHOST\tASSIGNED")
		for _, m := range l.Members {
			inst := "-"
			if m.InstanceID != nil {
				inst = *m.InstanceID
			}
			var parts []string
			if ca, ok := m.Assigned.AsConsumer(); ok {
				for _, t := range ca.Topics {
					ps := slices.Clone(t.Partitions)
					slices.Sort(ps)
					var nums []string
					for _, p := range ps {
						nums = append(nums, strconv.Itoa(int(p)))
					}
					parts = append(parts, t.Topic+":"+strings.Join(nums, ","))
				}
			}
			assigned := strings.Join(parts, " ")
			if assigned == "" {
				assigned = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.MemberID, inst, m.ClientID, m.ClientHost, assigned)
		}
		tw.Flush()
	}
	rows := l.Lag.Sorted()
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw = newTable(w)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tCURRENT-OFFSET\tLOG-START-OFFSET\tLOG-END-OFFSET\tLAG\tMEMBER-ID")
	for _, m := range rows {
		cur := "-"
		if m.Commit.At >= 0 {
			cur = strconv.FormatInt(m.Commit.At, 10)
		}
		start, end, lag := "-", "-", "-"
		if m.Start.Err == nil {
			start = strconv.FormatInt(m.Start.Offset, 10)
		}
		if m.End.Err == nil {
			end = strconv.FormatInt(m.End.Offset, 10)
		}
		if m.Err == nil && m.Lag >= 0 {
			lag = strconv.FormatInt(m.Lag, 10)
		}
		member := "-"
		if m.Member != nil {
			member = m.Member.MemberID
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", m.Topic, m.Partition, cur, start, end, lag, member)
	}
	tw.Flush()
}

func groupDeleteCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "delete GROUP...",
		Aliases: []string{"rm"},
		Short:   "Delete groups that have no members, with their offsets",
		Long: `Deletes groups that have no members, with their committed offsets, and
prints one line per group: OK or the broker's error (NON_EMPTY_GROUP while
members remain). Exits 1 if any group was not deleted.`,
		Args:              minArgs(1, "group"),
		ValidArgsFunction: cf.completeGroups,
		RunE: cf.runE(func(s *session, names []string) error {
			adm, ctx, done, err := s.adminCall()
			if err != nil {
				return err
			}
			defer done()
			resps, err := adm.DeleteGroups(ctx, names...)
			if err != nil {
				return err
			}
			return printStatuses("group", "deleted", names, func(name string) (bool, error) {
				r, ok := resps[name]
				return ok, r.Err
			})
		}),
	}
}

func groupSeekCmd(cf *clientFlags) *cobra.Command {
	var (
		to, topicList string
		parts         []string
		dryRun        bool
	)
	c := &cobra.Command{
		Use:   "seek GROUP --to WHERE [--topics T,...] [-p P]... [--dry-run]",
		Short: "Reset a group's committed offsets",
		Long: `Resets the committed offsets of a group that has no members (as
kafka-consumer-groups.sh --reset-offsets does) and prints, per partition,
the previous and the new offset. By default the topics are those the group
has committed offsets for.

--to WHERE:
  earliest (or beginning, start)  the log start offset
  latest (or end)                 the high watermark
  offset:N                        offset N, clamped to the log
  time:MS                         the first record at or after MS ms since the
                                  epoch; the log end if none`,
		Example:           `  samsa group seek readers --to earliest`,
		Args:              exactArgs(1, "one GROUP"),
		ValidArgsFunction: cf.completeGroup,
		RunE: cf.runE(func(s *session, args []string) error {
			name := args[0]
			switch to {
			case "":
				return usageErrorf("--to is required")
			case "earliest":
				to = "beginning"
			case "latest":
				to = "end"
			}
			where, err := parseFrom(to)
			if err != nil || where.kind == "relative" {
				return usageErrorf("--to %q: want earliest, latest, offset:N or time:MS", to)
			}
			var topics []string
			for t := range strings.SplitSeq(topicList, ",") {
				if t = strings.TrimSpace(t); t != "" {
					topics = append(topics, t)
				}
			}
			want, err := parsePartitionList("--partition", parts)
			if err != nil {
				return err
			}
			if len(want) > 0 && len(topics) != 1 {
				return usageErrorf("--partition needs exactly one topic in --topics")
			}
			adm, ctx, done, err := s.adminCall()
			if err != nil {
				return err
			}
			defer done()

			dg, err := adm.DescribeGroups(ctx, name)
			if err != nil {
				return err
			}
			if g := dg[name]; g.Err != nil {
				return fmt.Errorf("group %s: %w", name, g.Err)
			} else if len(g.Members) > 0 {
				return fmt.Errorf("group %s has %d members (state %s): stop them before resetting its offsets", name, len(g.Members), g.State)
			}
			current, err := adm.FetchOffsets(ctx, name)
			if err != nil {
				return fmt.Errorf("fetching the offsets of %s: %w", name, s.explain(err))
			}
			if len(topics) == 0 {
				for t := range current {
					topics = append(topics, t)
				}
				slices.Sort(topics)
				if len(topics) == 0 {
					return fmt.Errorf("group %s has no committed offsets: name the topics with --topics", name)
				}
			}
			next := kadm.Offsets{}
			type row struct {
				topic      string
				p          int32
				old, after int64
			}
			var rows []row
			for _, topic := range topics {
				ranges, err := lookupRanges(ctx, adm, topic, want, where)
				if err != nil {
					return err
				}
				ps := make([]int32, 0, len(ranges))
				for p := range ranges {
					ps = append(ps, p)
				}
				slices.Sort(ps)
				for _, p := range ps {
					old := int64(-1)
					if o, ok := current.Lookup(topic, p); ok && o.Err == nil {
						old = o.At
					}
					at := ranges[p].start
					next.AddOffset(topic, p, at, -1)
					rows = append(rows, row{topic, p, old, at})
				}
			}
			if !dryRun {
				resps, err := adm.CommitOffsets(ctx, name, next)
				if err != nil {
					return err
				}
				if err := resps.Error(); err != nil {
					return fmt.Errorf("committing the new offsets: %w", err)
				}
			}
			tw := newTable(os.Stdout)
			fmt.Fprintln(tw, "TOPIC\tPARTITION\tPREVIOUS-OFFSET\tNEW-OFFSET")
			for _, r := range rows {
				old := "-"
				if r.old >= 0 {
					old = strconv.FormatInt(r.old, 10)
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%d\n", r.topic, r.p, old, r.after)
			}
			return tw.Flush()
		}),
	}
	c.Flags().StringVar(&to, "to", "", "where to: `WHERE` is earliest, latest, offset:N or time:MS")
	c.Flags().StringVar(&topicList, "topics", "", "topics to reset, `T,...` (default: those with committed offsets)")
	c.Flags().StringArrayVarP(&parts, "partition", "p", nil, "only partition `P` (repeatable, or comma-separated; needs a single topic)")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "print the new offsets without committing them")
	flagAliases(c, map[string]string{"topic": "topics", "partitions": "partition"})
	return c
}

// consumeGroup is samsa consume --group: it reads topic as a member of
// group, printing each record, and commits what it printed: every 5 s and
// when it stops (after -n records, at the end with -e, or on SIGINT or
// SIGTERM). from is where partitions without a committed offset start.
func consumeGroup(s *session, topic, group string, parts []formatPart, from startAt, num int, exitAtEnd bool) error {
	reset := kgo.NewOffset()
	switch from.kind {
	case "beginning":
		reset = reset.AtStart()
	case "end":
		reset = reset.AtEnd()
	case "offset":
		reset = reset.At(from.n)
	case "time":
		reset = reset.AfterMilli(from.n)
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
		rctx, cancel := context.WithTimeout(ctx, s.cf.timeout)
		defer cancel()
		ranges, err1 := lookupRanges(rctx, adm, topic, nil, from)
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
				r.start = o.At
			}
			if r.start < r.end {
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
	cl, err := s.newClient(
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(reset),
		kgo.AutoCommitMarks(),
		kgo.FetchMaxWait(fetchMaxWait),
		kgo.OnPartitionsAssigned(onAssigned),
		kgo.OnPartitionsRevoked(onRevoked),
		kgo.OnPartitionsLost(onRevoked),
	)
	if err != nil {
		return err
	}
	adm = kadm.NewClient(cl)
	go s.watchConnections(0)
	defer func() {
		// Commit what was printed, then leave the group; both bounded by
		// --timeout, and skipped when the brokers are known to be gone.
		ctx, cancel := context.WithTimeout(context.Background(), s.cf.timeout)
		defer cancel()
		if errors.As(context.Cause(s.ctx), new(*unreachableError)) {
			cancel()
		}
		if err := cl.CommitMarkedOffsets(ctx); err != nil && ctx.Err() == nil {
			fmt.Fprintf(os.Stderr, "samsa consume: committing offsets: %v\n", s.explain(err))
		}
		cl.LeaveGroupContext(ctx)
		s.closeClient(cl)
	}()

	return printLoop(s.ctx, cl, parts, num, nil,
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
