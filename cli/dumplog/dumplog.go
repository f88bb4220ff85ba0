package dumplog

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"samsa/cli/command"
)

// NewCommand returns samsa dump-log.
func NewCommand() *cobra.Command {
	var verify, printData bool
	c := &cobra.Command{
		Use:   "dump-log [--verify] [--print-data] FILE...",
		Short: "Print the batches and index entries of segment files",
		Long: `Prints the batches of .log files (with --print-data their records, and the
COMMIT and ABORT markers of control batches) and the entries of .index,
.timeindex, .txnindex (aborted transactions) and .snapshot files, offline,
like Kafka's kafka-dump-log.sh. With --verify it checks every batch's CRC
and framing and that index entries point where they should, and exits 1 if
anything is wrong.`,
		Example: `  samsa dump-log --verify data/events-0/00000000000000000000.log
  samsa dump-log --print-data data/events-0/*.log`,
		Annotations: map[string]string{command.AnnotationLegacyFlags: "verify,print-data"},
		Args:        command.MinArgs(1, "file"),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return []cobra.Completion{"log", "index", "timeindex", "txnindex", "snapshot"}, cobra.ShellCompDirectiveFilterFileExt
		},
		RunE: func(c *cobra.Command, paths []string) error {
			if code := dumpLog(c.OutOrStdout(), c.ErrOrStderr(), paths, verify, printData); code != 0 {
				return command.ExitCode(code)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&verify, "verify", false, "check CRCs, framing and index consistency; exit 1 on a problem")
	c.Flags().BoolVar(&printData, "print-data", false, "print each record (compressed batches are decompressed first)")
	return c
}

// dumpLog prints to out (and with verify checks) each file, directory or
// glob, with notes and errors to errOut; it returns the exit status.
func dumpLog(out, errOut io.Writer, paths []string, verify, printData bool) int {
	d := &dumper{out: out, errOut: errOut, verify: verify, printData: printData}
	for _, path := range paths {
		d.dumpPath(path)
	}
	if d.problems > 0 {
		fmt.Fprintf(errOut, "samsa dump-log: %d problem(s) found\n", d.problems)
		return 1
	}
	return 0
}
