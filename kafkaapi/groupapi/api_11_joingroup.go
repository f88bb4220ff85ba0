package groupapi

// JoinGroup (key 11), versions 0-9.
//
// Kafka's classic rebalance protocol (package group): the first join of a
// member without an id gets MEMBER_ID_REQUIRED and an id to join with
// (v4+, KIP-394); the request then waits (the connection reads no further
// request meanwhile, as in Kafka) until every member has rejoined or the
// rebalance timeout passes (v0: the session timeout); the leader gets the
// members' protocol metadata to assign with. An empty group's first
// rebalance waits group.initial.rebalance.delay.ms for more members. Static
// members (group.instance.id, v5+, KIP-345) replace their previous
// incarnation without a rebalance when the group is stable; v9 tells a
// static leader to skip assigning (KIP-814). Session timeouts outside
// group.min/max.session.timeout.ms are INVALID_SESSION_TIMEOUT. Needs
// Read on the group (GROUP_AUTHORIZATION_FAILED).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(11, 0, 9, serveJoinGroup) }

func serveJoinGroup(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.JoinGroupRequest)
	if !rc.AuthorizeResource(acl.OpRead, acl.ResourceGroup, req.Group) {
		resp := kmsg.NewPtrJoinGroupResponse()
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		if rc.Version() < 7 {
			resp.Protocol = new(string) // not nullable before v7
		}
		return rc.Respond(resp)
	}
	return rc.Respond(rc.Handler().Groups().JoinGroup(rc.Context(), req, rc.ClientID(), rc.ClientHost()))
}
