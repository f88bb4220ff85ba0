package txnapi

// TxnOffsetCommit (key 28), versions 0-4.
//
// A transactional producer commits a consumer group's offsets as part of
// its transaction (after AddOffsetsToTxn); the group coordinator writes
// them to __consumer_offsets in a transactional batch of the producer and
// keeps them pending, invisible to OffsetFetch, until the transaction's
// marker commits or drops them (KIP-98; package group, txn.go).
// v3 (KIP-447) carries the member id, instance id and generation, checked
// as OffsetCommit checks them (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION,
// FENCED_INSTANCE_ID). Per partition: UNKNOWN_TOPIC_OR_PARTITION,
// OFFSET_METADATA_TOO_LARGE; for all: NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS (COORDINATOR_NOT_AVAILABLE below v2, for
// clients before KAFKA-7296), INVALID_GROUP_ID for an empty group id. The
// producer's epoch is checked by the producer state of the partition of
// __consumer_offsets. v4 (KIP-890) may carry TRANSACTION_ABORTABLE.
// Authorization, as Kafka's: Write on the transactional id, then Read on
// the group, fail every partition (TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
// GROUP_AUTHORIZATION_FAILED); Read on a topic fails its partitions
// (TOPIC_AUTHORIZATION_FAILED).

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/coordinator/group"
	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(28, 0, 4, serveTxnOffsetCommit) }

func serveTxnOffsetCommit(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.TxnOffsetCommitRequest)
	tc := group.TxnCommit{
		Group: req.Group, ProducerID: req.ProducerID, ProducerEpoch: req.ProducerEpoch,
		Generation: req.Generation, MemberID: req.MemberID, InstanceID: req.InstanceID,
	}
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			o := group.TxnOffset{Topic: t.Topic, Partition: p.Partition, Offset: p.Offset, LeaderEpoch: -1, Metadata: p.Metadata}
			if rc.Version() >= 2 {
				o.LeaderEpoch = p.LeaderEpoch
			}
			tc.Offsets = append(tc.Offsets, o)
		}
	}
	var codes []*kerr.Error
	readable := rc.FilterAuthorized(acl.OpRead, acl.ResourceTopic, topicNames(req.Topics, func(t *kmsg.TxnOffsetCommitRequestTopic) string { return t.Topic }), false)
	switch {
	case !authorize(rc, acl.OpWrite, acl.ResourceTransactionalID, req.TransactionalID):
		codes = slices.Repeat([]*kerr.Error{kerr.TransactionalIDAuthorizationFailed}, len(tc.Offsets))
	case !authorize(rc, acl.OpRead, acl.ResourceGroup, req.Group):
		codes = slices.Repeat([]*kerr.Error{kerr.GroupAuthorizationFailed}, len(tc.Offsets))
	case req.Group == "":
		codes = slices.Repeat([]*kerr.Error{kerr.InvalidGroupID}, len(tc.Offsets))
	default:
		// Topics the producer may not read are answered without asking
		// the group; the others are committed together.
		asked := tc
		asked.Offsets = nil
		for _, o := range tc.Offsets {
			if readable.Has(o.Topic) {
				asked.Offsets = append(asked.Offsets, o)
			}
		}
		got := rc.Handler().Groups().CommitTxnOffsets(asked)
		for _, o := range tc.Offsets {
			e := kerr.TopicAuthorizationFailed
			if readable.Has(o.Topic) {
				e, got = got[0], got[1:]
			}
			codes = append(codes, e)
		}
	}
	resp := kmsg.NewPtrTxnOffsetCommitResponse()
	i := 0
	for _, t := range req.Topics {
		rt := kmsg.NewTxnOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			if e := codes[i]; e != nil {
				rp.ErrorCode = e.Code
				if e == kerr.CoordinatorLoadInProgress && rc.Version() < 2 {
					rp.ErrorCode = kerr.CoordinatorNotAvailable.Code
				}
			}
			i++
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return rc.Respond(resp)
}
