package txnapi

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
// v4 (KIP-890) may carry TRANSACTION_ABORTABLE. Authorization: Write on the
// transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), then Read on the
// group (GROUP_AUTHORIZATION_FAILED).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/kafkaapi/coordtopic"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(25, 0, 4, serveAddOffsetsToTxn) }

func serveAddOffsetsToTxn(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.AddOffsetsToTxnRequest)
	refuse := func(e *kerr.Error) *netpoll.Response {
		resp := kmsg.NewPtrAddOffsetsToTxnResponse()
		resp.ErrorCode = e.Code
		return rc.Respond(resp)
	}
	switch {
	case !rc.AuthorizeResource(acl.OpWrite, acl.ResourceTransactionalID, req.TransactionalID):
		return refuse(kerr.TransactionalIDAuthorizationFailed)
	case !rc.AuthorizeResource(acl.OpRead, acl.ResourceGroup, req.Group):
		return refuse(kerr.GroupAuthorizationFailed)
	}
	return rc.Respond(rc.Handler().Txns().HandleAddOffsetsToTxn(req, coordtopic.Offsets, rc.Handler().Groups().PartitionFor(req.Group)))
}
