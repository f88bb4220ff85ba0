package kafkaapi

// InitProducerId (key 22), versions 0-4.
//
// Idempotent producers (KIP-98) get a producer ID that was never handed
// out before, from blocks reserved durably in the metadata store
// (standalone: the data directory; cluster stage: ZooKeeper's
// /latest_producer_id_block), and epoch 0. A request that names its
// current producer ID and epoch (v3+, KIP-360) gets a new ID, as Kafka
// does for producers without a transactional ID. Transactions are a later
// stage: a request with a transactional ID gets
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED, which clients treat as fatal and
// report, and the transaction APIs are not advertised. Authorization: a
// transactional id needs Write on it; an idempotent producer needs
// IdempotentWrite on the cluster or Write on some topic (KIP-679), else
// CLUSTER_AUTHORIZATION_FAILED.

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { register(22, 0, 4, serveInitProducerID) }

// producerIDBlockSize is how many IDs one durable reservation covers.
const producerIDBlockSize = 1000

// pidAllocator hands out producer IDs from reserved blocks.
type pidAllocator struct {
	mu        sync.Mutex
	next, end int64
}

func (h *Handler) nextProducerID() (int64, error) {
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
	resp := kmsg.NewPtrInitProducerIDResponse()
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil && !rc.authorize(acl.OpWrite, acl.ResourceTransactionalID, *req.TransactionalID) {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return rc.respond(resp)
	}
	// KIP-679: an idempotent producer needs IdempotentWrite on the cluster,
	// or Write on some topic.
	if req.TransactionalID == nil && rc.h.authz != nil &&
		!rc.authorizeAction(acl.Action{Operation: acl.OpIdempotentWrite, Type: acl.ResourceCluster, Name: acl.ClusterName, QuietDenied: true}) &&
		!rc.h.authz.AuthorizeByResourceType(rc.requester(), acl.OpWrite, acl.ResourceTopic) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return rc.respond(resp)
	}
	if req.TransactionalID != nil {
		rc.h.log.Warn("transactional producer refused: transactions are not supported yet", "transactional.id", *req.TransactionalID, "client", rc.clientID, "remote", rc.conn.RemoteAddr())
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return rc.respond(resp)
	}
	id, err := rc.h.nextProducerID()
	if err != nil {
		rc.h.log.Error("allocate producer id", "err", err)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return rc.respond(resp)
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return rc.respond(resp)
}
