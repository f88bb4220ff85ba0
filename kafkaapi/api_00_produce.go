package kafkaapi

// Produce (key 0), versions 0-9.
//
// Record batches v2 only (magic 2, which Produce v3+ implies); v3+ carries
// exactly one batch per partition (INVALID_RECORD otherwise, as in Kafka). v0-v2 are
// served so that clients which infer features from the version range
// (librdkafka 2.0 enables gzip and snappy only when Produce v0 is listed)
// see them, but their message sets v0/v1 (magic 0 or 1) are refused with
// UNSUPPORTED_FOR_MESSAGE_FORMAT: the old formats are not converted. Each
// partition's record set is validated before anything is appended:
// framing, magic, CRC-32C, record count against lastOffsetDelta, size
// against max.message.bytes; then every batch's records, decompressed
// within a bound derived from max.message.bytes if compressed (gzip,
// snappy raw or xerial, lz4 frames, zstd: Produce v7+): record framing,
// count, offset deltas and, with message.timestamp.difference.max.ms,
// timestamps (replica.Manager.Append: replica/validate.go over package
// record, which parses each batch's header once for the whole path).
// compression.type other than producer
// recompresses batches to that codec; LogAppendTime sets the broker's
// time (and a new CRC). Idempotent producers (KIP-98): a retried batch
// already written returns its original offsets, a sequence gap is
// OUT_OF_ORDER_SEQUENCE_NUMBER, an old epoch INVALID_PRODUCER_EPOCH, an
// unknown producer not starting at sequence 0 UNKNOWN_PRODUCER_ID
// (package producerstate). acks=0 gets no response; acks=1 and acks=-1 answer
// once the append is done (standalone: this broker is the whole ISR).
// Errors per partition, with Kafka's codes; v8+ carries a message and,
// for a batch refused because of particular records (no key on a
// compacted topic, a timestamp out of range), their indexes in the batch
// and messages (KIP-467 record_errors).
// Transactions (KIP-98): a request carrying transactional batches needs a
// transactional_id on which the principal may Write
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED otherwise, for every partition,
// before any other check, as Kafka answers it) and one producer id and
// epoch (INVALID_PRODUCER_ID_MAPPING otherwise). A producer's first
// transactional batch on a partition is verified with the transaction
// coordinator first (KIP-890 part 1: replica.VerifyTxnProduce), so a
// produce arriving after its transaction was aborted is refused with
// INVALID_TXN_STATE; the coordinator's retriable answers become
// NOT_ENOUGH_REPLICAS. A non-transactional batch of a producer whose
// transaction is open is INVALID_TXN_STATE. Internal topics refuse client
// appends (INVALID_TOPIC_EXCEPTION), as in Kafka.
// Authorization: Write on each topic, else TOPIC_AUTHORIZATION_FAILED for
// its partitions (before any other check but the transactional id's, as
// KafkaApis does; an acks=0 producer sees its connection closed). Kafka
// 3.x checks IdempotentWrite at InitProducerId, not here (KIP-679).

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/apierr"
	"samsa/netpoll"
	"samsa/record"
	"samsa/replica"
	"samsa/security/acl"
)

func init() { registerHot(0, 0, 9, serveProduce) }

