package topic

// samsa topic create (CreateTopics).

import (
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"samsa/cli/command"
)

func createCommand(cf *command.ClientFlags) *cobra.Command {
	var (
		partitions, replicas int
		configs              []string
	)
	c := &cobra.Command{
		Use:   "create NAME... [-p N] [-r N] [-c key=value]...",
		Short: "Create topics",
		Long: `Creates topics and prints one line per topic: OK or the broker's error.
Exits 1 if any topic could not be created.`,
		Example: `  samsa topic create events -p 6
  samsa topic create compacted -c cleanup.policy=compact -c segment.ms=3600000`,
		Args: command.MinArgs(1, "topic"),
		RunE: cf.RunE(func(s *command.Session, names []string) error {
			if partitions == 0 || partitions < -1 || partitions > 1<<20 {
				return command.UsageErrorf("--partitions %d: want a positive count or -1", partitions)
			}
			if replicas == 0 || replicas < -1 || replicas > 1<<15-1 {
				return command.UsageErrorf("--replicas %d: want a positive count or -1", replicas)
			}
			cfg := make(map[string]*string)
			for _, kv := range configs {
				k, v, err := command.SplitKV("--config", kv)
				if err != nil {
					return err
				}
				cfg[k] = kadm.StringPtr(v)
			}
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			resps, err := adm.CreateTopics(ctx, int32(partitions), int16(replicas), cfg, names...)
			if err != nil {
				return err
			}
			return command.PrintStatuses(s.Out(), "topic", "created", names, func(name string) (bool, error) {
				r, ok := resps[name]
				return ok, command.ErrOf(r.Err, r.ErrMessage)
			})
		}),
	}
	c.Flags().IntVarP(&partitions, "partitions", "p", -1, "partitions per topic, `N` (-1: the broker's num.partitions)")
	c.Flags().IntVarP(&replicas, "replicas", "r", -1, "replicas per partition, `N` (-1: the broker's default.replication.factor)")
	c.Flags().StringArrayVarP(&configs, "config", "c", nil, "a topic config, `key=value`, for example cleanup.policy=compact (repeatable)")
	return c
}
