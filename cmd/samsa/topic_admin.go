package main

// samsa topic add-partitions (CreatePartitions), delete-records
// (DeleteRecords) and offsets (ListOffsets).

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

func topicAddPartitionsCmd(cf *clientFlags) *cobra.Command {
	var total, add int
	c := &cobra.Command{
		Use:   "add-partitions NAME... (-p TOTAL | -n ADD)",
		Short: "Add partitions to topics",
		Long: `Grows topics (CreatePartitions): to TOTAL partitions with -p/--partitions,
the partition count as in topic create and kafka-topics.sh --alter
--partitions, or by ADD partitions with -n/--num, as rpk topic
add-partitions. Partitions are never removed. Records with a key may land
in another partition afterwards. Prints one line per topic: OK or the
broker's error; exits 1 if any topic did not grow.`,
		Example: `  samsa topic add-partitions events -p 12     # events now has 12 partitions
  samsa topic add-partitions events -n 2      # two more`,
		Args:              minArgs(1, "topic"),
		ValidArgsFunction: cf.completeTopics,
		RunE: cf.runE(func(s *session, names []string) error {
			switch {
			case total != 0 && add != 0:
				return usageErrorf("--partitions and --num do not go together: give the total or the increase")
			case total == 0 && add == 0:
				return usageErrorf("give --partitions TOTAL or --num ADD")
			case total < 0 || total > 1<<20:
				return usageErrorf("--partitions %d: want a positive count", total)
			case add < 0 || add > 1<<20:
				return usageErrorf("--num %d: want a positive count", add)
			}
			adm, ctx, done, err := s.adminCall()
			if err != nil {
				return err
			}
			defer done()
			var resps kadm.CreatePartitionsResponses
			if total > 0 {
				resps, err = adm.UpdatePartitions(ctx, total, names...)
			} else {
				resps, err = adm.CreatePartitions(ctx, add, names...)
			}
			if err != nil {
				return err
			}
			return printStatuses("topic", "grown", names, func(name string) (bool, error) {
				r, ok := resps[name]
				return ok, errOf(r.Err, r.ErrMessage)
			})
		}),
	}
	c.Flags().IntVarP(&total, "partitions", "p", 0, "grow each topic to `TOTAL` partitions")
	c.Flags().IntVarP(&add, "num", "n", 0, "add `ADD` partitions to each topic")
	return c
}

func topicDeleteRecordsCmd(cf *clientFlags) *cobra.Command {
	var (
		parts  []string
		offset string
	)
	c := &cobra.Command{
		Use:     "delete-records NAME --offset O [-p P]...",
		Aliases: []string{"trim-prefix"},
		Short:   "Delete the records before an offset",
		Long: `Deletes the records of a topic's partitions below an offset
(DeleteRecords): each partition's log start offset moves up to --offset,
and segments wholly below it are removed, like kafka-delete-records.sh and
rpk topic trim-prefix. --offset end (or -1) deletes everything up to the
high watermark. Prints, per partition, the new log start offset or the
broker's error; exits 1 if any partition failed.`,
		Example: `  samsa topic delete-records events --offset 1000 -p 0
  samsa topic delete-records events --offset end      # empty every partition`,
		Args:              exactArgs(1, "one TOPIC"),
		ValidArgsFunction: cf.completeTopic,
		RunE: cf.runE(func(s *session, args []string) error {
			topic := args[0]
			var at int64
			switch offset {
			case "":
				return usageErrorf("--offset is required")
			case "end", "latest", "hw", "-1":
				at = -1
			default:
				n, err := strconv.ParseInt(offset, 10, 64)
				if err != nil || n < 0 {
					return usageErrorf("--offset %q: want an offset, or end", offset)
				}
				at = n
			}
			want, err := parsePartitionList("--partition", parts)
			if err != nil {
				return err
			}
			adm, ctx, done, err := s.adminCall()
			if err != nil {
				return err
			}
			defer done()
			ps, err := topicPartitions(ctx, adm, topic, want)
			if err != nil {
				return err
			}
			offs := kadm.Offsets{}
			for _, p := range ps {
				offs.AddOffset(topic, p, at, -1)
			}
			resps, err := adm.DeleteRecords(ctx, offs)
			if err != nil {
				return err
			}
			return printPartitionRows(ps, "LOG-START-OFFSET", "deleted", func(p int32) (string, error) {
				r, ok := resps.Lookup(topic, p)
				if !ok {
					return "", fmt.Errorf("no response from broker")
				}
				if r.Err != nil {
					return "", r.Err
				}
				return strconv.FormatInt(r.LowWatermark, 10), nil
			})
		}),
	}
	c.Flags().StringVarP(&offset, "offset", "o", "", "delete the records below offset `O` (end or -1: the high watermark)")
	c.Flags().StringArrayVarP(&parts, "partition", "p", nil, "only partition `P` (repeatable, or comma-separated; default all)")
	return c
}

