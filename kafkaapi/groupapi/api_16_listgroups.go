package groupapi

// ListGroups (key 16), versions 0-5.
//
// Every group this broker coordinates with its protocol type; v4 filters
// by state (KIP-518) and reports it; v5 filters by type (KIP-848): every
// group here is "classic". While a partition of __consumer_offsets loads,
// the error is COORDINATOR_LOAD_IN_PROGRESS and the loaded groups are
// listed. Describe on the cluster lists every group; without it, only the
// groups the principal may describe, as Kafka does.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(16, 0, 5, serveListGroups) }

func serveListGroups(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	resp := rc.Handler().Groups().ListGroups(kreq.(*kmsg.ListGroupsRequest))
	if rc.Handler().Authorizer() != nil && !rc.Authorize(acl.Action{Operation: acl.OpDescribe, Type: acl.ResourceCluster, Name: acl.ClusterName, QuietDenied: true}) {
		// Without Describe on the cluster, only the groups the principal
		// may describe.
		kept := resp.Groups[:0]
		for _, g := range resp.Groups {
			if rc.Authorize(acl.Action{Operation: acl.OpDescribe, Type: acl.ResourceGroup, Name: g.Group, QuietDenied: true}) {
				kept = append(kept, g)
			}
		}
		resp.Groups = kept
	}
	return rc.Respond(resp)
}
