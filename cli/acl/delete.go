package acl

// samsa acl delete (DeleteAcls).

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"samsa/cli/command"
)

func deleteCommand(cf *command.ClientFlags) *cobra.Command {
	var f aclFlags
	var all bool
	c := &cobra.Command{
		Use:     "delete",
		Aliases: []string{"rm"},
		Short:   "Delete ACLs",
		Long: `Deletes the ACLs the flags select and prints them. With no resource and
no principal flag it refuses, unless --all is given: deleting every ACL
can lock everyone but the super users out.`,
		Args: command.NoArgs,
		RunE: cf.RunE(func(s *command.Session, _ []string) error {
			if !all && len(f.topics)+len(f.groups)+len(f.txnIDs)+len(f.allow)+len(f.deny) == 0 && !f.cluster {
				return command.UsageErrorf("no resource or principal named: give filters, or --all to delete every ACL")
			}
			b, err := f.builder(true)
			if err != nil {
				return err
			}
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			results, err := adm.DeleteACLs(ctx, b)
			if err != nil {
				return err
			}
			var rows []string
			failed := 0
			for _, r := range results {
				if r.Err != nil {
					return command.ErrOf(r.Err, r.ErrMessage)
				}
				for _, d := range r.Deleted {
					status := "OK"
					if d.Err != nil {
						status, failed = command.ErrText(d.Err, d.ErrMessage), failed+1
					}
					rows = append(rows, row(d.Principal, d.Host, d.Type, d.Name, d.Pattern, d.Operation, d.Permission)+"\t"+status)
				}
			}
			slices.Sort(rows)
			rows = slices.Compact(rows)
			tw := command.NewTable(s.Out())
			fmt.Fprintln(tw, header+"\tSTATUS")
			for _, r := range rows {
				fmt.Fprintln(tw, r)
			}
			tw.Flush()
			if failed > 0 {
				return fmt.Errorf("%d ACLs not deleted", failed)
			}
			return nil
		}),
	}
	f.add(c, "any", "operations to delete (repeatable, comma-separated; default any): "+operationNames)
	c.Flags().BoolVar(&all, "all", false, "allow deleting with no resource or principal named (every ACL)")
	return c
}
