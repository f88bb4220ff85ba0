package user

// samsa user create (AlterUserScramCredentials upsertions).

import (
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"samsa/cli/command"
)

func createCommand(cf *command.ClientFlags) *cobra.Command {
	var password string
	var mechs []string
	var iterations int32
	c := &cobra.Command{
		Use:     "create USER",
		Aliases: []string{"alter"},
		Short:   "Create a SCRAM user, or set its password",
		Long: `Creates USER's SCRAM credentials for each --mechanism from its password,
or replaces them: the password is --new-password, else the first line of
standard input. Other mechanisms the user has are left as they are.`,
		Args: command.ExactArgs(1, "USER"),
		RunE: cf.RunE(func(s *command.Session, args []string) error {
			ms, err := mechanisms(mechs)
			if err != nil {
				return err
			}
			if iterations < 4096 || iterations > 16384 {
				return command.UsageErrorf("--iterations %d: want 4096 to 16384", iterations)
			}
			if password == "" {
				if password, err = readPassword(s.In()); err != nil {
					return err
				}
			}
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			// One request per mechanism: some brokers (kfake) refuse two
			// mechanisms of one user in a request, which Kafka allows.
			var results kadm.AlteredUserSCRAMs
			for _, m := range ms {
				r, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: args[0], Mechanism: m, Iterations: iterations, Password: password}})
				if err != nil {
					return err
				}
				if results == nil || r[args[0]].Err != nil {
					results = r
				}
			}
			return report(s, results, "created")
		}),
	}
	c.Flags().StringVar(&password, "new-password", "", "the user's `PASSWORD` (default: the first line of standard input)")
	c.Flags().StringSliceVar(&mechs, "mechanism", []string{"SCRAM-SHA-256"}, "SCRAM mechanisms to create credentials for (repeatable, comma-separated): SCRAM-SHA-256, SCRAM-SHA-512")
	c.Flags().Int32Var(&iterations, "iterations", 4096, "SCRAM iterations, 4096 to 16384")
	return c
}
