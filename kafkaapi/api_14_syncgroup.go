package kafkaapi

// SyncGroup (key 14), versions 0-5.
//
// The leader's assignment is written to __consumer_offsets (Kafka's
// GroupMetadataValue) before any member gets its part; followers wait for
// it. Members that do not sync within the rebalance timeout are removed.
// v5 checks the protocol type and name (KIP-559). While the group's
// partition loads the answer is REBALANCE_IN_PROGRESS, as in Kafka.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

func init() { register(14, 0, 5, serveSyncGroup) }

func serveSyncGroup(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	return rc.respond(rc.h.groups.SyncGroup(rc.conn.Context(), kreq.(*kmsg.SyncGroupRequest)))
}
