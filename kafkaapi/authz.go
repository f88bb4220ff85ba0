package kafkaapi

// Authorization (Kafka's AuthHelper): each handler asks the authorizer
// (package security/acl) what Kafka's KafkaApis asks, with Kafka's
// operations, resources and error codes, before it acts. With no
// authorizer (authorizer.class.name empty) every check allows at once and
// the request is served as before.
//
// Who asks: the principal the connection authenticated as (its listener's
// TLS client certificate, mapped by ssl.principal.mapping.rules, or
// User:ANONYMOUS; Deps.Principal overrides it in tests) and the client's
// address.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/security/acl"
)

// connPrincipal is the principal the connection's listener set.
func connPrincipal(c *netpoll.Conn) acl.Principal { return c.Principal() }

// apiNames are Kafka's names of the APIs whose kmsg name differs, for the
// authorizer's log.
var apiNames = map[int16]string{4: "LeaderAndIsr", 17: "SaslHandshake", 22: "InitProducerId", 29: "DescribeAcls",
	30: "CreateAcls", 31: "DeleteAcls", 36: "SaslAuthenticate", 45: "AlterPartitionReassignments"}

// requester is who sent the request, for the authorizer.
func (rc *reqCtx) requester() acl.Requester {
	name, ok := apiNames[rc.key]
	if !ok {
		name = kmsg.NameForKey(rc.key)
	}
	return acl.Requester{Principal: rc.principal, Host: acl.HostOf(rc.conn.RemoteAddr()), API: name}
}

// authorize reports whether the requester may do op on the resource
// (AuthHelper.authorize), logging the decision.
func (rc *reqCtx) authorize(op acl.Operation, t acl.ResourceType, name string) bool {
	return rc.authorizeAction(acl.Action{Operation: op, Type: t, Name: name})
}

// authorizeCluster is authorize on the cluster.
func (rc *reqCtx) authorizeCluster(op acl.Operation) bool {
	return rc.authorize(op, acl.ResourceCluster, acl.ClusterName)
}

func (rc *reqCtx) authorizeAction(a acl.Action) bool {
	if rc.h.authz == nil {
		return true
	}
	return rc.h.authz.Authorize(rc.requester(), a)
}

// allowed are the names of the resources a request may act on; nil (no
// authorizer) is every name.
type allowed map[string]bool

func (a allowed) has(name string) bool { return a == nil || a[name] }

// filterAuthorized asks once for each distinct name, counting how many
// times the request names it, and returns those allowed
// (AuthHelper.filterByAuthorized). quiet logs a denial at trace level
// only: the names are filtered, not refused.
func (rc *reqCtx) filterAuthorized(op acl.Operation, t acl.ResourceType, names []string, quiet bool) allowed {
	if rc.h.authz == nil {
		return nil
	}
	counts := make(map[string]int, len(names))
	var order []string
	for _, n := range names {
		if counts[n] == 0 {
			order = append(order, n)
		}
		counts[n]++
	}
	r := rc.requester()
	out := make(allowed, len(order))
	for _, n := range order {
		out[n] = rc.h.authz.Authorize(r, acl.Action{Operation: op, Type: t, Name: n, RefCount: counts[n], QuietDenied: quiet})
	}
	return out
}

// authorizedOperations is the KIP-430 bitfield of what the requester may
// do on the resource (AuthHelper.authorizedOperations).
func (rc *reqCtx) authorizedOperations(t acl.ResourceType, name string) int32 {
	if rc.h.authz == nil {
		return acl.OperationBits(acl.SupportedOperations(t))
	}
	return rc.h.authz.AuthorizedOperations(rc.requester(), t, name)
}

// TopicNames lists the topics of a request, once per time they are named.
func TopicNames[T any](ts []T, name func(*T) string) []string {
	out := make([]string, len(ts))
	for i := range ts {
		out[i] = name(&ts[i])
	}
	return out
}
