package kafkaapi

// FindCoordinator (key 10), versions 0-4.
//
// Group keys (key type 0; v0 has only groups) name this broker once it
// leads the group's partition of __consumer_offsets, Kafka's
// abs(hashCode(group)) % offsets.topic.num.partitions; the first request
// creates __consumer_offsets, as Kafka does. A partition still loading is
// still this broker's: the group APIs answer COORDINATOR_LOAD_IN_PROGRESS
// meanwhile. v4 (KIP-699) batches keys. Transaction keys (type 1) are
// COORDINATOR_NOT_AVAILABLE until transactions land; other types are
// INVALID_REQUEST. A key needs Describe on its group
// (GROUP_AUTHORIZATION_FAILED) or transactional id
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), asked first, as Kafka does. The
// coordinator is named at its endpoint on the listener the request came
// in on.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { register(10, 0, 4, serveFindCoordinator) }

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
	var err error
	switch keyType {
	case 0:
		if h.cluster != nil {
			err = h.ensureOffsetsTopic()
		} else if _, err = h.offsetsTopicState(); err == nil {
			if owned, _ := h.groups.Owns(h.groups.PartitionFor(key)); !owned {
				err = errf(kerr.CoordinatorNotAvailable, "partition %d of %s is not led by this broker", h.groups.PartitionFor(key), offsetsTopic)
			}
		}
		if err != nil && codeOf(err) != kerr.CoordinatorNotAvailable.Code {
			h.log.Warn("creating "+offsetsTopic+" failed", "err", err)
			err = errf(kerr.CoordinatorNotAvailable, "%v", err)
		}
	case 1:
		err = errf(kerr.CoordinatorNotAvailable, "transactions are not supported yet")
	default:
		err = errf(kerr.InvalidRequest, "unknown coordinator type %d", keyType)
	}
	if err != nil {
		c.ErrorCode, c.ErrorMessage = codeOf(err), msgOf(err)
		return c
	}
	snap := h.cache.Load()
	st, found := snap.Partition(offsetsTopic, h.groups.PartitionFor(key))
	b, ok := snap.BrokerOn(st.Leader, listener)
	ok = ok && found
	if !ok {
		c.ErrorCode = kerr.CoordinatorNotAvailable.Code
		c.ErrorMessage = strptr("the leader of the group's partition of " + offsetsTopic + " is not available")
		return c
	}
	c.NodeID, c.Host, c.Port = b.ID, b.Host, b.Port
	return c
}
