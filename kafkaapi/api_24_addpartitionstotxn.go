package kafkaapi

// AddPartitionsToTxn (key 24), versions 0-5.
//
// v0-v3 come from producers: one transaction, whose partitions join it
// (package txn: Ongoing written to __transaction_state before the answer),
// every partition answered alike. v4+ (KIP-890) come from brokers and
// batch transactions; one with verify_only is only checked: each
// partition is answered whether it is in the ongoing transaction
// (TRANSACTION_ABORTABLE when not), nothing is written. A partition the
// cluster does not have fails its whole transaction
// (UNKNOWN_TOPIC_OR_PARTITION for it, OPERATION_NOT_ATTEMPTED for the
// others), and so does an internal topic a producer names
// (TOPIC_AUTHORIZATION_FAILED, as Kafka). Coordinator errors:
// NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS,
// INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED (INVALID_PRODUCER_EPOCH
// below v2, KIP-588), CONCURRENT_TRANSACTIONS, INVALID_REQUEST for an
// empty transactional id.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/metadata"
	"samsa/netpoll"
)

func init() { register(24, 0, 5, serveAddPartitionsToTxn) }

func serveAddPartitionsToTxn(rc *reqCtx, req kmsg.Request) *netpoll.Response {
	snap := rc.h.cache.Load()
	exists := func(topic string, p int32) bool { _, ok := snap.Partition(topic, p); return ok }
	return rc.respond(rc.h.txns.HandleAddPartitionsToTxn(req.(*kmsg.AddPartitionsToTxnRequest), exists, metadata.IsInternal))
}
