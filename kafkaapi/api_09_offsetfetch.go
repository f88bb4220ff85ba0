package kafkaapi

// OffsetFetch (key 9), versions 0-8.
//
// A group's committed offsets: the partitions asked for (-1 and empty
// metadata for none), or all of them for a null topic list (v2+); v5+
// with the leader epoch; v8 (KIP-709) for several groups at once. Group
// errors (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS) are top-level
// from v2, per group in v8, per partition in v0-v1. require_stable (v7)
// never waits: there are no pending transactional offsets.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

func init() { register(9, 0, 8, serveOffsetFetch) }

func serveOffsetFetch(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	return rc.respond(rc.h.groups.OffsetFetch(kreq.(*kmsg.OffsetFetchRequest)))
}
