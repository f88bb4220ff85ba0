package cluster

// samsa cluster decommission: moves every replica off a broker
// (AlterPartitionReassignments, KIP-455).

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"samsa/cli/command"
)

func decommissionCommand(cf *command.ClientFlags) *cobra.Command {
	var dryRun bool
	c := &cobra.Command{
		Use:   "decommission BROKER",
		Short: "Move every replica off a broker before it is retired",
		Long: `Plans and starts reassignments that move every replica held by BROKER to
other live brokers (each to the broker holding the fewest replicas among
those that do not hold one of the partition already), keeping each
partition's replication factor and its preferred leader where possible.
--dry-run prints the plan only. When 'samsa topic reassignments' lists
nothing more, the broker holds no data and can be stopped.`,
		Args: command.ExactArgs(1, "broker id"),
		RunE: cf.RunE(func(s *command.Session, args []string) error {
			id64, err := strconv.ParseInt(args[0], 10, 32)
			if err != nil {
				return command.UsageErrorf("%q is not a broker id", args[0])
			}
			gone := int32(id64)
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			md, err := adm.Metadata(ctx)
			if err != nil {
				return err
			}
			moves, err := planDecommission(md, gone)
			if err != nil {
				return err
			}
			var req kadm.AlterPartitionAssignmentsReq
			w := command.NewTable(s.Out())
			fmt.Fprintln(w, "TOPIC\tPARTITION\tFROM\tTO")
			for _, m := range moves {
				req.Assign(m.topic, m.partition, m.to)
				fmt.Fprintf(w, "%s\t%d\t%v\t%v\n", m.topic, m.partition, m.from, m.to)
			}
			w.Flush()
			if dryRun || len(moves) == 0 {
				fmt.Fprintf(s.Out(), "%d partition(s) to move\n", len(moves))
				return nil
			}
			resps, err := adm.AlterPartitionAssignments(ctx, req)
			if err != nil {
				return err
			}
			failed := 0
			resps.Each(func(r kadm.AlterPartitionAssignmentsResponse) {
				if r.Err != nil {
					failed++
					fmt.Fprintf(s.Err(), "samsa cluster decommission: %s-%d: %v\n", r.Topic, r.Partition, command.ErrOf(r.Err, r.ErrMessage))
				}
			})
			fmt.Fprintf(s.Out(), "%d partition(s) moving off broker %d\n", len(moves)-failed, gone)
			if failed > 0 {
				return command.ExitCode(1)
			}
			return nil
		}),
	}
	c.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan, change nothing")
	return c
}

// move is one partition's replicas before and after a decommission.
type move struct {
	topic     string
	partition int32
	from, to  []int32
}

// planDecommission moves each replica that broker gone holds, in topic
// and partition order, to the broker with the fewest replicas among the
// others that hold none of the partition (the lowest ID of equals), in
// the same place of the replica list, so the preferred leader stays where
// it can.
func planDecommission(md kadm.Metadata, gone int32) ([]move, error) {
	load := map[int32]int{}
	for _, b := range md.Brokers {
		if b.NodeID != gone {
			load[b.NodeID] = 0
		}
	}
	if len(load) == 0 {
		return nil, fmt.Errorf("no other broker to move replicas to")
	}
	for _, t := range md.Topics {
		for _, p := range t.Partitions {
			for _, r := range p.Replicas {
				if _, ok := load[r]; ok {
					load[r]++
				}
			}
		}
	}
	var moves []move
	for _, t := range md.Topics.Sorted() {
		for _, p := range t.Partitions.Sorted() {
			if !slices.Contains(p.Replicas, gone) {
				continue
			}
			best := int32(-1)
			for b, n := range load {
				if slices.Contains(p.Replicas, b) {
					continue
				}
				if best < 0 || n < load[best] || n == load[best] && b < best {
					best = b
				}
			}
			if best < 0 {
				return nil, fmt.Errorf("%s-%d: no broker left that holds no replica of it", t.Topic, p.Partition)
			}
			load[best]++
			to := slices.Clone(p.Replicas)
			to[slices.Index(to, gone)] = best
			moves = append(moves, move{t.Topic, p.Partition, p.Replicas, to})
		}
	}
	return moves, nil
}
