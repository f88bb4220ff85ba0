package topic

// samsa topic reassign (AlterPartitionReassignments, KIP-455), after
// kafka-reassign-partitions.sh; rpk calls it "partitions move".

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"samsa/cli/command"
)

func reassignCommand(cf *command.ClientFlags) *cobra.Command {
	var (
		partition int32
		replicas  string
		cancel    bool
	)
	c := &cobra.Command{
		Use:   "reassign NAME -p PARTITION (--replicas IDS | --cancel)",
		Short: "Move a partition to other replicas, or cancel a move",
		Long: `Moves a partition's replicas to the brokers named (comma-separated, the
first the preferred leader) with AlterPartitionReassignments (KIP-455): the
new replicas copy the log and join the in-sync replicas, then the old ones
are removed, with no pause for producers or consumers. --cancel stops a move
in progress and returns to the original replicas. Needs a cluster
(zookeeper.connect); follow progress with 'samsa topic reassignments'.`,
		Example: `  samsa topic reassign events -p 0 --replicas 2,3,4
  samsa topic reassign events -p 0 --cancel`,
		Args:              command.ExactArgs(1, "topic"),
		ValidArgsFunction: cf.CompleteTopics,
		RunE: cf.RunE(func(s *command.Session, args []string) error {
			if cancel == (replicas != "") {
				return command.UsageErrorf("give --replicas or --cancel")
			}
			var req kadm.AlterPartitionAssignmentsReq
			if cancel {
				req.CancelAssign(args[0], partition)
			} else {
				ids, err := parseBrokerList(replicas)
				if err != nil {
					return command.UsageErrorf("--replicas: %v", err)
				}
				req.Assign(args[0], partition, ids)
			}
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			resps, err := adm.AlterPartitionAssignments(ctx, req)
			if err != nil {
				return err
			}
			r := resps[args[0]][partition]
			if r.Err != nil {
				return fmt.Errorf("%s-%d: %v", args[0], partition, command.ErrOf(r.Err, r.ErrMessage))
			}
			fmt.Fprintf(s.Out(), "%s-%d: reassignment %s\n", args[0], partition, map[bool]string{true: "cancelled", false: "started"}[cancel])
			return nil
		}),
	}
	c.Flags().Int32VarP(&partition, "partition", "p", 0, "the partition `P`")
	c.Flags().StringVar(&replicas, "replicas", "", "the new replicas, `IDS` comma-separated, preferred leader first")
	c.Flags().BoolVar(&cancel, "cancel", false, "cancel a reassignment in progress")
	return c
}

func parseBrokerList(s string) ([]int32, error) {
	var out []int32
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 32)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a broker id", f)
		}
		out = append(out, int32(n))
	}
	return out, nil
}
