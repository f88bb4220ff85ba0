// Command samsa is the Samsa broker and its client-side tools in one binary.
//
// The commands are built with github.com/spf13/cobra and its flag package
// github.com/spf13/pflag, as Redpanda's rpk is: GNU-style flags, help on
// every command, suggestions for mistyped commands and shell completion.
// cli.go states the conventions they share.
package main

import (
	"os"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(execute(os.Args[1:]))
}

// execute runs the command line args and returns the exit status.
func execute(args []string) int {
	root := newRootCmd()
	root.SetArgs(legacyLongFlags(args))
	cmd, err := root.ExecuteC()
	return exitStatus(os.Stderr, cmd, err)
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "samsa",
		Short: "A Kafka-compatible message broker and its tools",
		Long: `Samsa is a Kafka-compatible message broker. This binary runs the broker
(samsa broker) and holds the client tools that talk to any Kafka broker:
topics, producing, consuming, consumer groups, cluster administration and
benchmarks, plus dump-log for reading segment files offline.

Exit status: 0 success, 1 a failure (the broker refused, a record was not
delivered, no broker answered within --timeout), 2 a usage error, 130 or
143 when stopped by SIGINT or SIGTERM.

Flags mean the same everywhere: -p/--partitions is a partition count where
a topic is created or grown (topic create, topic add-partitions, bench
produce), as in rpk; -p/--partition is a partition where records are
written, read or deleted (produce, consume, topic delete-records, topic
offsets, group seek), as in kcat. -b/--brokers names the seed brokers
(default $SAMSA_BROKERS, else 127.0.0.1:9092); --timeout bounds every wait.`,
		Version:           versionText(),
		Args:              subcommandArgs,
		RunE:              func(*cobra.Command, []string) error { return nil },
		SilenceErrors:     true,
		SilenceUsage:      true,
		DisableAutoGenTag: true,
	}
	root.SetVersionTemplate("{{.Version}}")
	// Long only: -v is produce's --verbose.
	root.Flags().Bool("version", false, "print the version, commit and Go version (the same as samsa version)")
	root.SetOut(os.Stdout)
	root.SetErr(os.Stderr)
	root.SetFlagErrorFunc(flagError)
	root.SetUsageFunc(usage)
	root.SetHelpCommand(helpCommand())

	cf := newClientFlags()
	root.AddCommand(
		brokerCmd(),
		topicCmd(cf),
		produceCmd(cf),
		consumeCmd(cf),
		groupCmd(cf),
		clusterCmd(cf),
		benchCmd(cf),
		dumpLogCmd(),
		versionCmd(),
		completionCommand(),
	)
	// Every Use line shows the flags that matter; no "[flags]" appended.
	walk(root, func(c *cobra.Command) { c.DisableFlagsInUseLine = true })
	return root
}

// walk calls fn on c and every command below it.
func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, s := range c.Commands() {
		walk(s, fn)
	}
}
