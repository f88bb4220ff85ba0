package bench

import (
	"fmt"

	"github.com/spf13/cobra"

	"samsa/cli/command"
)

// NewCommand returns samsa bench and its subcommands.
func NewCommand(cf *command.ClientFlags) *cobra.Command {
	c := command.Group("bench", "Producer and consumer benchmarks",
		`Load generators in the manner of kafka-producer-perf-test.sh and
kafka-consumer-perf-test.sh.`)
	cf.Persistent(c)
	c.AddCommand(produceCommand(cf), consumeCommand(cf))
	return c
}

// topicArg takes the topic from the one positional argument, or from the
// deprecated --topic flag that bench took before every command named its
// topic as an argument.
func topicArg(c *cobra.Command, args []string, flagTopic string) (string, error) {
	switch {
	case len(args) > 1:
		return "", command.UsageErrorf("unexpected argument %q", args[1])
	case len(args) == 1 && flagTopic != "" && flagTopic != args[0]:
		return "", command.UsageErrorf("two topics: %q and --topic %q", args[0], flagTopic)
	case len(args) == 1:
		return args[0], nil
	case flagTopic != "":
		fmt.Fprintf(c.ErrOrStderr(), "%s: --topic is deprecated: give the topic as an argument\n", c.CommandPath())
		return flagTopic, nil
	}
	return "", command.UsageErrorf("no topic named")
}
