// Package acl is samsa acl: create, list and delete ACLs through the Kafka
// admin APIs (CreateAcls, DescribeAcls, DeleteAcls), as rpk acl and
// kafka-acls.sh do. One file per subcommand; this one holds the command
// group and the flags they share.
//
// An ACL allows or denies principals (--allow-principal, --deny-principal;
// "User:" is added to a name without a type) from hosts (--allow-host,
// --deny-host; every host when none is given) some operations
// (--operation) on resources (--topic, --group, --cluster,
// --transactional-id) named literally or by prefix
// (--resource-pattern-type). list and delete take the same flags as
// filters, where what is not given matches anything.
package acl

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/cli/command"
)

// NewCommand returns samsa acl and its subcommands.
func NewCommand(cf *command.ClientFlags) *cobra.Command {
	c := command.Group("acl", "Create, list and delete ACLs",
		`ACL administration through the Kafka admin APIs, like rpk acl and
kafka-acls.sh. The broker checks the ACLs when its authorizer.class.name is
kafka.security.authorizer.AclAuthorizer; managing them needs Alter on the
cluster (Describe to list) unless the principal is in super.users.`)
	cf.Persistent(c)
	c.AddCommand(createCommand(cf), listCommand(cf), deleteCommand(cf))
	return c
}

// aclFlags are the flags every subcommand takes.
type aclFlags struct {
	topics, groups, txnIDs []string
	cluster                bool
	pattern                string
	allow, deny            []string
	allowHosts, denyHosts  []string
	operations             []string
	defaultPattern         string
}

func (f *aclFlags) add(c *cobra.Command, defaultPattern, opUsage string) {
	f.defaultPattern = defaultPattern
	fs := c.Flags()
	fs.StringSliceVar(&f.topics, "topic", nil, "topics (repeatable, comma-separated)")
	fs.StringSliceVar(&f.groups, "group", nil, "consumer groups (repeatable, comma-separated)")
	fs.BoolVar(&f.cluster, "cluster", false, "the cluster")
	fs.StringSliceVar(&f.txnIDs, "transactional-id", nil, "transactional ids (repeatable, comma-separated)")
	fs.StringVar(&f.pattern, "resource-pattern-type", defaultPattern, "how resource names match: literal, prefixed"+map[bool]string{true: ", any or match", false: ""}[defaultPattern == "any"])
	fs.StringSliceVar(&f.allow, "allow-principal", nil, "principals allowed, User:name (repeatable)")
	fs.StringSliceVar(&f.deny, "deny-principal", nil, "principals denied, User:name (repeatable)")
	fs.StringSliceVar(&f.allowHosts, "allow-host", nil, "hosts the allowed principals may come from (default every host)")
	fs.StringSliceVar(&f.denyHosts, "deny-host", nil, "hosts the denied principals are denied from (default every host)")
	fs.StringSliceVar(&f.operations, "operation", nil, opUsage)
}

// operationNames are what --operation takes, as rpk and kafka-acls.sh
// spell them.
const operationNames = "all, read, write, create, delete, alter, describe, cluster_action, describe_configs, alter_configs, idempotent_write"

// principal adds the User type to a bare name, as rpk does.
func principal(p string) string {
	if strings.Contains(p, ":") {
		return p
	}
	return "User:" + p
}

func principals(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = principal(p)
	}
	return out
}

// builder turns the flags into kadm's ACL builder; a filter (list, delete)
// leaves what is not given open.
func (f *aclFlags) builder(filter bool) (*kadm.ACLBuilder, error) {
	b := kadm.NewACLs()
	resources := len(f.topics) + len(f.groups) + len(f.txnIDs)
	if f.cluster {
		resources++
	}
	switch {
	case resources > 0:
		// The Maybe forms: a resource type not named is not matched.
		b.MaybeTopics(f.topics...).MaybeGroups(f.groups...).MaybeTransactionalIDs(f.txnIDs...).MaybeClusters(f.cluster)
	case filter:
		b.AnyResource()
	default:
		return nil, command.UsageErrorf("name a resource: --topic, --group, --cluster or --transactional-id")
	}
	pattern, err := kmsg.ParseACLResourcePatternType(f.pattern)
	if err != nil || (!filter && pattern != kadm.ACLPatternLiteral && pattern != kadm.ACLPatternPrefixed) {
		return nil, command.UsageErrorf("--resource-pattern-type %q: want literal or prefixed%s", f.pattern, map[bool]string{true: ", any or match", false: ""}[filter])
	}
	b.ResourcePatternType(pattern)
	var ops []kadm.ACLOperation
	for _, o := range f.operations {
		op, err := kmsg.ParseACLOperation(o)
		if err != nil || op == kmsg.ACLOperationUnknown || (!filter && op == kmsg.ACLOperationAny) {
			return nil, command.UsageErrorf("--operation %q: want one of %s", o, operationNames)
		}
		ops = append(ops, op)
	}
	if !filter && len(ops) == 0 {
		return nil, command.UsageErrorf("--operation is required: one of %s", operationNames)
	}
	b.Operations(ops...)
	if !filter && len(f.allow)+len(f.deny) == 0 {
		return nil, command.UsageErrorf("name a principal: --allow-principal or --deny-principal")
	}
	switch {
	case filter && len(f.allow)+len(f.deny) == 0:
		// Any principal, allowed or denied, from any host.
		b.Allow().AllowHosts(f.allowHosts...).Deny().DenyHosts(f.denyHosts...)
	default:
		if len(f.allow) > 0 {
			b.Allow(principals(f.allow)...).AllowHosts(f.allowHosts...)
		}
		if len(f.deny) > 0 {
			b.Deny(principals(f.deny)...).DenyHosts(f.denyHosts...)
		}
	}
	if !filter && len(f.allow) > 0 && len(f.allowHosts) == 0 {
		b.AllowHosts("*")
	}
	if !filter && len(f.deny) > 0 && len(f.denyHosts) == 0 {
		b.DenyHosts("*")
	}
	return b, nil
}

// header and row print ACLs in one table layout.
const header = "PRINCIPAL\tHOST\tRESOURCE-TYPE\tRESOURCE-NAME\tRESOURCE-PATTERN-TYPE\tOPERATION\tPERMISSION"

func row(principal, host string, t kmsg.ACLResourceType, name string, p kadm.ACLPattern, op kadm.ACLOperation, perm kmsg.ACLPermissionType) string {
	return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s", principal, host, t, name, p, op, perm)
}