func topicOffsetsCmd(cf *clientFlags) *cobra.Command {
	var (
		at    string
		parts []string
	)
	c := &cobra.Command{
		Use:   "offsets NAME... [--time earliest|latest|max-timestamp|MS] [-p P]...",
		Short: "List the offsets of partitions, at the ends or by time",
		Long: `Lists, per partition, an offset (ListOffsets), like kafka-get-offsets.sh:
  --time earliest       the log start offset (or -2)
  --time latest         the high watermark, the offset of the next record (or -1; the default)
  --time max-timestamp  the record with the largest timestamp, and that timestamp (or -3)
  --time MS             the first record with a timestamp at or after MS milliseconds
                        since the epoch, and its timestamp; the high watermark if none
Exits 1 if any partition failed.`,
		Example: `  samsa topic offsets events
  samsa topic offsets events --time $(date -d '1 hour ago' +%s000)`,
		Args:              minArgs(1, "topic"),
		ValidArgsFunction: cf.completeTopics,
		RunE: cf.runE(func(s *session, topics []string) error {
			list, err := offsetLister(at)
			if err != nil {
				return err
			}
			want, err := parsePartitionList("--partition", parts)
			if err != nil {
				return err
			}
			if len(want) > 0 && len(topics) > 1 {
				return usageErrorf("--partition needs a single topic")
			}
			adm, ctx, done, err := s.adminCall()
			if err != nil {
				return err
			}
			defer done()
			listed, err := list(adm, ctx, topics...)
			if err != nil {
				return err
			}
			tw := newTable(os.Stdout)
			fmt.Fprintln(tw, "TOPIC\tPARTITION\tOFFSET\tTIMESTAMP\tLEADER-EPOCH")
			failed := 0
			for _, topic := range topics {
				ps, err := topicPartitions(ctx, adm, topic, want)
				if err != nil {
					fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t%v\n", topic, err)
					failed++
					continue
				}
				for _, p := range ps {
					o, ok := listed.Lookup(topic, p)
					switch {
					case !ok:
						fmt.Fprintf(tw, "%s\t%d\t-\t-\t-\tno response from broker\n", topic, p)
						failed++
					case o.Err != nil:
						fmt.Fprintf(tw, "%s\t%d\t-\t-\t-\t%v\n", topic, p, o.Err)
						failed++
					default:
						fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", topic, p, o.Offset, orDash(o.Timestamp), orDash(int64(o.LeaderEpoch)))
					}
				}
			}
			tw.Flush()
			if failed > 0 {
				return fmt.Errorf("%d partitions without an offset", failed)
			}
			return nil
		}),
	}
	c.Flags().StringVar(&at, "time", "latest", "which offset: `WHEN` is earliest, latest, max-timestamp or a time in ms since the epoch")
	c.Flags().StringArrayVarP(&parts, "partition", "p", nil, "only partition `P` (repeatable, or comma-separated; default all)")
	return c
}

type listFunc func(adm *kadm.Client, ctx context.Context, topics ...string) (kadm.ListedOffsets, error)

// offsetLister maps --time to the ListOffsets query.
func offsetLister(at string) (listFunc, error) {
	switch at {
	case "earliest", "start", "beginning", "-2":
		return (*kadm.Client).ListStartOffsets, nil
	case "latest", "end", "-1":
		return (*kadm.Client).ListEndOffsets, nil
	case "max-timestamp", "-3":
		return (*kadm.Client).ListMaxTimestampOffsets, nil
	}
	ms, err := strconv.ParseInt(strings.TrimPrefix(at, "time:"), 10, 64)
	if err != nil || ms < 0 {
		return nil, usageErrorf("--time %q: want earliest, latest, max-timestamp or milliseconds since the epoch", at)
	}
	return func(adm *kadm.Client, ctx context.Context, topics ...string) (kadm.ListedOffsets, error) {
		return adm.ListOffsetsAfterMilli(ctx, ms, topics...)
	}, nil
}

func orDash(n int64) string {
	if n < 0 {
		return "-"
	}
	return strconv.FormatInt(n, 10)
}

// topicPartitions returns want, checked against the topic's partitions, or
// all of them when want is empty, sorted.
func topicPartitions(ctx context.Context, adm *kadm.Client, topic string, want []int32) ([]int32, error) {
	tds, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return nil, err
	}
	td, ok := tds[topic]
	if !ok {
		return nil, fmt.Errorf("topic %s: not in the metadata response", topic)
	}
	if td.Err != nil {
		return nil, fmt.Errorf("topic %s: %w", topic, td.Err)
	}
	if len(want) == 0 {
		return td.Partitions.Numbers(), nil
	}
	for _, p := range want {
		if _, ok := td.Partitions[p]; !ok {
			return nil, fmt.Errorf("topic %s has no partition %d (it has %d)", topic, p, len(td.Partitions))
		}
	}
	ps := slices.Clone(want)
	slices.Sort(ps)
	return ps, nil
}

// printPartitionRows prints "PARTITION <column> STATUS" per partition and
// returns an error counting the failures.
func printPartitionRows(ps []int32, column, done string, row func(p int32) (string, error)) error {
	tw := newTable(os.Stdout)
	fmt.Fprintf(tw, "PARTITION\t%s\tSTATUS\n", column)
	failed := 0
	for _, p := range ps {
		v, err := row(p)
		if err != nil {
			fmt.Fprintf(tw, "%d\t-\t%v\n", p, err)
			failed++
			continue
		}
		fmt.Fprintf(tw, "%d\t%s\tOK\n", p, v)
	}
	tw.Flush()
	if failed > 0 {
		return fmt.Errorf("%d of %d partitions not %s", failed, len(ps), done)
	}
	return nil
}
