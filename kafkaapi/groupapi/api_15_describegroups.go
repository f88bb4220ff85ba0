package groupapi

// DescribeGroups (key 15), versions 0-5.
//
// State, protocol type, protocol and members (client id, host, instance id
// v4+) of each group; members' metadata and assignments only when the
// group is Stable, as in Kafka. A group that does not exist is "Dead" with
// no error (Kafka 3.x). Each group needs Describe (else it is
// GROUP_AUTHORIZATION_FAILED); its authorized operations (v3+, KIP-430),
// when asked, are computed from the ACLs (all of them without an
// authorizer).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(15, 0, 5, serveDescribeGroups) }

func serveDescribeGroups(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.DescribeGroupsRequest)
	if rc.Handler().Authorizer() == nil {
		return rc.Respond(rc.Handler().Groups().DescribeGroups(req))
	}
	resp := kmsg.NewPtrDescribeGroupsResponse()
	sub := *req
	sub.Groups = nil
	for _, g := range req.Groups {
		if rc.AuthorizeResource(acl.OpDescribe, acl.ResourceGroup, g) {
			sub.Groups = append(sub.Groups, g)
			continue
		}
		// Kafka's DescribeGroupsResponse.groupError.
		dg := kmsg.NewDescribeGroupsResponseGroup()
		dg.Group, dg.ErrorCode = g, kerr.GroupAuthorizationFailed.Code
		resp.Groups = append(resp.Groups, dg)
	}
	if len(sub.Groups) > 0 {
		described := rc.Handler().Groups().DescribeGroups(&sub)
		for i, dg := range described.Groups {
			if req.IncludeAuthorizedOperations && dg.ErrorCode == 0 {
				described.Groups[i].AuthorizedOperations = rc.AuthorizedOperations(acl.ResourceGroup, dg.Group)
			}
		}
		resp.Groups = append(resp.Groups, described.Groups...)
	}
	return rc.Respond(resp)
}
