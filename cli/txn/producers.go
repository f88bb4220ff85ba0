package txn

// samsa txn describe-producers (DescribeProducers, sent to the leaders).

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"samsa/cli/command"
)

func describeProducersCommand(cf *command.ClientFlags) *cobra.Command {
	var partitions []string
	c := &cobra.Command{
		Use:   "describe-producers TOPIC [-p PARTITION,...]",
		Short: "Show the producers a partition's leader knows, with their open transactions",
		Long: `Prints, for each partition of the topic (or those named), the producers its
leader holds: producer id and epoch, last sequence, the time of its last
write, the coordinator epoch of its last transaction marker and the first
offset of its open transaction (- for none). Exits 1 if a partition could
not be described.`,
		Args:              command.ExactArgs(1, "topic"),
		ValidArgsFunction: cf.CompleteTopic,
		RunE: cf.RunE(func(s *command.Session, args []string) error {
			want, err := command.ParsePartitionList("partition", partitions)
			if err != nil {
				return err
			}
			topic := args[0]
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			ps, err := command.TopicPartitions(ctx, adm, topic, want)
			if err != nil {
				return err
			}
			set := kadm.TopicsSet{}
			set.Add(topic, ps...)
			described, err := adm.DescribeProducers(ctx, set)
			if err != nil && len(described) == 0 {
				return err
			}
			failed := 0
			tw := command.NewTable(s.Out())
			fmt.Fprintln(tw, "PARTITION\tPRODUCER-ID\tEPOCH\tLAST-SEQUENCE\tLAST-TIMESTAMP\tCOORDINATOR-EPOCH\tTXN-START-OFFSET")
			for _, p := range ps {
				d, ok := described[topic].Partitions[p]
				switch {
				case !ok:
					fmt.Fprintf(tw, "%d\tno response from its leader\n", p)
					failed++
					continue
				case d.Err != nil:
					fmt.Fprintf(tw, "%d\t%v\n", p, s.Explain(d.Err))
					failed++
					continue
				}
				for _, ap := range d.ActiveProducers.Sorted() {
					fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%d\t%s\n", p, ap.ProducerID, ap.ProducerEpoch, ap.LastSequence, ap.LastTimestamp,
						ap.CoordinatorEpoch, command.OrDash(ap.CurrentTxnStartOffset))
				}
			}
			tw.Flush()
			if failed > 0 {
				return fmt.Errorf("%d of %d partitions not described", failed, len(ps))
			}
			return nil
		}),
	}
	c.Flags().StringSliceVarP(&partitions, "partition", "p", nil, "only these partitions, `N,...`")
	return c
}
