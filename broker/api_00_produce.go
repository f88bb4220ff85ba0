package broker

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
// timestamps (validate.go, package records). compression.type other than producer
// recompresses batches to that codec; LogAppendTime sets the broker's
// time (and a new CRC). Idempotent producers (KIP-98): a retried batch
// already written returns its original offsets, a sequence gap is
// OUT_OF_ORDER_SEQUENCE_NUMBER, an old epoch INVALID_PRODUCER_EPOCH, an
// unknown producer not starting at sequence 0 UNKNOWN_PRODUCER_ID
// (package producer). acks=0 gets no response; acks=1 and acks=-1 answer
// once the append is done (standalone: this broker is the whole ISR).
// Errors per partition, with Kafka's codes; v8+ carries a message.
// Transactional batches are refused until transactions land. Internal
// topics refuse client appends (INVALID_TOPIC_EXCEPTION), as in Kafka.

import (
	"errors"
	"time"

	"samsa/record"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/logfile"
	"samsa/netpoll"
)

func init() { registerHot(0, 0, 9, serveProduce) }

func serveProduce(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.ProduceRequest)
	b := rc.b
	resp := kmsg.NewPtrProduceResponse()
	now := time.Now().UnixMilli()
	badAcks := req.Acks != 0 && req.Acks != 1 && req.Acks != -1
	for _, rt := range req.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		ts := b.topic(rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.BaseOffset, sp.LogAppendTime, sp.LogStartOffset = -1, -1, -1
			var err error
			switch {
			case badAcks:
				err = errf(kerr.InvalidRequiredAcks, "acks must be -1, 0 or 1, not %d", req.Acks)
			case req.TransactionID != nil:
				err = errf(kerr.TransactionalIDAuthorizationFailed, "transactions are not supported yet")
			case ts == nil || rp.Partition < 0 || int(rp.Partition) >= len(ts.parts):
				err = errf(kerr.UnknownTopicOrPartition, "this server does not host this topic-partition")
			case ts.meta.Internal:
				// The group coordinator alone writes __consumer_offsets.
				err = errf(kerr.InvalidTopicException, "Cannot append to internal topic %s", rt.Topic)
			default:
				err = b.produceTo(rc, ts, ts.parts[rp.Partition], rp.Records, now, &sp)
			}
			if err != nil {
				sp.ErrorCode = codeOf(err)
				sp.ErrorMessage = msgOf(err)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if req.Acks == 0 {
		// No response carries the error, so Kafka closes the connection:
		// the producer notices and refreshes its metadata.
		for _, st := range resp.Topics {
			for _, sp := range st.Partitions {
				if sp.ErrorCode != 0 {
					b.log.Debug("closing connection after a failed acks=0 produce", "topic", st.Topic, "partition", sp.Partition, "error", sp.ErrorCode, "remote", rc.conn.RemoteAddr())
					rc.conn.Close()
					return nil
				}
			}
		}
		return nil
	}
	return rc.respond(resp)
}

// produceTo validates and appends one partition's record set.
func (b *Broker) produceTo(rc *reqCtx, ts *topicState, p *Partition, records []byte, now int64, sp *kmsg.ProduceResponseTopicPartition) error {
	maxBytes := ts.cfg.Int64("max.message.bytes")
	if rc.version >= 3 {
		// Kafka: v3+ carries exactly one batch of magic 2 per partition.
		if len(records) == 0 {
			return errf(kerr.InvalidRecord, "produce v3+ needs exactly one record batch, got none")
		}
		h, err := logfile.ParseHeader(records)
		switch {
		case errors.Is(err, logfile.ErrMagic):
			return errf(kerr.InvalidRecord, "produce v3+ allows only record batches of magic 2: %v", err)
		case err == nil && h.Size() < int64(len(records)):
			return errf(kerr.InvalidRecord, "produce v3+ needs exactly one record batch per partition, got more")
		}
	} else if len(records) == 0 {
		return errf(kerr.CorruptMessage, "empty record set")
	}
	bs, err := logfile.ValidateProduce(records, maxBytes)
	if err != nil {
		return produceError(err)
	}
	if bs, err = b.validateBatches(rc, ts, bs, now); err != nil {
		return err
	}
	p.prod.Mu.Lock()
	defer p.prod.Mu.Unlock()
	// Idempotent batches: a retry of a batch already written gets its
	// original offsets; gaps and stale epochs are refused.
	var idem []logfile.Header
	for pos := 0; pos < len(bs.Buf); {
		h, _ := logfile.ParseHeader(bs.Buf[pos:])
		if h.ProducerID >= 0 {
			dup, err := p.prod.State.Check(&h)
			if err != nil {
				return err
			}
			if dup != nil {
				if bs.Count != 1 {
					return errf(kerr.OutOfOrderSequenceNumber, "a duplicate batch in a request of %d batches", bs.Count)
				}
				sp.BaseOffset, sp.LogStartOffset = dup.FirstOffset, p.Log.StartOffset()
				return nil
			}
			idem = append(idem, h)
		}
		pos += int(h.Size())
	}
	if len(idem) > 1 {
		return errf(kerr.InvalidRecord, "%d idempotent batches for one partition in one request", len(idem))
	}
	info, err := p.Log.AppendValidated(bs)
	if err != nil {
		return produceError(err)
	}
	if len(idem) == 1 {
		p.prod.State.Update(&idem[0], info.FirstOffset, now)
		b.maybeSnapshot(p)
	}
	p.notify()
	ts.metricsIn(b, int64(len(bs.Buf)), info.Records)
	sp.BaseOffset = info.FirstOffset
	sp.LogStartOffset = info.LogStartOffset
	if ts.cfg.LogAppendTime() {
		sp.LogAppendTime = now
	}
	return nil
}

// maybeSnapshot writes a producer snapshot when the log has rolled since
// the last one, so that rebuilding after a crash scans about one segment.
// Called with p.prod.mu held.
func (b *Broker) maybeSnapshot(p *Partition) {
	segs := p.Log.SegmentBases()
	if active := segs[len(segs)-1]; active != p.prod.SnapBase {
		if err := p.prod.Snapshot(p.Log.EndOffset()); err != nil {
			b.log.Warn("producer snapshot", "dir", p.Log.Dir(), "err", err)
			return
		}
		p.prod.SnapBase = active
	}
}

func produceError(err error) error {
	switch {
	case errors.Is(err, logfile.ErrMagic):
		return errf(kerr.UnsupportedForMessageFormat, "%v: only RecordBatch v2 (magic 2) is stored", err)
	case errors.Is(err, logfile.ErrBatchTooLarge):
		return errf(kerr.MessageTooLarge, "%v", err)
	case errors.Is(err, logfile.ErrInvalidRecord), errors.Is(err, record.ErrFraming), errors.Is(err, record.ErrNoKey):
		return errf(kerr.InvalidRecord, "%v", err)
	case errors.Is(err, record.ErrTimestamp):
		return errf(kerr.InvalidTimestamp, "%v", err)
	case errors.Is(err, logfile.ErrCorrupt):
		return errf(kerr.CorruptMessage, "%v", err)
	case errors.Is(err, logfile.ErrClosed):
		return errf(kerr.NotLeaderForPartition, "partition is closing")
	}
	return errf(kerr.KafkaStorageError, "%v", err)
}
