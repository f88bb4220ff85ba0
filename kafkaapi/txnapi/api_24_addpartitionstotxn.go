package txnapi

// AddPartitionsToTxn (key 24), versions 0-5.
//
// v0-v3 come from producers: one transaction, whose partitions join it
// (package txn: Ongoing written to __transaction_state before the answer),
// every partition answered alike. v4+ (KIP-890) come from brokers and
// batch transactions; one with verify_only is only checked: each
// partition is answered whether it is in the ongoing transaction
// (TRANSACTION_ABORTABLE when not), nothing is written. A partition the
// cluster does not have fails its whole transaction
// (UNKNOWN_TOPIC_OR_PARTITION for it, OPERATION_NOT_ATTEMPTED for the
// others), and so does an internal topic a producer names
// (TOPIC_AUTHORIZATION_FAILED, as Kafka). Coordinator errors:
// NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS,
// INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED (INVALID_PRODUCER_EPOCH
// below v2, KIP-588), CONCURRENT_TRANSACTIONS, INVALID_REQUEST for an
// empty transactional id. Authorization, as Kafka's: a producer needs
// Write on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
// and on each topic (TOPIC_AUTHORIZATION_FAILED); v4+ needs ClusterAction
// on the cluster (CLUSTER_AUTHORIZATION_FAILED for the whole request).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/metadata"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(24, 0, 5, serveAddPartitionsToTxn) }

func serveAddPartitionsToTxn(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.AddPartitionsToTxnRequest)
	if rc.Version() >= 4 && !rc.AuthorizeCluster(acl.OpClusterAction) {
		resp := kmsg.NewPtrAddPartitionsToTxnResponse()
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return rc.Respond(resp)
	}
	snap := rc.Handler().Cache().Load()
	exists := func(topic string, p int32) bool { _, ok := snap.Partition(topic, p); return ok }
	writeTxn := func(id string) bool { return rc.AuthorizeResource(acl.OpWrite, acl.ResourceTransactionalID, id) }
	writable := rc.FilterAuthorized(acl.OpWrite, acl.ResourceTopic, kafkaapi.TopicNames(req.Topics, func(t *kmsg.AddPartitionsToTxnRequestTopic) string { return t.Topic }), false)
	writeTopic := func(topic string) bool { return !metadata.IsInternal(topic) && writable.Has(topic) }
	return rc.Respond(rc.Handler().Txns().HandleAddPartitionsToTxn(req, exists, writeTxn, writeTopic))
}
