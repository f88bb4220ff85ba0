package topic

// samsa topic list (Metadata).

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"samsa/cli/command"
)

func listCommand(cf *command.ClientFlags) *cobra.Command {
	var internal bool
	c := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List topics with their partition and replica counts",
		Long:    "Lists topics: name, partition count and replicas per partition.",
		Args:    command.NoArgs,
		RunE: cf.RunE(func(s *command.Session, _ []string) error {
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			var tds kadm.TopicDetails
			if internal {
				tds, err = adm.ListTopicsWithInternal(ctx)
			} else {
				tds, err = adm.ListTopics(ctx)
			}
			if err != nil {
				return err
			}
			tw := command.NewTable(s.Out())
			fmt.Fprintln(tw, "NAME\tPARTITIONS\tREPLICAS")
			for _, td := range tds.Sorted() {
				if td.Err != nil {
					fmt.Fprintf(tw, "%s\t-\t-\t%v\n", td.Topic, td.Err)
					continue
				}
				fmt.Fprintf(tw, "%s\t%d\t%d\n", td.Topic, len(td.Partitions), td.Partitions.NumReplicas())
			}
			return tw.Flush()
		}),
	}
	c.Flags().BoolVarP(&internal, "internal", "i", false, "include internal topics such as __consumer_offsets")
	return c
}