func serveProduce(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.ProduceRequest)
	h := rc.h
	resp := kmsg.NewPtrProduceResponse()
	now := time.Now().UnixMilli()
	badAcks := req.Acks != 0 && req.Acks != 1 && req.Acks != -1
	// acks=all: the partitions to wait on, and where their answers are.
	var awaits []replica.Await
	var awaitAt [][2]int
	var writable allowed // Write on each topic (KafkaApis: once per topic entry)
	if h.authz != nil {
		writable = rc.filterAuthorized(acl.OpWrite, acl.ResourceTopic, TopicNames(req.Topics, func(t *kmsg.ProduceRequestTopic) string { return t.Topic }), false)
	}
	txn := h.txnProduce(rc, req, writable)
	for _, rt := range req.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.BaseOffset, sp.LogAppendTime, sp.LogStartOffset = -1, -1, -1
			ts, p, err := h.rm.Lookup(rt.Topic, rp.Partition)
			switch {
			case txn.err != nil:
				err = txn.err
			case !writable.has(rt.Topic):
				err = errf(kerr.TopicAuthorizationFailed, "Topic authorization failed.")
			case badAcks:
				err = errf(kerr.InvalidRequiredAcks, "acks must be -1, 0 or 1, not %d", req.Acks)
			case err != nil:
			case ts.Meta.Internal:
				// The group coordinator alone writes __consumer_offsets.
				err = errf(kerr.InvalidTopicException, "Cannot append to internal topic %s", rt.Topic)
			case txn.parts[p] != nil && txn.parts[p].Err != nil:
				err = txn.parts[p].Err
			default:
				var guard uint64
				if tp := txn.parts[p]; tp != nil {
					guard = tp.Guard
				}
				var a replica.Appended
				a, err = h.rm.AppendTxn(ts, p, rc.version, rp.Records, now, req.Acks, guard)
				sp.BaseOffset, sp.LogAppendTime, sp.LogStartOffset = a.BaseOffset, a.LogAppendTime, a.LogStartOffset
				if err == nil && req.Acks == -1 && h.rm.Replicated() {
					awaits = append(awaits, replica.Await{P: p, Offset: a.LastOffset, MinISR: int(ts.Config.MinInSyncReplicas)})
					awaitAt = append(awaitAt, [2]int{len(resp.Topics), len(st.Partitions)})
				}
			}
			if err != nil {
				sp.ErrorCode = codeOf(err)
				sp.ErrorMessage = msgOf(err)
				h.metrics.countError(produceKey, sp.ErrorCode)
				for _, r := range apierr.Records(err) {
					sp.ErrorRecords = append(sp.ErrorRecords, kmsg.ProduceResponseTopicPartitionErrorRecord{RelativeOffset: r.Index, ErrorMessage: &r.Msg})
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if len(awaits) > 0 {
		deadline := time.Now().Add(time.Duration(max(req.TimeoutMillis, 0)) * time.Millisecond)
		h.rm.AwaitReplication(rc.conn.Context(), awaits, deadline)
		for i, w := range awaits {
			if w.Err != nil {
				sp := &resp.Topics[awaitAt[i][0]].Partitions[awaitAt[i][1]]
				sp.ErrorCode, sp.ErrorMessage = codeOf(w.Err), msgOf(w.Err)
			}
		}
	}
	if req.Acks == 0 {
		// No response carries the error, so Kafka closes the connection:
		// the producer notices and refreshes its metadata.
		for _, st := range resp.Topics {
			for _, sp := range st.Partitions {
				if sp.ErrorCode != 0 {
					h.log.Debug("closing connection after a failed acks=0 produce", "topic", st.Topic, "partition", sp.Partition, "error", sp.ErrorCode, "remote", rc.conn.RemoteAddr())
					rc.conn.Close()
					return nil
				}
			}
		}
		return nil
	}
	return rc.respond(resp)
}

// txnProduce is what a produce's transactional batches need before any
// partition is written: an error for the whole request, or the
// verification of each partition.
type txnProduce struct {
	err   error
	parts map[*replica.Partition]*replica.TxnProduce
}

// txnProduce finds the partitions of req that carry a transactional batch
// and verifies them with the coordinator in one question (KafkaApis and
// ReplicaManager.appendRecordsWithTransactionVerification).
func (h *Handler) txnProduce(rc *reqCtx, req *kmsg.ProduceRequest, writable allowed) txnProduce {
	var out txnProduce
	var list []replica.TxnProduce
	type producer struct {
		id    int64
		epoch int16
	}
	producers := map[producer]bool{}
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			hd, err := record.ParseHeader(rp.Records)
			if err != nil || !hd.IsTransactional() || hd.IsControl() {
				continue // the append refuses what is not a transactional batch
			}
			producers[producer{hd.ProducerID, hd.ProducerEpoch}] = true
			if !writable.has(rt.Topic) {
				continue // refused for the topic: nothing to verify
			}
			if _, p, err := h.rm.Lookup(rt.Topic, rp.Partition); err == nil && p.IsLeader() {
				list = append(list, replica.TxnProduce{P: p, ProducerID: hd.ProducerID, Epoch: hd.ProducerEpoch})
			}
		}
	}
	switch {
	case len(producers) == 0:
		return out
	case req.TransactionID == nil || !rc.authorize(acl.OpWrite, acl.ResourceTransactionalID, *req.TransactionID):
		out.err = errf(kerr.TransactionalIDAuthorizationFailed, "Transactional ID authorization failed.")
		return out
	case len(producers) > 1:
		out.err = errf(kerr.InvalidProducerIDMapping, "Transactional records contained more than one producer ID")
		return out
	}
	h.rm.VerifyTxnProduce(rc.conn.Context(), *req.TransactionID, list)
	out.parts = make(map[*replica.Partition]*replica.TxnProduce, len(list))
	for i := range list {
		out.parts[list[i].P] = &list[i]
	}
	return out
}
