package txnapi

// DescribeTransactions (key 65), version 0 (KIP-664).
//
// Each transactional id this broker coordinates (package txn): its state
// (Kafka's names: Empty, Ongoing, PrepareCommit, ...), producer id and
// epoch, timeout, the start of the transaction in progress (-1 outside
// one) and its partitions. TRANSACTIONAL_ID_NOT_FOUND for an id the
// coordinator does not know, NOT_COORDINATOR for one another broker
// coordinates, COORDINATOR_LOAD_IN_PROGRESS while its partition loads.
// Authorization: Describe on the id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
// the partitions shown are those of topics the requester may describe.

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(65, 0, 0, serveDescribeTransactions) }

func serveDescribeTransactions(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.DescribeTransactionsRequest)
	ask := *req
	ask.TransactionalIDs = nil
	for _, id := range req.TransactionalIDs {
		if rc.AuthorizeResource(acl.OpDescribe, acl.ResourceTransactionalID, id) {
			ask.TransactionalIDs = append(ask.TransactionalIDs, id)
		}
	}
	got := rc.Handler().Txns().HandleDescribeTransactions(&ask).TransactionStates
	resp := kmsg.NewPtrDescribeTransactionsResponse()
	for _, id := range req.TransactionalIDs {
		if len(got) == 0 || got[0].TransactionalID != id {
			st := kmsg.NewDescribeTransactionsResponseTransactionState()
			st.TransactionalID, st.ErrorCode = id, kerr.TransactionalIDAuthorizationFailed.Code
			st.ProducerID, st.ProducerEpoch, st.StartTimestamp = -1, -1, -1
			resp.TransactionStates = append(resp.TransactionStates, st)
			continue
		}
		st := got[0]
		got = got[1:]
		st.Topics = slices.DeleteFunc(st.Topics, func(t kmsg.DescribeTransactionsResponseTransactionStateTopic) bool {
			return !rc.Authorize(acl.Action{Operation: acl.OpDescribe, Type: acl.ResourceTopic, Name: t.Topic, QuietDenied: true})
		})
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	return rc.Respond(resp)
}
