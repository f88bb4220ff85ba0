package topic

// samsa topic delete-records (DeleteRecords), like kafka-delete-records.sh
// and rpk topic trim-prefix.

import (
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"samsa/cli/command"
)

func deleteRecordsCommand(cf *command.ClientFlags) *cobra.Command {
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
		Args:              command.ExactArgs(1, "one TOPIC"),
		ValidArgsFunction: cf.CompleteTopic,
		RunE: cf.RunE(func(s *command.Session, args []string) error {
			topic := args[0]
			var at int64
			switch offset {
			case "":
				return command.UsageErrorf("--offset is required")
			case "end", "latest", "hw", "-1":
				at = -1
			default:
				n, err := strconv.ParseInt(offset, 10, 64)
				if err != nil || n < 0 {
					return command.UsageErrorf("--offset %q: want an offset, or end", offset)
				}
				at = n
			}
			want, err := command.ParsePartitionList("--partition", parts)
			if err != nil {
				return err
			}
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			ps, err := command.TopicPartitions(ctx, adm, topic, want)
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
			return printPartitionRows(s.Out(), ps, "LOG-START-OFFSET", "deleted", func(p int32) (string, error) {
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

// printPartitionRows prints "PARTITION <column> STATUS" per partition to w
// and returns an error counting the failures.
func printPartitionRows(w io.Writer, ps []int32, column, done string, row func(p int32) (string, error)) error {
	tw := command.NewTable(w)
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
