package kafkaapi

// DescribeTransactions (key 65), version 0 (KIP-664).
//
// Each transactional id this broker coordinates (package txn): its state
// (Kafka's names: Empty, Ongoing, PrepareCommit, ...), producer id and
// epoch, timeout, the start of the transaction in progress (-1 outside
// one) and its partitions. TRANSACTIONAL_ID_NOT_FOUND for an id the
// coordinator does not know, NOT_COORDINATOR for one another broker
// coordinates, COORDINATOR_LOAD_IN_PROGRESS while its partition loads.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

func init() { register(65, 0, 0, serveDescribeTransactions) }

func serveDescribeTransactions(rc *reqCtx, req kmsg.Request) *netpoll.Response {
	return rc.respond(rc.h.txns.HandleDescribeTransactions(req.(*kmsg.DescribeTransactionsRequest)))
}
