package kafkaapi

// TxnOffsetCommit (key 28), versions 0-4.
//
// A transactional producer commits a consumer group's offsets as part of
// its transaction (after AddOffsetsToTxn); the group coordinator writes
// them to __consumer_offsets in a transactional batch of the producer and
// keeps them pending, invisible to OffsetFetch, until the transaction's
// marker commits or drops them (KIP-98; package group, txnoffsets.go).
// v3 (KIP-447) carries the member id, instance id and generation, checked
// as OffsetCommit checks them (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION,
// FENCED_INSTANCE_ID). Per partition: UNKNOWN_TOPIC_OR_PARTITION,
// OFFSET_METADATA_TOO_LARGE; for all: NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS (COORDINATOR_NOT_AVAILABLE below v2, for
// clients before KAFKA-7296), INVALID_GROUP_ID for an empty group id. The
// producer's epoch is checked by the producer state of the partition of
// __consumer_offsets. v4 (KIP-890) may carry TRANSACTION_ABORTABLE.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

func init() { register(28, 0, 4, serveTxnOffsetCommit) }

func serveTxnOffsetCommit(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	resp := rc.h.groups.TxnOffsetCommit(kreq.(*kmsg.TxnOffsetCommitRequest))
	if rc.version < 2 {
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				if p := &resp.Topics[i].Partitions[j]; p.ErrorCode == kerr.CoordinatorLoadInProgress.Code {
					p.ErrorCode = kerr.CoordinatorNotAvailable.Code
				}
			}
		}
	}
	return rc.respond(resp)
}
