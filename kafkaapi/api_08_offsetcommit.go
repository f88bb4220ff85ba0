package kafkaapi

// OffsetCommit (key 8), versions 0-8.
//
// Offsets are records of __consumer_offsets (OffsetCommitKey v1,
// OffsetCommitValue v3, or v1 with an expire timestamp when v2-v4 give a
// retention time), in the log before the answer. Members commit with
// their member id and generation (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
// FENCED_INSTANCE_ID, REBALANCE_IN_PROGRESS as in Kafka); simple consumers
// commit with generation -1 while the group has no members. Partitions
// the broker does not have are UNKNOWN_TOPIC_OR_PARTITION; metadata over
// offset.metadata.max.bytes is OFFSET_METADATA_TOO_LARGE. v1's per-partition
// commit timestamp and v6's leader epoch are stored.
//
// Unlike Kafka in ZooKeeper mode, v0 commits go to __consumer_offsets too,
// not to ZooKeeper.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

func init() { register(8, 0, 8, serveOffsetCommit) }

func serveOffsetCommit(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	return rc.respond(rc.h.groups.OffsetCommit(kreq.(*kmsg.OffsetCommitRequest)))
}
