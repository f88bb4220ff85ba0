package groupapi

// Heartbeat (key 12), versions 0-4.
//
// Keeps a member's session alive: UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION and
// FENCED_INSTANCE_ID (v3+) fence stale members; REBALANCE_IN_PROGRESS tells
// a member to rejoin. While the group's partition loads the answer is
// success, as in Kafka. Needs Read on the group (GROUP_AUTHORIZATION_FAILED).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(12, 0, 4, serveHeartbeat) }

func serveHeartbeat(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.HeartbeatRequest)
	if !rc.AuthorizeResource(acl.OpRead, acl.ResourceGroup, req.Group) {
		resp := kmsg.NewPtrHeartbeatResponse()
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return rc.Respond(resp)
	}
	return rc.Respond(rc.Handler().Groups().Heartbeat(req))
}
