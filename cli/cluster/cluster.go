package cluster

import (
	"github.com/spf13/cobra"

	"samsa/cli/command"
)

// NewCommand returns samsa cluster and its subcommands.
func NewCommand(cf *command.ClientFlags) *cobra.Command {
	describe := describeCommand(cf)
	c := &cobra.Command{
		Use:   "cluster",
		Short: "Describe the cluster, its brokers' configs and log directories",
		Long: `Cluster administration. Without a command, the same as 'samsa cluster
describe'.`,
		Annotations: map[string]string{"runnable": "true"},
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return command.UnknownCommand(c, args[0])
			}
			return nil
		},
		RunE: describe.RunE,
	}
	cf.Persistent(c)
	c.AddCommand(describe, configCommand(cf), logDirsCommand(cf), decommissionCommand(cf), electLeadersCommand(cf))
	return c
}
