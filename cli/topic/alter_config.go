package topic

// samsa topic alter-config (IncrementalAlterConfigs).

import (
	"github.com/spf13/cobra"

	"samsa/cli/command"
)

func alterConfigCommand(cf *command.ClientFlags) *cobra.Command {
	var sets, dels []string
	c := &cobra.Command{
		Use:   "alter-config NAME... [--set key=value]... [--delete key]...",
		Short: "Set or delete topic configs",
		Long: `Changes topic configs incrementally (IncrementalAlterConfigs): --set
overrides a config, --delete removes an override so the default applies
again. Other configs are left as they are. Prints one line per topic: OK or
the broker's error; exits 1 if any topic was not altered.`,
		Example:           `  samsa topic alter-config events --set retention.ms=86400000 --delete cleanup.policy`,
		Args:              command.MinArgs(1, "topic"),
		ValidArgsFunction: cf.CompleteTopics,
		RunE: cf.RunE(func(s *command.Session, names []string) error {
			alters, err := command.AlterOps(sets, dels)
			if err != nil {
				return err
			}
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			resps, err := adm.AlterTopicConfigs(ctx, alters, names...)
			if err != nil {
				return err
			}
			return command.PrintStatuses(s.Out(), "topic", "altered", names, func(name string) (bool, error) {
				r, err := resps.On(name, nil)
				if err != nil {
					return false, nil
				}
				return true, command.ErrOf(r.Err, r.ErrMessage)
			})
		}),
	}
	c.Flags().StringArrayVarP(&sets, "set", "s", nil, "set a config: `key=value` (repeatable)")
	c.Flags().StringArrayVarP(&dels, "delete", "d", nil, "delete a config override: `key` (repeatable)")
	return c
}
