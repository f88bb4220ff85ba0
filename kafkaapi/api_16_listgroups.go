package kafkaapi

// ListGroups (key 16), versions 0-5.
//
// Every group this broker coordinates with its protocol type; v4 filters
// by state (KIP-518) and reports it; v5 filters by type (KIP-848): every
// group here is "classic". While a partition of __consumer_offsets loads,
// the error is COORDINATOR_LOAD_IN_PROGRESS and the loaded groups are
// listed.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

func init() { register(16, 0, 5, serveListGroups) }

func serveListGroups(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	return rc.respond(rc.h.groups.ListGroups(kreq.(*kmsg.ListGroupsRequest)))
}
