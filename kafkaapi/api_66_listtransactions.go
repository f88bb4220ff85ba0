package kafkaapi

// ListTransactions (key 66), versions 0-1 (KIP-664, KIP-994).
//
// The transactional ids of the partitions of __transaction_state this
// broker leads (a client asks every broker), filtered by state names
// (Kafka's; names it does not know come back in unknown_state_filters),
// by producer ids and, v1, to transactions running longer than
// duration_filter_ms (-1: any). COORDINATOR_LOAD_IN_PROGRESS while one of
// its partitions loads.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

func init() { register(66, 0, 1, serveListTransactions) }

func serveListTransactions(rc *reqCtx, req kmsg.Request) *netpoll.Response {
	return rc.respond(rc.h.txns.HandleListTransactions(req.(*kmsg.ListTransactionsRequest)))
}
