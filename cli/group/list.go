package group

// samsa group list (ListGroups).

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"samsa/cli/command"
)

func listCommand(cf *command.ClientFlags) *cobra.Command {
	var states []string
	c := &cobra.Command{
		Use:     "list [--states S,...]",
		Aliases: []string{"ls"},
		Short:   "List groups with their state and protocol type",
		Long: `Lists the groups: name, state and protocol type ("consumer" for consumer
groups; empty for groups that only hold offsets of simple consumers).`,
		Args: command.NoArgs,
		RunE: cf.RunE(func(s *command.Session, _ []string) error {
			var filter []string
			for _, st := range states {
				if st = strings.TrimSpace(st); st != "" {
					filter = append(filter, st)
				}
			}
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			gs, err := adm.ListGroups(ctx, filter...)
			if err != nil {
				return err
			}
			tw := command.NewTable(s.Out())
			fmt.Fprintln(tw, "GROUP\tSTATE\tPROTOCOL-TYPE")
			for _, g := range gs.Sorted() {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", g.Group, g.State, g.ProtocolType)
			}
			return tw.Flush()
		}),
	}
	c.Flags().StringSliceVarP(&states, "states", "s", nil, "only groups in these states, `S,...`: Stable, Empty, PreparingRebalance, CompletingRebalance")
	// -s means --set elsewhere; kept working here, out of the help.
	c.Flags().MarkShorthandDeprecated("states", "use --states")
	return c
}
