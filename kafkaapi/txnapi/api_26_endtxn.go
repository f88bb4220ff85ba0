package txnapi

// EndTxn (key 26), versions 0-4.
//
// Ends a producer's transaction (package txn): PrepareCommit or
// PrepareAbort is written to __transaction_state and answered, then the
// coordinator writes the COMMIT or ABORT marker to every partition of the
// transaction with WriteTxnMarkers and, when all are written,
// CompleteCommit or CompleteAbort. The same end again is answered with
// success (CONCURRENT_TRANSACTIONS while its markers go out), the other
// end, or an end without a transaction, INVALID_TXN_STATE. Other errors:
// NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS,
// INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED (INVALID_PRODUCER_EPOCH
// below v2, KIP-588), INVALID_REQUEST for an empty transactional id. v4
// (KIP-890) may carry TRANSACTION_ABORTABLE. Authorization: Write on the
// transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(26, 0, 4, serveEndTxn) }

func serveEndTxn(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.EndTxnRequest)
	if !rc.AuthorizeResource(acl.OpWrite, acl.ResourceTransactionalID, req.TransactionalID) {
		resp := kmsg.NewPtrEndTxnResponse()
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return rc.Respond(resp)
	}
	return rc.Respond(rc.Handler().Txns().HandleEndTxn(req))
}
