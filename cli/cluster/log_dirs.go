package cluster

// samsa cluster log-dirs (DescribeLogDirs), like kafka-log-dirs.sh.

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"samsa/cli/command"
)

func logDirsCommand(cf *command.ClientFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "log-dirs [TOPIC]...",
		Aliases: []string{"logdirs"},
		Short:   "Show the brokers' log directories and partition sizes",
		Long: `Prints each broker's log directories (DescribeLogDirs) with the volume's
total and usable bytes, then the size in bytes of every partition in them
(of the topics named, or all), its offset lag behind the log end and
whether it is a future replica being moved, like kafka-log-dirs.sh
--describe. Exits 1 if a broker or directory could not be described.`,
		ValidArgsFunction: cf.CompleteTopics,
		RunE: cf.RunE(func(s *command.Session, topics []string) error {
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			all, err := adm.DescribeAllLogDirs(ctx, nil)
			if err != nil && len(all) == 0 {
				return err
			}
			dirs := all.Sorted()
			failed := 0
			tw := command.NewTable(s.Out())
			fmt.Fprintln(tw, "BROKER\tDIR\tTOTAL-BYTES\tUSABLE-BYTES\tPARTITIONS\tSIZE\tERROR")
			for _, d := range dirs {
				if d.Err != nil {
					fmt.Fprintf(tw, "%d\t%s\t-\t-\t-\t-\t%v\n", d.Broker, d.Dir, d.Err)
					failed++
					continue
				}
				n := 0
				for _, ps := range d.Topics {
					n += len(ps)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t-\n", d.Broker, d.Dir, command.OrDash(d.TotalBytes), command.OrDash(d.UsableBytes), n, d.Size())
			}
			tw.Flush()
			fmt.Fprintln(s.Out())
			tw = command.NewTable(s.Out())
			fmt.Fprintln(tw, "BROKER\tDIR\tTOPIC\tPARTITION\tSIZE\tOFFSET-LAG\tIS-FUTURE")
			for _, d := range dirs {
				for _, p := range d.Topics.Sorted() {
					if len(topics) > 0 && !slices.Contains(topics, p.Topic) {
						continue
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d\t%t\n", p.Broker, p.Dir, p.Topic, p.Partition, p.Size, p.OffsetLag, p.IsFuture)
				}
			}
			tw.Flush()
			if err != nil {
				return err
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d log directories not described", failed, len(dirs))
			}
			return nil
		}),
	}
}
