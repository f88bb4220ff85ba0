package topic

// samsa topic offsets (ListOffsets), like kafka-get-offsets.sh.

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"samsa/cli/command"
)

func offsetsCommand(cf *command.ClientFlags) *cobra.Command {
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
		Args:              command.MinArgs(1, "topic"),
		ValidArgsFunction: cf.CompleteTopics,
		RunE: cf.RunE(func(s *command.Session, topics []string) error {
			list, err := offsetLister(at)
			if err != nil {
				return err
			}
			want, err := command.ParsePartitionList("--partition", parts)
			if err != nil {
				return err
			}
			if len(want) > 0 && len(topics) > 1 {
				return command.UsageErrorf("--partition needs a single topic")
			}
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			listed, err := list(adm, ctx, topics...)
			if err != nil {
				return err
			}
			tw := command.NewTable(s.Out())
			fmt.Fprintln(tw, "TOPIC\tPARTITION\tOFFSET\tTIMESTAMP\tLEADER-EPOCH")
			failed := 0
			for _, topic := range topics {
				ps, err := command.TopicPartitions(ctx, adm, topic, want)
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
						fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", topic, p, o.Offset, command.OrDash(o.Timestamp), command.OrDash(int64(o.LeaderEpoch)))
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
		return nil, command.UsageErrorf("--time %q: want earliest, latest, max-timestamp or milliseconds since the epoch", at)
	}
	return func(adm *kadm.Client, ctx context.Context, topics ...string) (kadm.ListedOffsets, error) {
		return adm.ListOffsetsAfterMilli(ctx, ms, topics...)
	}, nil
}
