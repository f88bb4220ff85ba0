package groupapi

// LeaveGroup (key 13), versions 0-5.
//
// One member (v0-v2) or a batch of members (v3+, KIP-345), each by member
// id or, for static members, by group.instance.id alone (an
// administrative removal). A member that leaves makes the group rebalance.
// v5 carries a reason, which is logged. Needs Read on the group
// (GROUP_AUTHORIZATION_FAILED).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(13, 0, 5, serveLeaveGroup) }

func serveLeaveGroup(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.LeaveGroupRequest)
	if !rc.AuthorizeResource(acl.OpRead, acl.ResourceGroup, req.Group) {
		resp := kmsg.NewPtrLeaveGroupResponse()
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return rc.Respond(resp)
	}
	return rc.Respond(rc.Handler().Groups().LeaveGroup(req))
}
