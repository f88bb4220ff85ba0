package main

// samsa topic reassign and reassignments (AlterPartitionReassignments,
// ListPartitionReassignments, KIP-455), samsa cluster decommission (moves
// every replica off a broker), samsa cluster elect-leaders (ElectLeaders,
// KIP-460). Names after kafka-reassign-partitions.sh and
// kafka-leader-election.sh; rpk calls the first "partitions move".

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

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

func topicReassignCmd(cf *clientFlags) *cobra.Command {
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
		Args:              exactArgs(1, "topic"),
		ValidArgsFunction: cf.completeTopics,
		RunE: cf.runE(func(s *session, args []string) error {
			if cancel == (replicas != "") {
				return usageErrorf("give --replicas or --cancel")
			}
			var req kadm.AlterPartitionAssignmentsReq
			if cancel {
				req.CancelAssign(args[0], partition)
			} else {
				ids, err := parseBrokerList(replicas)
				if err != nil {
					return usageErrorf("--replicas: %v", err)
				}
				req.Assign(args[0], partition, ids)
			}
			adm, ctx, done, err := s.adminCall()
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
				return fmt.Errorf("%s-%d: %v", args[0], partition, errOf(r.Err, r.ErrMessage))
			}
			fmt.Printf("%s-%d: reassignment %s\n", args[0], partition, map[bool]string{true: "cancelled", false: "started"}[cancel])
			return nil
		}),
	}
	c.Flags().Int32VarP(&partition, "partition", "p", 0, "the partition `P`")
	c.Flags().StringVar(&replicas, "replicas", "", "the new replicas, `IDS` comma-separated, preferred leader first")
	c.Flags().BoolVar(&cancel, "cancel", false, "cancel a reassignment in progress")
	return c
}

func topicReassignmentsCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "reassignments [NAME...]",
		Short: "List the partition reassignments in progress",
		Long: `Lists the reassignments in progress (ListPartitionReassignments), of the
topics named or of all: each partition's replicas and those being added and
removed.`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: cf.completeTopics,
		RunE: cf.runE(func(s *session, names []string) error {
			cl, err := s.newClient()
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := s.reqCtx()
			defer cancel()
			req := kmsg.NewPtrListPartitionReassignmentsRequest()
			req.TimeoutMillis = int32(s.cf.timeout.Milliseconds())
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
				return errOf(kerr.ErrorForCode(resp.ErrorCode), msg)
			}
			w := newTable(os.Stdout)
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

func clusterDecommissionCmd(cf *clientFlags) *cobra.Command {
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
		Args: exactArgs(1, "broker id"),
		RunE: cf.runE(func(s *session, args []string) error {
			id64, err := strconv.ParseInt(args[0], 10, 32)
			if err != nil {
				return usageErrorf("%q is not a broker id", args[0])
			}
			gone := int32(id64)
			adm, ctx, done, err := s.adminCall()
			if err != nil {
				return err
			}
			defer done()
			md, err := adm.Metadata(ctx)
			if err != nil {
				return err
			}
			load := map[int32]int{}
			for _, b := range md.Brokers {
				if b.NodeID != gone {
					load[b.NodeID] = 0
				}
			}
			if len(load) == 0 {
				return fmt.Errorf("no other broker to move replicas to")
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
			var req kadm.AlterPartitionAssignmentsReq
			w := newTable(os.Stdout)
			fmt.Fprintln(w, "TOPIC\tPARTITION\tFROM\tTO")
			moves := 0
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
						return fmt.Errorf("%s-%d: no broker left that holds no replica of it", t.Topic, p.Partition)
					}
					load[best]++
					to := slices.Clone(p.Replicas)
					to[slices.Index(to, gone)] = best
					req.Assign(t.Topic, p.Partition, to)
					fmt.Fprintf(w, "%s\t%d\t%v\t%v\n", t.Topic, p.Partition, p.Replicas, to)
					moves++
				}
			}
			w.Flush()
			if dryRun || moves == 0 {
				fmt.Printf("%d partition(s) to move\n", moves)
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
					fmt.Fprintf(os.Stderr, "samsa cluster decommission: %s-%d: %v\n", r.Topic, r.Partition, errOf(r.Err, r.ErrMessage))
				}
			})
			fmt.Printf("%d partition(s) moving off broker %d\n", moves-failed, gone)
			if failed > 0 {
				return exitCode(1)
			}
			return nil
		}),
	}
	c.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan, change nothing")
	return c
}

func clusterElectLeadersCmd(cf *clientFlags) *cobra.Command {
	var unclean bool
	c := &cobra.Command{
		Use:   "elect-leaders [NAME...]",
		Short: "Move leadership back to preferred replicas",
		Long: `Runs preferred leader elections (ElectLeaders, KIP-460) for the partitions
of the topics named, or of all topics: each partition whose first replica
is alive and in sync gets it as leader again. --unclean elects any live
replica of partitions that have no leader (records it lacks are lost).`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: cf.completeTopics,
		RunE: cf.runE(func(s *session, names []string) error {
			adm, ctx, done, err := s.adminCall()
			if err != nil {
				return err
			}
			defer done()
			how := kadm.ElectPreferredReplica
			if unclean {
				how = kadm.ElectLiveReplica
			}
			var set kadm.TopicsSet
			if len(names) > 0 {
				md, err := adm.Metadata(ctx, names...)
				if err != nil {
					return err
				}
				set = md.Topics.TopicsSet()
			}
			res, err := adm.ElectLeaders(ctx, how, set)
			if err != nil {
				return err
			}
			w := newTable(os.Stdout)
			fmt.Fprintln(w, "TOPIC\tPARTITION\tRESULT")
			for _, t := range sortedKeys(res) {
				for _, p := range sortedKeys(res[t]) {
					r := res[t][p]
					status := "elected"
					if r.Err != nil {
						status = r.Err.Error()
					}
					fmt.Fprintf(w, "%s\t%d\t%s\n", t, p, status)
				}
			}
			return w.Flush()
		}),
	}
	c.Flags().BoolVar(&unclean, "unclean", false, "elect any live replica where no in-sync one is left")
	return c
}

func sortedKeys[K string | int32, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
