package txn

// samsa txn list (ListTransactions, sent to every broker).

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"samsa/cli/command"
)

func listCommand(cf *command.ClientFlags) *cobra.Command {
	var states, pids []string
	c := &cobra.Command{
		Use:     "list [--states S,...] [--producer-ids ID,...]",
		Aliases: []string{"ls"},
		Short:   "List transactional ids with their coordinator, producer id and state",
		Long: `Lists the transactional ids the transaction coordinators of the cluster hold:
the id, its coordinator, its producer id and the state of its transaction
(Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit,
CompleteAbort).`,
		Args: command.NoArgs,
		RunE: cf.RunE(func(s *command.Session, _ []string) error {
			var filter []string
			for _, st := range states {
				if st = strings.TrimSpace(st); st != "" {
					filter = append(filter, st)
				}
			}
			var ids []int64
			for _, p := range pids {
				id, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
				if err != nil {
					return command.UsageErrorf("--producer-ids: %q is not a producer id", p)
				}
				ids = append(ids, id)
			}
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			ls, err := adm.ListTransactions(ctx, ids, filter)
			if err != nil {
				return err
			}
			tw := command.NewTable(s.Out())
			fmt.Fprintln(tw, "TRANSACTIONAL-ID\tCOORDINATOR\tPRODUCER-ID\tSTATE")
			for _, l := range ls.Sorted() {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", l.TxnID, l.Coordinator, l.ProducerID, l.State)
			}
			return tw.Flush()
		}),
	}
	c.Flags().StringSliceVar(&states, "states", nil, "only transactions in these states, `S,...`: Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort")
	c.Flags().StringSliceVar(&pids, "producer-ids", nil, "only these producer ids, `ID,...`")
	return c
}
