package group

// samsa group delete (DeleteGroups).

import (
	"github.com/spf13/cobra"

	"samsa/cli/command"
)

func deleteCommand(cf *command.ClientFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "delete GROUP...",
		Aliases: []string{"rm"},
		Short:   "Delete groups that have no members, with their offsets",
		Long: `Deletes groups that have no members, with their committed offsets, and
prints one line per group: OK or the broker's error (NON_EMPTY_GROUP while
members remain). Exits 1 if any group was not deleted.`,
		Args:              command.MinArgs(1, "group"),
		ValidArgsFunction: cf.CompleteGroups,
		RunE: cf.RunE(func(s *command.Session, names []string) error {
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			resps, err := adm.DeleteGroups(ctx, names...)
			if err != nil {
				return err
			}
			return command.PrintStatuses(s.Out(), "group", "deleted", names, func(name string) (bool, error) {
				r, ok := resps[name]
				return ok, r.Err
			})
		}),
	}
}
