// Package cluster is samsa cluster: what the brokers say about the
// cluster (DescribeCluster, Metadata), their configs (DescribeConfigs,
// IncrementalAlterConfigs on broker resources), their log directories
// (DescribeLogDirs), moving replicas off a broker and leader elections.
// One file per subcommand.
//
// Names: "cluster describe" (also rpk's "info"), "cluster config
// describe|alter" after kafka-configs.sh --describe / --alter on the
// brokers entity (rpk cluster config get/set speak Redpanda's own admin API,
// not Kafka's), "cluster log-dirs" after kafka-log-dirs.sh, "cluster
// elect-leaders" after kafka-leader-election.sh.
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
