package kafkaapi

// InitProducerId (key 22), versions 0-5.
//
// Served by the transaction coordinator (package txn), as in Kafka.
// Idempotent producers (KIP-98, no transactional id) get a producer ID
// that was never handed out before, from blocks reserved durably in the
// metadata store (standalone: the data directory; cluster: ZooKeeper's
// /latest_producer_id_block: NextProducerID), and epoch 0. A request that
// names its current producer ID and epoch (v3+, KIP-360) gets a new ID, as
// Kafka does for producers without a transactional ID.
//
// Transactional producers go to the coordinator of their id (package
// txn): a new id gets a new producer ID at epoch 0, a known one its epoch
// bumped, fencing older producers (KIP-360: bumped from the epoch the
// producer names, and a retry of a bump gets the same answer); a
// transaction in progress is aborted first and the answer is
// CONCURRENT_TRANSACTIONS. Errors: INVALID_REQUEST for an empty id or a
// producer ID without an epoch (or the reverse),
// INVALID_TRANSACTION_TIMEOUT above transaction.max.timeout.ms (or not
// positive), NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS,
// PRODUCER_FENCED (INVALID_PRODUCER_EPOCH below v4, KIP-588). v5
// (KIP-890) may carry TRANSACTION_ABORTABLE, never answered here.
// Authorization: a transactional id needs Write on it
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED); an idempotent producer needs
// IdempotentWrite on the cluster or Write on some topic (KIP-679), else
// CLUSTER_AUTHORIZATION_FAILED.

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { register(22, 0, 5, serveInitProducerID) }

// producerIDBlockSize is how many IDs one durable reservation covers.
const producerIDBlockSize = 1000

// pidAllocator hands out producer IDs from reserved blocks.
type pidAllocator struct {
	mu        sync.Mutex
	next, end int64
}

// NextProducerID hands out a producer ID never used before (the
// transaction coordinator's too).
func (h *Handler) NextProducerID() (int64, error) {
	a := &h.pids
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.next >= a.end {
		start, err := h.meta.NextProducerIDBlock(producerIDBlockSize)
		if err != nil {
			return -1, err
		}
		a.next, a.end = start, start+producerIDBlockSize
	}
	id := a.next
	a.next++
	return id, nil
}

func serveInitProducerID(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.InitProducerIDRequest)
	refuse := func(code int16) *netpoll.Response {
		resp := kmsg.NewPtrInitProducerIDResponse()
		resp.ProducerID, resp.ProducerEpoch, resp.ErrorCode = -1, -1, code
		return rc.respond(resp)
	}
	if req.TransactionalID != nil && !rc.authorize(acl.OpWrite, acl.ResourceTransactionalID, *req.TransactionalID) {
		return refuse(kerr.TransactionalIDAuthorizationFailed.Code)
	}
	// KIP-679: an idempotent producer needs IdempotentWrite on the cluster,
	// or Write on some topic.
	if req.TransactionalID == nil && rc.h.authz != nil &&
		!rc.authorizeAction(acl.Action{Operation: acl.OpIdempotentWrite, Type: acl.ResourceCluster, Name: acl.ClusterName, QuietDenied: true}) &&
		!rc.h.authz.AuthorizeByResourceType(rc.requester(), acl.OpWrite, acl.ResourceTopic) {
		return refuse(kerr.ClusterAuthorizationFailed.Code)
	}
	return rc.respond(rc.h.txns.HandleInitProducerID(req))
}
