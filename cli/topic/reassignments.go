package topic

// samsa topic reassignments (ListPartitionReassignments, KIP-455).

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/cli/command"
)

func reassignmentsCommand(cf *command.ClientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "reassignments [NAME...]",
		Short: "List the partition reassignments in progress",
		Long: `Lists the reassignments in progress (ListPartitionReassignments), of the
topics named or of all: each partition's replicas and those being added and
removed.`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: cf.CompleteTopics,
		RunE: cf.RunE(func(s *command.Session, names []string) error {
			cl, err := s.NewClient()
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := s.ReqCtx()
			defer cancel()
			req := kmsg.NewPtrListPartitionReassignmentsRequest()
			req.TimeoutMillis = int32(s.Timeout().Milliseconds())
			if len(names) > 0 {
				adm := kadm.NewClient(cl)
				md, err := adm.Metadata(ctx, names...)
				if err != nil {
					return err
				}
				for _, t := range md.Topics.Sorted() {
					rt := kmsg.NewListPartitionReassignmentsRequestTopic()
					rt.Topic = t.Topic
					for _, p := range t.Partitions.Sorted() {
						rt.Partitions = append(rt.Partitions, p.Partition)
					}
					req.Topics = append(req.Topics, rt)
				}
			}
			resp, err := req.RequestWith(ctx, cl)
			if err != nil {
				return err
			}
			if resp.ErrorCode != 0 {
				msg := ""
				if resp.ErrorMessage != nil {
					msg = *resp.ErrorMessage
				}
				return command.ErrOf(kerr.ErrorForCode(resp.ErrorCode), msg)
			}
			w := command.NewTable(s.Out())
			fmt.Fprintln(w, "TOPIC\tPARTITION\tREPLICAS\tADDING\tREMOVING")
			for _, t := range resp.Topics {
				for _, p := range t.Partitions {
					fmt.Fprintf(w, "%s\t%d\t%v\t%v\t%v\n", t.Topic, p.Partition, p.Replicas, p.AddingReplicas, p.RemovingReplicas)
				}
			}
			return w.Flush()
		}),
	}
}
