package txn

// samsa txn describe (FindCoordinator, DescribeTransactions).

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"samsa/cli/command"
)

func describeCommand(cf *command.ClientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "describe TRANSACTIONAL-ID...",
		Short: "Show the state, producer, timeout and partitions of transactions",
		Long: `Prints, for each transactional id, as its coordinator holds it: the
coordinator, the producer id and epoch, the state of its transaction, the
transaction timeout, when the transaction in progress started and for how
long it has been running (- outside a transaction), and its partitions.
Exits 1 if an id is unknown or could not be described.`,
		Args: command.MinArgs(1, "transactional id"),
		RunE: cf.RunE(func(s *command.Session, ids []string) error {
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			ds, err := adm.DescribeTransactions(ctx, ids...)
			if err != nil && len(ds) == 0 {
				return err
			}
			failed := 0
			tw := command.NewTable(s.Out())
			fmt.Fprintln(tw, "TRANSACTIONAL-ID\tCOORDINATOR\tPRODUCER-ID\tEPOCH\tSTATE\tTIMEOUT-MS\tSTART\tDURATION\tPARTITIONS")
			now := time.Now()
			for _, id := range ids {
				d, ok := ds[id]
				switch {
				case !ok:
					fmt.Fprintf(tw, "%s\t%s\n", id, "no response from its coordinator")
					failed++
					continue
				case d.Err != nil:
					fmt.Fprintf(tw, "%s\t%v\n", id, s.Explain(d.Err))
					failed++
					continue
				}
				start, dur := "-", "-"
				if d.StartTimestamp >= 0 && (d.State == "Ongoing" || strings.HasPrefix(d.State, "Prepare")) {
					t := time.UnixMilli(d.StartTimestamp)
					start, dur = t.UTC().Format(time.RFC3339Nano), now.Sub(t).Round(time.Millisecond).String()
				}
				var parts []string
				for _, tp := range d.Topics.Sorted() {
					for _, p := range tp.Partitions {
						parts = append(parts, fmt.Sprintf("%s-%d", tp.Topic, p))
					}
				}
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%d\t%s\t%s\t%s\n", d.TxnID, d.Coordinator, d.ProducerID, d.ProducerEpoch, d.State,
					d.TimeoutMillis, start, dur, strings.Join(parts, ","))
			}
			tw.Flush()
			if failed > 0 {
				return fmt.Errorf("%d of %d transactional ids not described", failed, len(ids))
			}
			return nil
		}),
	}
}
