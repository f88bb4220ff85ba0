package group

import (
	"github.com/spf13/cobra"

	"samsa/cli/command"
)

// NewCommand returns samsa group and its subcommands.
func NewCommand(cf *command.ClientFlags) *cobra.Command {
	c := command.Group("group", "List, describe, delete consumer groups; reset their offsets",
		`Consumer group administration, like kafka-consumer-groups.sh and rpk group.
To consume as a member of a group, use samsa consume --group.`)
	cf.Persistent(c)
	c.AddCommand(listCommand(cf), describeCommand(cf), deleteCommand(cf), seekCommand(cf))
	return c
}
