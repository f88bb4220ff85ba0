package kafkaapi

// LeaveGroup (key 13), versions 0-5.
//
// One member (v0-v2) or a batch of members (v3+, KIP-345), each by member
// id or, for static members, by group.instance.id alone (an
// administrative removal). A member that leaves makes the group rebalance.
// v5 carries a reason, which is logged.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

func init() { register(13, 0, 5, serveLeaveGroup) }

func serveLeaveGroup(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	return rc.respond(rc.h.groups.LeaveGroup(kreq.(*kmsg.LeaveGroupRequest)))
}
