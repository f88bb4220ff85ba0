package kafkaapi

// OffsetDelete (key 47), version 0 (KIP-496).
//
// Deletes committed offsets of a group, with tombstones: any of an empty
// group; of a consumer group with members, only those of topics it does
// not subscribe to (GROUP_SUBSCRIBED_TO_TOPIC otherwise). Other non-empty
// groups are NON_EMPTY_GROUP; unknown ones GROUP_ID_NOT_FOUND.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

func init() { register(47, 0, 0, serveOffsetDelete) }

func serveOffsetDelete(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	return rc.respond(rc.h.groups.OffsetDelete(kreq.(*kmsg.OffsetDeleteRequest)))
}
