package main

import "github.com/spf13/cobra"

func dumpLogCmd() *cobra.Command {
	var verify, printData bool
	c := &cobra.Command{
		Use:   "dump-log [--verify] [--print-data] FILE...",
		Short: "Print the batches and index entries of segment files",
		Long: `Prints the batches of .log files and the entries of .index and .timeindex
files, offline, like Kafka's kafka-dump-log.sh. With --verify it checks every
batch's CRC and framing and that index entries point where they should, and
exits 1 if anything is wrong.`,
		Example: `  samsa dump-log --verify data/events-0/00000000000000000000.log
  samsa dump-log --print-data data/events-0/*.log`,
		Args: minArgs(1, "file"),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return []cobra.Completion{"log", "index", "timeindex"}, cobra.ShellCompDirectiveFilterFileExt
		},
		RunE: func(_ *cobra.Command, paths []string) error {
			if code := dumpLog(paths, verify, printData); code != 0 {
				return exitCode(code)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&verify, "verify", false, "check CRCs, framing and index consistency; exit 1 on a problem")
	c.Flags().BoolVar(&printData, "print-data", false, "print each record of uncompressed batches")
	return c
}
