package user

// samsa user list (DescribeUserScramCredentials).

import (
	"fmt"

	"github.com/spf13/cobra"

	"samsa/cli/command"
)

func listCommand(cf *command.ClientFlags) *cobra.Command {
	c := &cobra.Command{
		Use:     "list [USER...]",
		Aliases: []string{"ls", "describe"},
		Short:   "List SCRAM users and their mechanisms",
		Long: `Lists the SCRAM users (those named, or all) with each mechanism they have a
credential for and its iterations; never the credentials.`,
		RunE: cf.RunE(func(s *command.Session, args []string) error {
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			described, err := adm.DescribeUserSCRAMs(ctx, args...)
			if err != nil {
				return err
			}
			tw := command.NewTable(s.Out())
			fmt.Fprintln(tw, "USER\tMECHANISM\tITERATIONS")
			var failed error
			for _, d := range described.Sorted() {
				if d.Err != nil {
					failed = fmt.Errorf("user %s: %w", d.User, command.ErrOf(d.Err, d.ErrMessage))
					continue
				}
				for _, ci := range d.CredInfos {
					fmt.Fprintf(tw, "%s\t%s\t%d\n", d.User, ci.Mechanism, ci.Iterations)
				}
			}
			tw.Flush()
			return failed
		}),
	}
	return c
}
