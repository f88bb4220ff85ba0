package topic

import (
	"github.com/spf13/cobra"

	"samsa/cli/command"
)

// NewCommand returns samsa topic and its subcommands.
func NewCommand(cf *command.ClientFlags) *cobra.Command {
	c := command.Group("topic", "Create, list, describe, delete and alter topics",
		`Topic administration through the Kafka admin APIs, like rpk topic and
kafka-topics.sh.`)
	cf.Persistent(c)
	c.AddCommand(
		createCommand(cf),
		listCommand(cf),
		describeCommand(cf),
		deleteCommand(cf),
		alterConfigCommand(cf),
		addPartitionsCommand(cf),
		deleteRecordsCommand(cf),
		offsetsCommand(cf),
		reassignCommand(cf),
		reassignmentsCommand(cf),
	)
	return c
}
