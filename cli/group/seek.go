package group

// samsa group seek: reset a group's committed offsets (OffsetCommit), as
// kafka-consumer-groups.sh --reset-offsets does.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"samsa/cli/command"
)

// seekFlags are the flags of group seek.
type seekFlags struct {
	to, topicList string
	parts         []string
	dryRun        bool
}

func seekCommand(cf *command.ClientFlags) *cobra.Command {
	var f seekFlags
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
		Args:              command.ExactArgs(1, "one GROUP"),
		ValidArgsFunction: cf.CompleteGroup,
		RunE: cf.RunE(func(s *command.Session, args []string) error {
			where, topics, want, err := f.parse()
			if err != nil {
				return err
			}
			return seek(s, args[0], where, topics, want, f.dryRun)
		}),
	}
	c.Flags().StringVar(&f.to, "to", "", "where to: `WHERE` is earliest, latest, offset:N or time:MS")
	c.Flags().StringVar(&f.topicList, "topics", "", "topics to reset, `T,...` (default: those with committed offsets)")
	c.Flags().StringArrayVarP(&f.parts, "partition", "p", nil, "only partition `P` (repeatable, or comma-separated; needs a single topic)")
	c.Flags().BoolVar(&f.dryRun, "dry-run", false, "print the new offsets without committing them")
	command.FlagAliases(c, map[string]string{"topic": "topics", "partitions": "partition"})
	return c
}

// parse checks the flags: where to move, the topics named (none: those
// with committed offsets) and the partitions (none: all).
func (f *seekFlags) parse() (command.StartAt, []string, []int32, error) {
	to := f.to
	switch to {
	case "":
		return command.StartAt{}, nil, nil, command.UsageErrorf("--to is required")
	case "earliest":
		to = "beginning"
	case "latest":
		to = "end"
	}
	where, err := command.ParseFrom(to)
	if err != nil || where.Kind == "relative" {
		return command.StartAt{}, nil, nil, command.UsageErrorf("--to %q: want earliest, latest, offset:N or time:MS", to)
	}
	var topics []string
	for t := range strings.SplitSeq(f.topicList, ",") {
		if t = strings.TrimSpace(t); t != "" {
			topics = append(topics, t)
		}
	}
	want, err := command.ParsePartitionList("--partition", f.parts)
	if err != nil {
		return command.StartAt{}, nil, nil, err
	}
	if len(want) > 0 && len(topics) != 1 {
		return command.StartAt{}, nil, nil, command.UsageErrorf("--partition needs exactly one topic in --topics")
	}
	return where, topics, want, nil
}

// seekRow is one partition moved: its offset before (-1: none) and after.
type seekRow struct {
	topic      string
	p          int32
	old, after int64
}

// seek moves the committed offsets of group name, which must have no
// members, to where in the partitions want of topics (see parse), and
// prints each move; with dryRun it only prints them.
func seek(s *command.Session, name string, where command.StartAt, topics []string, want []int32, dryRun bool) error {
	adm, ctx, done, err := s.AdminCall()
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
		return fmt.Errorf("fetching the offsets of %s: %w", name, s.Explain(err))
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
	var rows []seekRow
	for _, topic := range topics {
		ranges, err := command.LookupRanges(ctx, adm, topic, want, where)
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
			at := ranges[p].Start
			next.AddOffset(topic, p, at, -1)
			rows = append(rows, seekRow{topic, p, old, at})
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
	tw := command.NewTable(s.Out())
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tPREVIOUS-OFFSET\tNEW-OFFSET")
	for _, r := range rows {
		old := "-"
		if r.old >= 0 {
			old = strconv.FormatInt(r.old, 10)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\n", r.topic, r.p, old, r.after)
	}
	return tw.Flush()
}
