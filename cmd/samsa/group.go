package main

// samsa group: list, describe, delete consumer groups and reset their
// committed offsets (ListGroups, DescribeGroups, OffsetFetch, ListOffsets,
// DeleteGroups, OffsetCommit), like kafka-consumer-groups.sh and rpk
// group; and consumeGroup, the body of samsa consume --group.

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const groupUsage = `usage: samsa group <subcommand> [arguments]

subcommands:
  list                   list groups with their state and protocol type
  describe GROUP...      members, assignments, committed offsets and lag
  delete GROUP...        delete groups that have no members, with their offsets
  seek GROUP --to WHERE  reset a group's committed offsets

Run 'samsa group <subcommand> -h' for the flags of each.
`

func groupCmd(args []string) int {
	return group("group", groupUsage, args, map[string]func([]string) int{
		"list":     groupList,
		"describe": groupDescribe,
		"delete":   groupDelete,
		"seek":     groupSeek,
	})
}

const groupListUsage = `usage: samsa group list [--states S,...]

Lists the groups: name, state and protocol type ("consumer" for consumer
groups; empty for groups that only hold offsets of simple consumers).

flags:
  -s, --states S,...    only groups in these states (Stable, Empty,
                        PreparingRebalance, CompletingRebalance)
`

func groupList(args []string) int {
	c := newCommand("group list", groupListUsage)
	cf := c.withClient()
	var states string
	c.fs.StringVar(&states, "s", "", "")
	c.fs.StringVar(&states, "states", "", "")
	return c.run(args, func(pos []string) error {
		if len(pos) > 0 {
			return usageErrorf("unexpected argument %q", pos[0])
		}
		var filter []string
		for s := range strings.SplitSeq(states, ",") {
			if s = strings.TrimSpace(s); s != "" {
				filter = append(filter, s)
			}
		}
		adm, ctx, done, err := cf.admin()
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
	})
}

const groupDescribeUsage = `usage: samsa group describe GROUP...

Prints, for each group: its state, protocol, members (id, instance id,
client id, host, assigned partitions) and, for every partition it is
assigned or has a committed offset in, the member reading it, the
committed offset, the log start and end offsets and the lag (end minus
committed; end minus start with no commit). Exits 1 if a group does not
exist or could not be described.
`

func groupDescribe(args []string) int {
	c := newCommand("group describe", groupDescribeUsage)
	cf := c.withClient()
	return c.run(args, func(names []string) error {
		if len(names) == 0 {
			return usageErrorf("no group named")
		}
		adm, ctx, done, err := cf.admin()
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
				fmt.Fprintf(out, "GROUP %s: %v\n", name, l.DescribeErr)
				failed++
				continue
			case l.State == "Dead":
				fmt.Fprintf(out, "GROUP %s: does not exist\n", name)
				failed++
				continue
			}
			describeGroupLag(out, l)
			if l.FetchErr != nil {
				fmt.Fprintf(out, "committed offsets: %v\n", l.FetchErr)
				failed++
			}
		}
		out.Flush()
		if failed > 0 {
			return fmt.Errorf("%d of %d groups not described", failed, len(names))
		}
		return nil
	})
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

const groupDeleteUsage = `usage: samsa group delete GROUP...

Deletes groups that have no members, with their committed offsets, and
prints one line per group: OK or the broker's error (NON_EMPTY_GROUP while
members remain). Exits 1 if any group was not deleted.
`

func groupDelete(args []string) int {
	c := newCommand("group delete", groupDeleteUsage)
	cf := c.withClient()
	return c.run(args, func(names []string) error {
		if len(names) == 0 {
			return usageErrorf("no group named")
		}
		adm, ctx, done, err := cf.admin()
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
	})
}

const groupSeekUsage = `usage: samsa group seek GROUP --to WHERE [--topics T,...] [--partitions P,...] [--dry-run]

Resets the committed offsets of a group that has no members (as
kafka-consumer-groups.sh --reset-offsets does) and prints, per partition,
the previous and the new offset. By default the topics are those the group
has committed offsets for.

flags:
      --to WHERE           earliest (or beginning), latest (or end),
                           offset:N (clamped to the log), time:MS (the first
                           record at or after MS ms since the epoch; the log
                           end if none)
      --topics T,...       topics to reset
      --partitions P,...   only these partitions (needs a single topic)
      --dry-run            print the new offsets without committing them
`

func groupSeek(args []string) int {
	c := newCommand("group seek", groupSeekUsage)
	cf := c.withClient()
	var to, topicList, partList string
	var dryRun bool
	c.fs.StringVar(&to, "to", "", "")
	c.fs.StringVar(&topicList, "topics", "", "")
	c.fs.StringVar(&topicList, "topic", "", "")
	c.fs.StringVar(&partList, "partitions", "", "")
	c.fs.BoolVar(&dryRun, "dry-run", false, "")
	return c.run(args, func(pos []string) error {
		if len(pos) != 1 {
			return usageErrorf("want exactly one GROUP, got %d arguments", len(pos))
		}
		name := pos[0]
		switch to {
		case "":
			return usageErrorf("--to is required")
		case "earliest":
			to = "beginning"
		case "latest":
			to = "end"
		}
		where, err := parseFrom(to)
		if err != nil {
			return usageErrorf("--to %q: want earliest, latest, offset:N or time:MS", to)
		}
		var topics []string
		for t := range strings.SplitSeq(topicList, ",") {
			if t = strings.TrimSpace(t); t != "" {
				topics = append(topics, t)
			}
		}
		var parts []int32
		if partList != "" {
			if len(topics) != 1 {
				return usageErrorf("--partitions needs exactly one topic in --topics")
			}
			if parts, err = parsePartitionList(partList); err != nil {
				return err
			}
		}
		adm, ctx, done, err := cf.admin()
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
			return fmt.Errorf("fetching the offsets of %s: %w", name, err)
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
			ranges, err := lookupRanges(cf, topic, parts, where)
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
	})
}

// consumeGroup is samsa consume --group: it reads topic as a member of
// group, printing each record, and commits what it printed: every 5 s and
// when it stops (after -n records, at the end with -e, or on SIGINT or
// SIGTERM). from is where partitions without a committed offset start.
func consumeGroup(cf *clientFlags, topic, group string, parts []formatPart, from startAt, num int, exitAtEnd bool) error {
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
		ranges, err1 := lookupRanges(cf, topic, nil, from)
		committed, err2 := adm.FetchOffsetsForTopics(ctx, group, topic)
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
	cl, err := cf.newClient(
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(reset),
		kgo.AutoCommitMarks(),
		kgo.OnPartitionsAssigned(onAssigned),
		kgo.OnPartitionsRevoked(onRevoked),
		kgo.OnPartitionsLost(onRevoked),
	)
	if err != nil {
		return err
	}
	adm = kadm.NewClient(cl)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer func() {
		// Commit what was printed, then leave the group.
		c, cancel := cf.ctx()
		defer cancel()
		if err := cl.CommitMarkedOffsets(c); err != nil {
			fmt.Fprintf(os.Stderr, "samsa consume: committing offsets: %v\n", err)
		}
		cl.Close()
	}()

	return printLoop(ctx, cl, parts, num,
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
