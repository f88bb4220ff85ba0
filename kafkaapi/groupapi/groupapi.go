package groupapi

import (
	"samsa/kafkaapi"
	"samsa/security/acl"
)

// authorize reports whether the request's principal may do op on the
// resource.
func authorize(rc *kafkaapi.Request, op acl.Operation, t acl.ResourceType, name string) bool {
	return rc.Authorize(acl.Action{Operation: op, Type: t, Name: name})
}

// topicNames lists the topics of a request, once per time they are named.
func topicNames[T any](ts []T, name func(*T) string) []string {
	out := make([]string, len(ts))
	for i := range ts {
		out[i] = name(&ts[i])
	}
	return out
}
