package user

// samsa user delete (AlterUserScramCredentials deletions).

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"samsa/cli/command"
)

func deleteCommand(cf *command.ClientFlags) *cobra.Command {
	var mechs []string
	c := &cobra.Command{
		Use:     "delete USER...",
		Aliases: []string{"rm"},
		Short:   "Delete SCRAM users",
		Long: `Deletes the users' SCRAM credentials: those of each --mechanism, or every
one a user has. Connections the user has open stay until they close or
their session expires (connections.max.reauth.ms).`,
		Args: command.MinArgs(1, "USER"),
		RunE: cf.RunE(func(s *command.Session, args []string) error {
			ms, err := mechanisms(mechs)
			if err != nil {
				return err
			}
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			var del []kadm.DeleteSCRAM
			if len(ms) > 0 {
				for _, u := range args {
					for _, m := range ms {
						del = append(del, kadm.DeleteSCRAM{User: u, Mechanism: m})
					}
				}
			} else {
				described, err := adm.DescribeUserSCRAMs(ctx, args...)
				if err != nil {
					return err
				}
				for _, u := range args {
					d := described[u]
					if d.Err != nil {
						return fmt.Errorf("user %s: %w", u, command.ErrOf(d.Err, d.ErrMessage))
					}
					for _, ci := range d.CredInfos {
						del = append(del, kadm.DeleteSCRAM{User: u, Mechanism: ci.Mechanism})
					}
				}
			}
			// One request per credential, as create does.
			results := kadm.AlteredUserSCRAMs{}
			for _, d := range del {
				r, err := adm.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{d}, nil)
				if err != nil {
					return err
				}
				if prev, ok := results[d.User]; !ok || prev.Err == nil {
					results[d.User] = r[d.User]
				}
			}
			return report(s, results, "deleted")
		}),
	}
	c.Flags().StringSliceVar(&mechs, "mechanism", nil, "delete only these mechanisms' credentials (repeatable, comma-separated; default every one)")
	return c
}
