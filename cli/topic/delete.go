package topic

// samsa topic delete (DeleteTopics).

import (
	"github.com/spf13/cobra"

	"samsa/cli/command"
)

func deleteCommand(cf *command.ClientFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME...",
		Aliases: []string{"rm"},
		Short:   "Delete topics",
		Long: `Deletes topics and prints one line per topic: OK or the broker's error.
Exits 1 if any topic could not be deleted.`,
		Args:              command.MinArgs(1, "topic"),
		ValidArgsFunction: cf.CompleteTopics,
		RunE: cf.RunE(func(s *command.Session, names []string) error {
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			resps, err := adm.DeleteTopics(ctx, names...)
			if err != nil {
				return err
			}
			return command.PrintStatuses(s.Out(), "topic", "deleted", names, func(name string) (bool, error) {
				r, ok := resps[name]
				return ok, command.ErrOf(r.Err, r.ErrMessage)
			})
		}),
	}
}
