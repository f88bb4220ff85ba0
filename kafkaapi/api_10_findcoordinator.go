package kafkaapi

// FindCoordinator (key 10), versions 0-5.
//
// Group keys (key type 0; v0 has only groups) name the leader of the
// group's partition of __consumer_offsets, Kafka's abs(hashCode(group)) %
// offsets.topic.num.partitions; transaction keys (type 1, v1+) the leader
// of the transactional id's partition of __transaction_state, by the same
// rule over transaction.state.log.num.partitions. The first request of
// each type creates its topic, as Kafka does (COORDINATOR_NOT_AVAILABLE
// until its leaders are known in cluster mode). A partition still loading
// is still its leader's: the coordinators answer
// COORDINATOR_LOAD_IN_PROGRESS meanwhile. v4 (KIP-699) batches keys; v5
// (KIP-890) may answer TRANSACTION_ABORTABLE, which this broker never
// does. Other key types are INVALID_REQUEST. A key needs Describe on its
// group (GROUP_AUTHORIZATION_FAILED) or transactional id
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), asked first, as Kafka does. The
// coordinator is named at its endpoint on the listener the request came
// in on.

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { register(10, 0, 5, serveFindCoordinator) }

func serveFindCoordinator(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.FindCoordinatorRequest)
	resp := kmsg.NewPtrFindCoordinatorResponse()
	keys := req.CoordinatorKeys
	if rc.version < 4 {
		keys = []string{req.CoordinatorKey}
	}
	for _, key := range keys {
		var c kmsg.FindCoordinatorResponseCoordinator
		switch {
		case req.CoordinatorType == 0 && !rc.authorize(acl.OpDescribe, acl.ResourceGroup, key):
			c = coordinatorRefused(key, kerr.GroupAuthorizationFailed)
		case req.CoordinatorType == 1 && !rc.authorize(acl.OpDescribe, acl.ResourceTransactionalID, key):
			c = coordinatorRefused(key, kerr.TransactionalIDAuthorizationFailed)
		default:
			c = rc.h.findCoordinator(req.CoordinatorType, key, rc.conn.Listener())
		}
		if rc.version < 4 {
			resp.ErrorCode, resp.ErrorMessage = c.ErrorCode, c.ErrorMessage
			resp.NodeID, resp.Host, resp.Port = c.NodeID, c.Host, c.Port
			break
		}
		resp.Coordinators = append(resp.Coordinators, c)
	}
	return rc.respond(resp)
}

// coordinatorRefused is the answer for a key the principal may not
// describe: no node.
func coordinatorRefused(key string, err *kerr.Error) kmsg.FindCoordinatorResponseCoordinator {
	c := kmsg.NewFindCoordinatorResponseCoordinator()
	c.Key, c.NodeID, c.Port, c.ErrorCode, c.ErrorMessage = key, -1, -1, err.Code, strptr(err.Description)
	return c
}

func (h *Handler) findCoordinator(keyType int8, key, listener string) kmsg.FindCoordinatorResponseCoordinator {
	c := kmsg.NewFindCoordinatorResponseCoordinator()
	c.Key = key
	c.NodeID, c.Port = -1, -1
	topic, partition, err := h.topics.Ensure(keyType, key)
	if err == nil && h.cluster == nil {
		owned := false
		if keyType == 0 {
			owned, _ = h.groups.Owns(partition)
		} else {
			owned, _ = h.txns.Owns(partition)
		}
		if !owned {
			err = errf(kerr.CoordinatorNotAvailable, "partition %d of %s is not led by this broker", partition, topic)
		}
	}
	if err != nil && codeOf(err) != kerr.CoordinatorNotAvailable.Code && codeOf(err) != kerr.InvalidRequest.Code {
		h.log.Warn("creating "+topic+" failed", "err", err)
		err = errf(kerr.CoordinatorNotAvailable, "%v", err)
	}
	if err != nil {
		c.ErrorCode, c.ErrorMessage = codeOf(err), msgOf(err)
		return c
	}
	snap := h.cache.Load()
	st, found := snap.Partition(topic, partition)
	b, ok := snap.BrokerOn(st.Leader, listener)
	ok = ok && found
	if !ok {
		c.ErrorCode = kerr.CoordinatorNotAvailable.Code
		c.ErrorMessage = strptr("the leader of partition " + strconv.Itoa(int(partition)) + " of " + topic + " is not available")
		return c
	}
	c.NodeID, c.Host, c.Port = b.ID, b.Host, b.Port
	return c
}
