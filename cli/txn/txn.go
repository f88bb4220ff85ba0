package txn

import (
	"github.com/spf13/cobra"

	"samsa/cli/command"
)

// NewCommand returns samsa txn and its subcommands.
func NewCommand(cf *command.ClientFlags) *cobra.Command {
	c := command.Group("txn", "List and describe transactions and the producers of partitions",
		`Transaction administration, like kafka-transactions.sh: the transactional
ids the brokers' transaction coordinators hold and their transactions, and
the producers a partition's leader knows. To produce in a transaction, use
samsa produce --transactional-id; to read only committed records, samsa
consume --isolation read_committed.`)
	cf.Persistent(c)
	c.AddCommand(listCommand(cf), describeCommand(cf), describeProducersCommand(cf))
	return c
}
