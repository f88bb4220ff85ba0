package kafkaapi

// AddOffsetsToTxn (key 25), versions 0-4.
//
// A producer about to commit a group's offsets in its transaction
// (TxnOffsetCommit) adds the group's partition of __consumer_offsets to
// the transaction (package txn), so that the transaction's marker reaches
// it and the offsets become visible, or are dropped, with the
// transaction. Errors as AddPartitionsToTxn's: NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS, INVALID_PRODUCER_ID_MAPPING,
// PRODUCER_FENCED (INVALID_PRODUCER_EPOCH below v2, KIP-588),
// CONCURRENT_TRANSACTIONS, INVALID_REQUEST for an empty transactional id.
// v4 (KIP-890) may carry TRANSACTION_ABORTABLE.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

func init() { register(25, 0, 4, serveAddOffsetsToTxn) }

func serveAddOffsetsToTxn(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.AddOffsetsToTxnRequest)
	return rc.respond(rc.h.txns.HandleAddOffsetsToTxn(req, offsetsTopic, rc.h.groups.PartitionFor(req.Group)))
}
