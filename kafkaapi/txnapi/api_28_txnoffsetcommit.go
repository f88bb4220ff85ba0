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
// __consumer_offsets. As in Kafka 3.6+ (KIP-890 part 1,
// GroupCoordinator.handleTxnCommitOffsets), a producer without an open
// transaction on the group's partition of __consumer_offsets is first
// verified with the transaction coordinator: that partition must be in
// its ongoing transaction (AddOffsetsToTxn), so that offsets of an
// unknown, fenced or ended transaction open none there that no marker
// would end (pending for ever, UNSTABLE_OFFSET_COMMIT to require_stable
// readers). The verification's guard goes with the offsets to the append,
// which refuses them (INVALID_TXN_STATE) if a marker came meanwhile. The
// group's own state is checked first (NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS), and nothing is verified when no offset
// names a partition that exists. The coordinator's refusals, as Kafka's
// AddPartitionsToTxnManager and
// GroupMetadataManager.maybeConvertOffsetCommitError word them:
// TRANSACTION_ABORTABLE from v4, INVALID_TXN_STATE below;
// INVALID_PRODUCER_EPOCH for a fenced producer;
// INVALID_PRODUCER_ID_MAPPING, CONCURRENT_TRANSACTIONS, NOT_COORDINATOR,
// COORDINATOR_NOT_AVAILABLE and COORDINATOR_LOAD_IN_PROGRESS as answered;
// COORDINATOR_LOAD_IN_PROGRESS for a coordinator not reached (clients
// retry it without a new lookup).
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
	"samsa/kafkaapi/coordtopic"
	"samsa/netpoll"
	"samsa/replica"
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
	readable := rc.FilterAuthorized(acl.OpRead, acl.ResourceTopic, kafkaapi.TopicNames(req.Topics, func(t *kmsg.TxnOffsetCommitRequestTopic) string { return t.Topic }), false)
	switch {
	case !rc.AuthorizeResource(acl.OpWrite, acl.ResourceTransactionalID, req.TransactionalID):
		codes = slices.Repeat([]*kerr.Error{kerr.TransactionalIDAuthorizationFailed}, len(tc.Offsets))
	case !rc.AuthorizeResource(acl.OpRead, acl.ResourceGroup, req.Group):
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
		var got []*kerr.Error
		if len(asked.Offsets) > 0 {
			var e *kerr.Error
			asked.Verified, asked.Guard, e = verifyOffsetsPartition(rc, req, asked.Offsets)
			if e != nil {
				got = refuseOffsets(rc, asked.Offsets, e)
			} else {
				got = rc.Handler().Groups().CommitTxnOffsets(asked)
			}
		}
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

// verifyOffsetsPartition verifies with the transaction coordinator that
// the group's partition of __consumer_offsets is in the producer's ongoing
// transaction, unless its transaction is open there already
// (replica.Manager.VerifyTxnProduce), and returns the guard the append is
// to check (verified). Nothing is verified, and the group coordinator
// answers, when it does not own the partition or is loading it (Kafka's
// validateGroupStatus comes first) or when no offset names a partition
// that exists (Kafka's handler answers those without the coordinator).
func verifyOffsetsPartition(rc *kafkaapi.Request, req *kmsg.TxnOffsetCommitRequest, offsets []group.TxnOffset) (verified bool, guard uint64, _ *kerr.Error) {
	h := rc.Handler()
	part := h.Groups().PartitionFor(req.Group)
	if owned, loading := h.Groups().Owns(part); !owned || loading {
		return false, 0, nil
	}
	if !slices.ContainsFunc(offsets, func(o group.TxnOffset) bool { return partitionExists(rc, o) }) {
		return false, 0, nil
	}
	p := h.Replicas().Partition(coordtopic.Offsets, part)
	if p == nil || !p.IsLeader() {
		return false, 0, kerr.NotCoordinator // NOT_LEADER_OR_FOLLOWER, as Kafka words it
	}
	parts := []replica.TxnProduce{{P: p, ProducerID: req.ProducerID, Epoch: req.ProducerEpoch}}
	h.Replicas().VerifyTxnProduce(rc.Context(), req.TransactionalID, parts)
	if parts[0].Err != nil {
		return false, 0, offsetCommitError(parts[0].Code, rc.Version())
	}
	return true, parts[0].Guard, nil
}

// offsetCommitError words a refusal of the transaction coordinator for a
// TxnOffsetCommit of the given version (replica.TxnProduce.Code), as
// Kafka 3.8 does: TRANSACTION_ABORTABLE only to clients that know it
// (AddPartitionsToTxnManager's defaultError below v4), and
// GroupMetadataManager.maybeConvertOffsetCommitError.
func offsetCommitError(code, version int16) *kerr.Error {
	switch e := kerr.TypedErrorForCode(code); e {
	case kerr.TransactionAbortable:
		if version < 4 {
			return kerr.InvalidTxnState
		}
		return e
	case kerr.NetworkException:
		// Older clients may not retry it; they retry this one, and
		// without looking the coordinator up again.
		return kerr.CoordinatorLoadInProgress
	case kerr.UnknownTopicOrPartition, kerr.NotEnoughReplicas, kerr.NotEnoughReplicasAfterAppend:
		return kerr.CoordinatorNotAvailable
	case kerr.NotLeaderForPartition, kerr.KafkaStorageError:
		return kerr.NotCoordinator
	default:
		return e
	}
}

// refuseOffsets answers offsets whose verification failed with e, but
// those of partitions that do not exist with UNKNOWN_TOPIC_OR_PARTITION,
// as Kafka's handler answers them before the coordinator.
func refuseOffsets(rc *kafkaapi.Request, offsets []group.TxnOffset, e *kerr.Error) []*kerr.Error {
	out := make([]*kerr.Error, len(offsets))
	for i, o := range offsets {
		out[i] = e
		if !partitionExists(rc, o) {
			out[i] = kerr.UnknownTopicOrPartition
		}
	}
	return out
}

// partitionExists reports whether the metadata cache knows o's partition,
// wherever it is led (the group coordinator's PartitionExists).
func partitionExists(rc *kafkaapi.Request, o group.TxnOffset) bool {
	_, ok := rc.Handler().Cache().Load().Partition(o.Topic, o.Partition)
	return ok
}
