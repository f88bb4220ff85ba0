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
// Transactional batches are refused until transactions land. Internal
// topics refuse client appends (INVALID_TOPIC_EXCEPTION), as in Kafka.
// Authorization: Write on each topic, else TOPIC_AUTHORIZATION_FAILED for
// its partitions (before any other check, as KafkaApis does; an acks=0
// producer sees its connection closed). Kafka 3.x checks IdempotentWrite
// at InitProducerId, not here (KIP-679).

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/apierr"
	"samsa/netpoll"
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
		writable = rc.filterAuthorized(acl.OpWrite, acl.ResourceTopic, topicNames(req.Topics, func(t *kmsg.ProduceRequestTopic) string { return t.Topic }), false)
	}
	for _, rt := range req.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.BaseOffset, sp.LogAppendTime, sp.LogStartOffset = -1, -1, -1
			ts, p, err := h.rm.Lookup(rt.Topic, rp.Partition)
			switch {
			case !writable.has(rt.Topic) && req.TransactionID == nil:
				err = errf(kerr.TopicAuthorizationFailed, "Topic authorization failed.")
			case badAcks:
				err = errf(kerr.InvalidRequiredAcks, "acks must be -1, 0 or 1, not %d", req.Acks)
			case req.TransactionID != nil:
				err = errf(kerr.TransactionalIDAuthorizationFailed, "transactions are not supported yet")
			case err != nil:
			case ts.Meta.Internal:
				// The group coordinator alone writes __consumer_offsets.
				err = errf(kerr.InvalidTopicException, "Cannot append to internal topic %s", rt.Topic)
			default:
				var a replica.Appended
				a, err = h.rm.Append(ts, p, rc.version, rp.Records, now, req.Acks)
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
