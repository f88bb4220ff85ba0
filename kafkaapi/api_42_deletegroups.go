package kafkaapi

// DeleteGroups (key 42), versions 0-2.
//
// Deletes groups without members: tombstones for the group's metadata and
// each committed offset go to __consumer_offsets. A group with members is
// NON_EMPTY_GROUP; an unknown one GROUP_ID_NOT_FOUND.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

func init() { register(42, 0, 2, serveDeleteGroups) }

func serveDeleteGroups(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	return rc.respond(rc.h.groups.DeleteGroups(kreq.(*kmsg.DeleteGroupsRequest)))
}
