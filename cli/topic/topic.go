// Package topic is samsa topic: create, list, describe, delete and alter
// the configs of topics, grow them, delete their records, list their
// offsets and move their partitions, through the Kafka admin APIs. One
// file per subcommand.
//
// Names follow rpk topic (create, list, describe, delete, alter-config,
// add-partitions) where it has the operation, and Kafka's tools
// (kafka-delete-records.sh, kafka-get-offsets.sh,
// kafka-reassign-partitions.sh) where it has not.
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
