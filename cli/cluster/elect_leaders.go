package cluster

// samsa cluster elect-leaders (ElectLeaders, KIP-460), like
// kafka-leader-election.sh.

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"samsa/cli/command"
)

func electLeadersCommand(cf *command.ClientFlags) *cobra.Command {
	var unclean bool
	c := &cobra.Command{
		Use:   "elect-leaders [NAME...]",
		Short: "Move leadership back to preferred replicas",
		Long: `Runs preferred leader elections (ElectLeaders, KIP-460) for the partitions
of the topics named, or of all topics: each partition whose first replica
is alive and in sync gets it as leader again. --unclean elects any live
replica of partitions that have no leader (records it lacks are lost).`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: cf.CompleteTopics,
		RunE: cf.RunE(func(s *command.Session, names []string) error {
			adm, ctx, done, err := s.AdminCall()
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
			w := command.NewTable(s.Out())
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
