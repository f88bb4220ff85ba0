package consume

import (
	"github.com/spf13/cobra"

	"samsa/cli/command"
)

const consumeLong = `Reads the partitions of TOPIC directly (or, with --group, as a member of a
consumer group) and prints each record with --format. Runs until
interrupted, unless -n, -e or an end in --from says when to stop. Records
of different partitions interleave. Exits 1 if the brokers stay
unreachable for --timeout, 130 or 143 when stopped by SIGINT or SIGTERM.

--from (-o) says where to start in each partition; kcat's and rpk's -o
spellings are accepted too:
  beginning, start, earliest  the log start offset (the default)
  end, latest                 the high watermark: new records only
  offset:N, N                 offset N (clamped to the log)
  -N                          N records before the high watermark (kcat, rpk)
  +N                          N records after the log start (rpk)
  time:MS, s@MS, @MS          the first record with a timestamp at or after MS
                              milliseconds since the epoch (kcat s@, rpk @);
                              @ also takes an RFC 3339 time or a duration
                              before now: @2024-05-01T10:00:00Z, @-1h
  :end                        from the start up to the high watermark (rpk)
  :N, M:N                     from the start (or offset M) up to, not
                              including, offset N (rpk)
A range that has an end exits when every partition has reached it.

--isolation read_committed reads only what transactions committed (and
records written outside transactions), up to the last stable offset: the
records of aborted transactions and of those still open are not printed.
The default, read_uncommitted, prints every record up to the high watermark.
Transaction markers are never printed.

--format F prints each record: %t topic  %p partition  %o offset  %k key
%v value  %T timestamp (ms)  %h headers as k=v,k=v  %% a percent sign;
\n \t \r \\ escapes. The default is "%v\n".`

// NewCommand returns samsa consume.
func NewCommand(cf *command.ClientFlags) *cobra.Command {
	var (
		parts     []string
		from      string
		format    string
		num       int
		exitAtEnd bool
		groupID   string
		isolation string
	)
	c := &cobra.Command{
		Use:   "consume TOPIC [flags]",
		Short: "Print the records of a topic's partitions",
		Long:  consumeLong,
		Example: `  samsa consume events --from beginning -e --format '%p@%o %k=%v\n'
  samsa consume events -p 0 -o -10 -e       # the last 10 records of partition 0
  samsa consume events --group readers      # as a member of group readers`,
		Args:              command.ExactArgs(1, "exactly one TOPIC"),
		ValidArgsFunction: cf.CompleteTopic,
		RunE: cf.RunE(func(s *command.Session, args []string) error {
			topic := args[0]
			fparts, err := parseFormat(format)
			if err != nil {
				return err
			}
			start, err := command.ParseFrom(from)
			if err != nil {
				return err
			}
			if num < 0 {
				return command.UsageErrorf("--num %d: want a positive count", num)
			}
			committed := isolation == "read_committed"
			if !committed && isolation != "read_uncommitted" {
				return command.UsageErrorf("--isolation %q: want read_uncommitted or read_committed", isolation)
			}
			want, err := command.ParsePartitionList("--partition", parts)
			if err != nil {
				return err
			}
			if start.UntilEnd {
				exitAtEnd = true
			}
			if groupID != "" {
				switch {
				case len(want) > 0:
					return command.UsageErrorf("--partition and --group do not go together: the group assigns partitions")
				case start.Until >= 0:
					return command.UsageErrorf("--from %q: an end offset does not go with --group", from)
				case start.Kind == "relative":
					return command.UsageErrorf("--from %q: relative offsets do not go with --group", from)
				}
				return consumeGroup(s, topic, groupID, fparts, start, num, exitAtEnd, committed)
			}
			return consumePartitions(s, topic, want, fparts, start, num, exitAtEnd, committed)
		}),
	}
	c.Flags().StringArrayVarP(&parts, "partition", "p", nil, "read only partition `P` (repeatable, or comma-separated; default all)")
	c.Flags().StringVarP(&from, "from", "o", "beginning", "where to start (and end): `POSITION`, see above")
	c.Flags().StringVar(&format, "format", `%v\n`, "how to print each record: `F`, see above")
	c.Flags().IntVarP(&num, "num", "n", 0, "exit after `N` records")
	c.Flags().BoolVarP(&exitAtEnd, "exit-at-end", "e", false, "exit once every partition has been read up to its high watermark as of when it caught up")
	c.Flags().StringVarP(&groupID, "group", "g", "", "consume as a member of consumer group `G`: members share the partitions, reading starts at the group's committed offsets (--from applies to partitions without one), and printed records are committed every 5s and on exit")
	c.Flags().StringVar(&isolation, "isolation", "read_uncommitted", "`I` is read_committed to print only records of committed transactions (up to the last stable offset), or read_uncommitted")
	command.FlagAliases(c, map[string]string{"partitions": "partition", "offset": "from"})
	cf.AddTo(c.Flags())
	c.RegisterFlagCompletionFunc("group", func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return cf.CompleteGroups(cmd, nil, toComplete)
	})
	return c
}
