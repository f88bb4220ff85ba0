package topic

// samsa topic add-partitions (CreatePartitions).

import (
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"samsa/cli/command"
)

func addPartitionsCommand(cf *command.ClientFlags) *cobra.Command {
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
		Args:              command.MinArgs(1, "topic"),
		ValidArgsFunction: cf.CompleteTopics,
		RunE: cf.RunE(func(s *command.Session, names []string) error {
			switch {
			case total != 0 && add != 0:
				return command.UsageErrorf("--partitions and --num do not go together: give the total or the increase")
			case total == 0 && add == 0:
				return command.UsageErrorf("give --partitions TOTAL or --num ADD")
			case total < 0 || total > 1<<20:
				return command.UsageErrorf("--partitions %d: want a positive count", total)
			case add < 0 || add > 1<<20:
				return command.UsageErrorf("--num %d: want a positive count", add)
			}
			adm, ctx, done, err := s.AdminCall()
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
			return command.PrintStatuses(s.Out(), "topic", "grown", names, func(name string) (bool, error) {
				r, ok := resps[name]
				return ok, command.ErrOf(r.Err, r.ErrMessage)
			})
		}),
	}
	c.Flags().IntVarP(&total, "partitions", "p", 0, "grow each topic to `TOTAL` partitions")
	c.Flags().IntVarP(&add, "num", "n", 0, "add `ADD` partitions to each topic")
	return c
}
