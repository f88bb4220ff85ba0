package cluster

// samsa cluster config describe (DescribeConfigs on broker resources).

import (
	"fmt"

	"github.com/spf13/cobra"

	"samsa/cli/command"
)

func configDescribeCommand(cf *command.ClientFlags) *cobra.Command {
	var (
		t   brokerTargets
		all bool
	)
	c := &cobra.Command{
		Use:     "describe [--broker ID]... [--all-configs]",
		Aliases: []string{"get"},
		Short:   "Show the brokers' configs",
		Long: `Prints the configs of each broker (every broker in the metadata unless
--broker names some) that differ from Kafka's defaults, or all of them with
--all-configs: key, value and source. With
--cluster-default, the cluster-wide dynamic defaults instead.`,
		Args: command.NoArgs,
		RunE: cf.RunE(func(s *command.Session, _ []string) error {
			if err := t.check(); err != nil {
				return err
			}
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			ids := t.ids
			if len(ids) == 0 && !t.clusterDefault {
				m, err := adm.BrokerMetadata(ctx)
				if err != nil {
					return err
				}
				ids = m.Brokers.NodeIDs()
			}
			rcs, err := adm.DescribeBrokerConfigs(ctx, ids...)
			if err != nil && len(rcs) == 0 {
				return err
			}
			failed := 0
			for i, rc := range rcs {
				if i > 0 {
					fmt.Fprintln(s.Out())
				}
				fmt.Fprintln(s.Out(), targetName(rc.Name))
				if rc.Err != nil {
					fmt.Fprintf(s.Out(), "error: %s\n", command.ErrText(rc.Err, rc.ErrMessage))
					failed++
					continue
				}
				shown := command.ConfigsToShow(rc.Configs, all)
				if len(shown) == 0 {
					continue
				}
				command.PrintConfigs(s.Out(), shown)
			}
			if err != nil {
				return err
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d config resources not described", failed, len(rcs))
			}
			return nil
		}),
	}
	t.register(c, "the configs")
	c.Flags().BoolVarP(&all, "all-configs", "a", false, "print every config, not only those that differ from the defaults")
	return c
}
