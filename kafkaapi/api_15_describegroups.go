package kafkaapi

// DescribeGroups (key 15), versions 0-5.
//
// State, protocol type, protocol and members (client id, host, instance id
// v4+) of each group; members' metadata and assignments only when the
// group is Stable, as in Kafka. A group that does not exist is "Dead" with
// no error (Kafka 3.x). Authorized operations (v3+, KIP-430) are all group
// operations when asked for.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

func init() { register(15, 0, 5, serveDescribeGroups) }

func serveDescribeGroups(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	return rc.respond(rc.h.groups.DescribeGroups(kreq.(*kmsg.DescribeGroupsRequest)))
}
