package txnapi

import (
	"samsa/internal/apierr"
	"samsa/kafkaapi"
	"samsa/security/acl"
)

// authorize reports whether the request's principal may do op on the
// resource.
func authorize(rc *kafkaapi.Request, op acl.Operation, t acl.ResourceType, name string) bool {
	return rc.Authorize(acl.Action{Operation: op, Type: t, Name: name})
}

// authorizeCluster reports whether the request's principal may do op on
// the cluster.
func authorizeCluster(rc *kafkaapi.Request, op acl.Operation) bool {
	return rc.Authorize(acl.Action{Operation: op, Type: acl.ResourceCluster, Name: acl.ClusterName})
}

// topicNames lists the topics of a request, once per time they are named.
func topicNames[T any](ts []T, name func(*T) string) []string {
	out := make([]string, len(ts))
	for i := range ts {
		out[i] = name(&ts[i])
	}
	return out
}

func codeOf(err error) int16 { return apierr.Code(err) }

func msgOf(err error) *string { return apierr.Message(err) }
