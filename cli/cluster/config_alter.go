package cluster

// samsa cluster config alter (IncrementalAlterConfigs on broker resources).

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"samsa/cli/command"
)

func configAlterCommand(cf *command.ClientFlags) *cobra.Command {
	var (
		t          brokerTargets
		sets, dels []string
	)
	c := &cobra.Command{
		Use:     "alter [--broker ID]... --set key=value... --delete key...",
		Aliases: []string{"set"},
		Short:   "Change broker configs",
		Long: `Changes broker configs incrementally (IncrementalAlterConfigs): --set sets a
dynamic value, --delete removes it. The target is each --broker, or the
cluster-wide default when no --broker is given (as kafka-configs.sh
--entity-default). Prints one line per target: OK or the broker's error;
exits 1 if any was not altered. A broker without dynamic broker configs
refuses every change.`,
		Example: `  samsa cluster config alter --broker 1 --set log.cleaner.threads=2`,
		Args:    command.NoArgs,
		RunE: cf.RunE(func(s *command.Session, _ []string) error {
			if err := t.check(); err != nil {
				return err
			}
			alters, err := command.AlterOps(sets, dels)
			if err != nil {
				return err
			}
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			resps, err := adm.AlterBrokerConfigs(ctx, alters, t.ids...)
			if err != nil && len(resps) == 0 {
				return err
			}
			var names []string
			if len(t.ids) == 0 {
				names = []string{""}
			}
			for _, id := range t.ids {
				names = append(names, strconv.Itoa(int(id)))
			}
			tw := command.NewTable(s.Out())
			fmt.Fprintln(tw, "TARGET\tSTATUS")
			failed := 0
			for _, name := range names {
				status := "OK"
				if r, err := resps.On(name, nil); err != nil {
					status, failed = "no response from broker", failed+1
				} else if r.Err != nil {
					status, failed = command.ErrText(r.Err, r.ErrMessage), failed+1
				}
				fmt.Fprintf(tw, "%s\t%s\n", targetName(name), status)
			}
			tw.Flush()
			if err != nil {
				return err
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d config resources not altered", failed, len(names))
			}
			return nil
		}),
	}
	t.register(c, "change the configs")
	c.Flags().StringArrayVarP(&sets, "set", "s", nil, "set a config: `key=value` (repeatable)")
	c.Flags().StringArrayVarP(&dels, "delete", "d", nil, "delete a dynamic config: `key` (repeatable)")
	return c
}
