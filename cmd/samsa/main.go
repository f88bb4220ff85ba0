package main

import (
	"os"

	"github.com/spf13/cobra"

	"samsa/cli/acl"
	"samsa/cli/bench"
	"samsa/cli/broker"
	"samsa/cli/cluster"
	"samsa/cli/command"
	"samsa/cli/completion"
	"samsa/cli/consume"
	"samsa/cli/dumplog"
	"samsa/cli/group"
	"samsa/cli/produce"
	"samsa/cli/root"
	"samsa/cli/topic"
	"samsa/cli/txn"
	"samsa/cli/user"
	versioncmd "samsa/cli/version"
)

// Set by make build (-ldflags "-X main.commit=..."); empty otherwise. See
// package samsa/cli/version.
var (
	version    string // git describe, or a Go pseudo-version of the commit
	commit     string // the full commit hash
	commitTime string // its committer time, RFC 3339 in UTC
	modified   string // "true" if the tree had uncommitted changes
)

func main() {
	os.Exit(root.Execute(newRootCmd(), os.Args[1:]))
}

func newRootCmd() *cobra.Command {
	stamp := versioncmd.Stamp{Version: version, Commit: commit, CommitTime: commitTime, Modified: modified}
	c := &cobra.Command{
		Use:   "samsa",
		Short: "A Kafka-compatible message broker and its tools",
		Long: `Samsa is a Kafka-compatible message broker. This binary runs the broker
(samsa broker) and holds the client tools that talk to any Kafka broker:
topics, producing, consuming, consumer groups, transactions, cluster
administration, ACLs, SCRAM users and benchmarks, plus dump-log for reading
segment files offline.

Exit status: 0 success, 1 a failure (the broker refused, a record was not
delivered, no broker answered within --timeout), 2 a usage error, 130 or
143 when stopped by SIGINT or SIGTERM.

Flags mean the same everywhere: -p/--partitions is a partition count where
a topic is created or grown (topic create, topic add-partitions, bench
produce), as in rpk; -p/--partition is a partition where records are
written, read or deleted (produce, consume, topic delete-records, topic
offsets, group seek), as in kcat. -b/--brokers names the seed brokers
(default $SAMSA_BROKERS, else 127.0.0.1:9092); --timeout bounds every wait.`,
		Version:           versioncmd.Text(stamp),
		Args:              command.SubcommandArgs,
		RunE:              func(*cobra.Command, []string) error { return nil },
		DisableAutoGenTag: true,
	}
	c.SetVersionTemplate("{{.Version}}")
	// Long only: -v is produce's --verbose.
	c.Flags().Bool("version", false, "print the version, commit and Go version (the same as samsa version)")
	c.SetOut(os.Stdout)
	c.SetErr(os.Stderr)

	cf := command.NewClientFlags()
	c.AddCommand(
		broker.NewCommand(),
		topic.NewCommand(cf),
		produce.NewCommand(cf),
		consume.NewCommand(cf),
		group.NewCommand(cf),
		txn.NewCommand(cf),
		cluster.NewCommand(cf),
		acl.NewCommand(cf),
		user.NewCommand(cf),
		bench.NewCommand(cf),
		dumplog.NewCommand(),
		versioncmd.NewCommand(stamp),
		completion.NewCommand(),
	)
	root.Setup(c)
	return c
}
