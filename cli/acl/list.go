package acl

// samsa acl list (DescribeAcls).

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"samsa/cli/command"
)

func listCommand(cf *command.ClientFlags) *cobra.Command {
	var f aclFlags
	c := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls", "describe"},
		Short:   "List ACLs",
		Long: `Lists the ACLs the flags select; with none, every ACL. A resource flag
with --resource-pattern-type match lists every ACL that applies to that
resource: its literal ACLs, those of "*" and of its prefixes.`,
		Args: command.NoArgs,
		RunE: cf.RunE(func(s *command.Session, _ []string) error {
			b, err := f.builder(true)
			if err != nil {
				return err
			}
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			results, err := adm.DescribeACLs(ctx, b)
			if err != nil {
				return err
			}
			var rows []string
			for _, r := range results {
				if r.Err != nil {
					return command.ErrOf(r.Err, r.ErrMessage)
				}
				for _, d := range r.Described {
					rows = append(rows, row(d.Principal, d.Host, d.Type, d.Name, d.Pattern, d.Operation, d.Permission))
				}
			}
			// kadm asks once per filter combination: an ACL may come twice.
			slices.Sort(rows)
			rows = slices.Compact(rows)
			tw := command.NewTable(s.Out())
			fmt.Fprintln(tw, header)
			for _, r := range rows {
				fmt.Fprintln(tw, r)
			}
			return tw.Flush()
		}),
	}
	f.add(c, "any", "operations to list (repeatable, comma-separated; default any): "+operationNames)
	return c
}
