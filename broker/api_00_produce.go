package broker

// Produce (key 0), versions 3-9.
//
// Record batches v2 only (magic 2, which Produce v3+ implies). Each
// partition's record set is validated before anything is appended:
// framing, magic, CRC-32C, record count against lastOffsetDelta, size
// against max.message.bytes, and for uncompressed batches every record's
// framing and offset delta and, with message.timestamp.difference.max.ms,
// its timestamp. A topic with message.timestamp.type=LogAppendTime gets the
// broker's time in the batch (and a new CRC). acks=0 gets no response;
// acks=1 and acks=-1 answer once the append is done (standalone: this
// broker is the whole ISR, so the high watermark moves with the append).
// Errors per partition, with Kafka's codes; v8+ carries an error message.
//
// Not yet: compressed batches are stored as they came after the header
// checks, without decompressing (the compression issue); idempotent and
// transactional producer state (InitProducerId is not advertised).

import (
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/logfile"
	"samsa/netpoll"
)

func init() { registerHot(0, 3, 9, serveProduce) }

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
			default:
				err = b.produceTo(ts, ts.parts[rp.Partition], rp.Records, now, &sp)
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
		return nil
	}
	return rc.respond(resp)
}

// produceTo validates and appends one partition's record set.
func (b *Broker) produceTo(ts *topicState, p *Partition, records []byte, now int64, sp *kmsg.ProduceResponseTopicPartition) error {
	maxBytes := ts.cfg.int64("max.message.bytes")
	if len(records) == 0 {
		return errf(kerr.CorruptMessage, "empty record set")
	}
	bs, err := logfile.ValidateProduce(records, maxBytes)
	if err != nil {
		return produceError(err)
	}
	maxTsDiff := ts.cfg.int64("message.timestamp.difference.max.ms")
	if maxTsDiff == maxLong {
		maxTsDiff = -1
	}
	logAppend := ts.cfg.LogAppendTime()
	for pos := 0; pos < len(records); {
		h, _ := logfile.ParseHeader(records[pos:])
		batch := records[pos : pos+int(h.Size())]
		if h.Attributes&logfile.AttrControl != 0 {
			return errf(kerr.InvalidRecord, "clients may not produce control batches")
		}
		if h.Codec() == 0 {
			if err := checkRecords(batch, &h, now, maxTsDiff, nil); err != nil {
				return produceError(err)
			}
		} else if h.Codec() > 4 {
			return errf(kerr.CorruptMessage, "unknown compression codec %d", h.Codec())
		}
		if logAppend {
			logfile.SetLogAppendTime(batch, now)
		}
		pos += int(h.Size())
	}
	info, err := p.Log.AppendValidated(bs)
	if err != nil {
		return produceError(err)
	}
	p.notify()
	ts.metricsIn(b, int64(len(records)), info.Records)
	sp.BaseOffset = info.FirstOffset
	sp.LogStartOffset = info.LogStartOffset
	if logAppend {
		sp.LogAppendTime = now
	}
	return nil
}

func produceError(err error) error {
	switch {
	case errors.Is(err, logfile.ErrBatchTooLarge):
		return errf(kerr.MessageTooLarge, "%v", err)
	case errors.Is(err, logfile.ErrInvalidRecord), errors.Is(err, errRecordFraming):
		return errf(kerr.InvalidRecord, "%v", err)
	case errors.Is(err, errTimestamp):
		return errf(kerr.InvalidTimestamp, "%v", err)
	case errors.Is(err, logfile.ErrCorrupt):
		return errf(kerr.CorruptMessage, "%v", err)
	case errors.Is(err, logfile.ErrClosed):
		return errf(kerr.NotLeaderForPartition, "partition is closing")
	}
	return errf(kerr.KafkaStorageError, "%v", err)
}
