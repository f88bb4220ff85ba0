package txnapi

// ListTransactions (key 66), versions 0-1 (KIP-664, KIP-994).
//
// The transactional ids of the partitions of __transaction_state this
// broker leads (a client asks every broker), filtered by state names
// (Kafka's; names it does not know come back in unknown_state_filters),
// by producer ids and, v1, to transactions running longer than
// duration_filter_ms (-1: any). COORDINATOR_LOAD_IN_PROGRESS while one of
// its partitions loads. Only the ids the requester may describe are
// listed, as Kafka filters them.

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(66, 0, 1, serveListTransactions) }

func serveListTransactions(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	resp := rc.Handler().Txns().HandleListTransactions(kreq.(*kmsg.ListTransactionsRequest))
	resp.TransactionStates = slices.DeleteFunc(resp.TransactionStates, func(st kmsg.ListTransactionsResponseTransactionState) bool {
		return !rc.Authorize(acl.Action{Operation: acl.OpDescribe, Type: acl.ResourceTransactionalID, Name: st.TransactionalID, QuietDenied: true})
	})
	return rc.Respond(resp)
}
