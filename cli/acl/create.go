package acl

// samsa acl create (CreateAcls).

import (
	"fmt"

	"github.com/spf13/cobra"

	"samsa/cli/command"
)

func createCommand(cf *command.ClientFlags) *cobra.Command {
	var f aclFlags
	c := &cobra.Command{
		Use:   "create",
		Short: "Create ACLs",
		Long: `Creates the ACLs the flags describe: each principal, allowed or denied,
from each host, each operation on each resource. Prints one row per ACL
with its status; exits 1 if any was refused. Creating an ACL that exists
changes nothing.

  samsa acl create --allow-principal User:alice --operation read,describe --topic orders
  samsa acl create --allow-principal alice --operation write --topic app- --resource-pattern-type prefixed
  samsa acl create --deny-principal User:mallory --deny-host 10.0.0.9 --operation all --cluster`,
		Args: command.NoArgs,
		RunE: cf.RunE(func(s *command.Session, _ []string) error {
			b, err := f.builder(false)
			if err != nil {
				return err
			}
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			results, err := adm.CreateACLs(ctx, b)
			if err != nil {
				return err
			}
			tw := command.NewTable(s.Out())
			fmt.Fprintln(tw, header+"\tSTATUS")
			failed := 0
			for _, r := range results {
				status := "OK"
				if r.Err != nil {
					status, failed = command.ErrText(r.Err, r.ErrMessage), failed+1
				}
				fmt.Fprintf(tw, "%s\t%s\n", row(r.Principal, r.Host, r.Type, r.Name, r.Pattern, r.Operation, r.Permission), status)
			}
			tw.Flush()
			if failed > 0 {
				return fmt.Errorf("%d of %d ACLs not created", failed, len(results))
			}
			return nil
		}),
	}
	f.add(c, "literal", "operations (repeatable, comma-separated): "+operationNames)
	return c
}
