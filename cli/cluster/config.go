package cluster

// samsa cluster config: the brokers' configs, and the flags that name
// them.

import (
	"github.com/spf13/cobra"

	"samsa/cli/command"
)

func configCommand(cf *command.ClientFlags) *cobra.Command {
	c := command.Group("config", "Describe or alter the brokers' configs",
		`The brokers' configs (Kafka's broker config resources), like
kafka-configs.sh --entity-type brokers. Broker configs that a broker
cannot change at run time are read-only: alter reports the broker's
refusal.`)
	c.AddCommand(configDescribeCommand(cf), configAlterCommand(cf))
	return c
}

// brokerTargets resolves --broker and --cluster-default to config resource
// names: the node IDs, "" for the cluster-wide default.
type brokerTargets struct {
	ids            []int32
	clusterDefault bool
}

func (t *brokerTargets) register(c *cobra.Command, what string) {
	c.Flags().Int32SliceVar(&t.ids, "broker", nil, what+" of broker node `ID` (repeatable, or comma-separated)")
	c.Flags().BoolVar(&t.clusterDefault, "cluster-default", false, "the cluster-wide default broker configs instead of one broker's")
}

func (t *brokerTargets) check() error {
	if t.clusterDefault && len(t.ids) > 0 {
		return command.UsageErrorf("--broker and --cluster-default do not go together")
	}
	return nil
}

func targetName(name string) string {
	if name == "" {
		return "cluster-default"
	}
	return "broker " + name
}
