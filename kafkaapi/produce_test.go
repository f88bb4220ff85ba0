package kafkaapi

import (
	"encoding/binary"
	"hash/crc32"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/record"
)

// batchSpec is a RecordBatch v2 for a produce.
type batchSpec struct {
	records   int
	noKeys    bool  // records without keys (refused by compacted topics)
	timestamp int64 // of the first record; 0: now
	valueSize int
	// Idempotent producers: producer id, epoch and base sequence.
	idempotent    bool
	producerID    int64
	producerEpoch int16
	sequence      int32
	attributes    int16
}

func makeBatch(s batchSpec) []byte {
	ts := s.timestamp
	if ts == 0 {
		ts = time.Now().UnixMilli()
	}
	b := record.NewBuilder(ts)
	b.Header.Attributes = s.attributes
	if s.idempotent {
		b.Header.ProducerID, b.Header.ProducerEpoch, b.Header.BaseSequence = s.producerID, s.producerEpoch, s.sequence
	}
	for i := range max(s.records, 1) {
		var key []byte
		if !s.noKeys {
			key = []byte{'k', byte('0' + i)}
		}
		b.Add(ts+int64(i), key, make([]byte, s.valueSize))
	}
	out, err := b.AppendTo(nil)
	if err != nil {
		panic(err) // uncompressed: cannot fail
	}
	return out
}

// TestProduceErrors: each way a produce fails, with Kafka's code per
// partition, the offsets unset (-1), and (v8+) a message.
func TestProduceErrors(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 1, nil)
	b.createTopic("small", 1, map[string]string{"max.message.bytes": "200"})
	b.createTopic("minisr", 1, map[string]string{"min.insync.replicas": "2"})
	b.createTopic("compacted", 1, map[string]string{"cleanup.policy": "compact"})
	b.createTopic("recent", 1, map[string]string{"message.timestamp.difference.max.ms": "60000"})
	// __consumer_offsets, as the first FindCoordinator creates it.
	wantCode(t, "FindCoordinator", do[*kmsg.FindCoordinatorResponse](b, 3, findCoordinatorRequest(0, "g")).ErrorCode, nil)

	good := makeBatch(batchSpec{records: 2})
	corrupt := slices.Clone(good)
	corrupt[len(corrupt)-1] ^= 0xff // a record byte: the CRC no longer matches
	twoBatches := append(slices.Clone(good), good...)
	// A message set v1 (magic 1), as producers before Kafka 0.11 write it:
	// offset, size, then crc, magic, attributes, timestamp, key, value.
	// Its value makes it at least as long as a v2 batch header.
	msg := []byte{1, 0} // magic 1, attributes 0
	msg = binary.BigEndian.AppendUint64(msg, uint64(time.Now().UnixMilli()))
	msg = binary.BigEndian.AppendUint32(msg, 0xffffffff) // null key
	msg = binary.BigEndian.AppendUint32(msg, 40)
	msg = append(msg, make([]byte, 40)...)
	msg = append(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(msg)), msg...)
	magic1 := append(binary.BigEndian.AppendUint32(make([]byte, 8), uint32(len(msg))), msg...)
	unknownCodec := slices.Clone(good)
	unknownCodec[22] |= 5 // attributes, low byte: codec 5
	record.SetCRC(unknownCodec)

	for _, c := range []struct {
		name    string
		version int16
		acks    int16
		topic   string
		part    int32
		records []byte
		txnID   bool
		want    *kerr.Error
	}{
		{"unknown topic", 9, 1, "nope", 0, good, false, kerr.UnknownTopicOrPartition},
		{"unknown partition", 9, 1, "t", 1, good, false, kerr.UnknownTopicOrPartition},
		{"negative partition", 9, 1, "t", -1, good, false, kerr.UnknownTopicOrPartition},
		{"corrupt batch", 9, 1, "t", 0, corrupt, false, kerr.CorruptMessage},
		{"corrupt batch v2", 2, 1, "t", 0, corrupt, false, kerr.CorruptMessage},
		{"truncated batch", 9, 1, "t", 0, good[:len(good)-3], false, kerr.CorruptMessage},
		{"batch over max.message.bytes", 9, 1, "small", 0, makeBatch(batchSpec{records: 1, valueSize: 300}), false, kerr.MessageTooLarge},
		{"acks 2", 9, 2, "t", 0, good, false, kerr.InvalidRequiredAcks},
		{"acks -2", 3, -2, "t", 0, good, false, kerr.InvalidRequiredAcks},
		{"acks=all below min.insync.replicas", 9, -1, "minisr", 0, good, false, kerr.NotEnoughReplicas},
		{"two batches in v3+", 9, 1, "t", 0, twoBatches, false, kerr.InvalidRecord},
		{"no batch in v3+", 9, 1, "t", 0, nil, false, kerr.InvalidRecord},
		{"control batch", 9, 1, "t", 0, makeBatch(batchSpec{records: 1, attributes: record.AttrControl}), false, kerr.InvalidRecord},
		{"internal topic", 9, 1, "__consumer_offsets", 0, good, false, kerr.InvalidTopicException},
		{"unknown codec", 9, 1, "t", 0, unknownCodec, false, kerr.CorruptMessage},
		// The old formats are not converted (v0-v2 are served for clients
		// that infer features from the versions listed).
		{"magic 1 in v2", 2, 1, "t", 0, magic1, false, kerr.UnsupportedForMessageFormat},
		{"magic 1 in v3+", 9, 1, "t", 0, magic1, false, kerr.InvalidRecord},
	} {
		req := produceRequest(c.acks, c.topic, c.part, c.records)
		if c.txnID {
			req.TransactionID = kmsg.StringPtr("txn")
		}
		resp := do[*kmsg.ProduceResponse](b, c.version, req)
		p := resp.Topics[0].Partitions[0]
		if resp.Topics[0].Topic != c.topic || p.Partition != c.part {
			t.Errorf("%s: answered for %s-%d", c.name, resp.Topics[0].Topic, p.Partition)
		}
		wantCode(t, c.name, p.ErrorCode, c.want)
		if p.BaseOffset != -1 || p.LogAppendTime != -1 || (c.version >= 5 && p.LogStartOffset != -1) {
			t.Errorf("%s: offsets %d/%d/%d, want -1", c.name, p.BaseOffset, p.LogAppendTime, p.LogStartOffset)
		}
		if c.version >= 8 && (p.ErrorMessage == nil || *p.ErrorMessage == "") {
			t.Errorf("%s: no error message", c.name)
		}
	}

	// Nothing of the failed produces was written; acks=1 still works.
	if p := b.produce(9, 1, "minisr", 0, good); p.ErrorCode != 0 || p.BaseOffset != 0 {
		t.Errorf("acks=1 to minisr: %+v", p)
	}
	if p := b.produce(9, 1, "t", 0, good); p.ErrorCode != 0 || p.BaseOffset != 0 || p.LogStartOffset != 0 || p.LogAppendTime != -1 {
		t.Errorf("first append to t: %+v", p)
	}
}

// TestProduceRecordErrors: a batch refused for some of its records names
// them (KIP-467, v8+): INVALID_RECORD for records without a key on a
// compacted topic, INVALID_TIMESTAMP for timestamps out of range; older
// versions get the code alone.
func TestProduceRecordErrors(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("compacted", 1, map[string]string{"cleanup.policy": "compact"})
	b.createTopic("recent", 1, map[string]string{"message.timestamp.difference.max.ms": "60000"})

	p := b.produce(9, 1, "compacted", 0, makeBatch(batchSpec{records: 3, noKeys: true}))
	wantCode(t, "keyless records on a compacted topic", p.ErrorCode, kerr.InvalidRecord)
	if len(p.ErrorRecords) != 3 {
		t.Fatalf("record errors %+v, want 3", p.ErrorRecords)
	}
	for i, r := range p.ErrorRecords {
		if r.RelativeOffset != int32(i) || r.ErrorMessage == nil || !strings.Contains(*r.ErrorMessage, "Compacted topic cannot accept message without key") {
			t.Errorf("record error %d: %d %v", i, r.RelativeOffset, r.ErrorMessage)
		}
	}
	if p.ErrorMessage == nil || !strings.Contains(*p.ErrorMessage, "3 record errors") {
		t.Errorf("error message %v", p.ErrorMessage)
	}

	p = b.produce(7, 1, "compacted", 0, makeBatch(batchSpec{records: 3, noKeys: true}))
	wantCode(t, "keyless records, v7", p.ErrorCode, kerr.InvalidRecord)
	if len(p.ErrorRecords) != 0 {
		t.Errorf("v7 has no record errors, got %+v", p.ErrorRecords)
	}

	old := time.Now().Add(-time.Hour).UnixMilli()
	p = b.produce(9, 1, "recent", 0, makeBatch(batchSpec{records: 2, timestamp: old}))
	wantCode(t, "timestamps an hour old", p.ErrorCode, kerr.InvalidTimestamp)
	if len(p.ErrorRecords) != 2 || p.ErrorRecords[1].RelativeOffset != 1 || !strings.Contains(*p.ErrorRecords[1].ErrorMessage, "out of range") {
		t.Errorf("record errors %+v", p.ErrorRecords)
	}
	// A compacted topic takes records with keys.
	if p := b.produce(9, 1, "compacted", 0, makeBatch(batchSpec{records: 3})); p.ErrorCode != 0 || p.BaseOffset != 0 {
		t.Errorf("keyed records on a compacted topic: %+v", p)
	}
}

// TestProduceAcksZero: acks=0 gets no answer, and a failed acks=0
// produce closes the connection (no response can carry its error), as in
// Kafka.
func TestProduceAcksZero(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 1, nil)
	req := produceRequest(0, "t", 0, makeBatch(batchSpec{records: 1}))
	req.SetVersion(9)
	if _, closed := b.send(req, true); closed {
		t.Fatal("a good acks=0 produce closed the connection")
	}
	req = produceRequest(0, "nope", 0, makeBatch(batchSpec{records: 1}))
	req.SetVersion(9)
	if _, closed := b.send(req, true); !closed {
		t.Fatal("a failed acks=0 produce left the connection open")
	}
	// The first one was written.
	lo := do[*kmsg.ListOffsetsResponse](b, 7, listOffsetsRequest("t", 0, -1, -1))
	if off := lo.Topics[0].Partitions[0].Offset; off != 1 {
		t.Errorf("log end %d after one acks=0 record, want 1", off)
	}
}

// TestProduceIdempotent: KIP-98 through InitProducerId and Produce: a
// retried batch gets its first offsets back without being written twice;
// a gap in sequences is OUT_OF_ORDER_SEQUENCE_NUMBER, an older epoch
// INVALID_PRODUCER_EPOCH, a new epoch must start at sequence 0.
func TestProduceIdempotent(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 1, nil)
	ip := do[*kmsg.InitProducerIDResponse](b, 4, kmsg.NewPtrInitProducerIDRequest())
	wantCode(t, "InitProducerId", ip.ErrorCode, nil)
	if ip.ProducerID < 0 || ip.ProducerEpoch != 0 {
		t.Fatalf("producer id %d epoch %d", ip.ProducerID, ip.ProducerEpoch)
	}
	pid := ip.ProducerID
	batch := func(epoch int16, seq int32, n int) []byte {
		return makeBatch(batchSpec{records: n, idempotent: true, producerID: pid, producerEpoch: epoch, sequence: seq})
	}
	for _, c := range []struct {
		name       string
		records    []byte
		want       *kerr.Error
		baseOffset int64
	}{
		{"first batch", batch(0, 0, 3), nil, 0},
		{"retry of the first batch", batch(0, 0, 3), nil, 0},
		{"next batch", batch(0, 3, 2), nil, 3},
		{"retry of an earlier batch", batch(0, 0, 3), nil, 0},
		{"a gap", batch(0, 9, 1), kerr.OutOfOrderSequenceNumber, -1},
		{"a sequence already passed", batch(0, 4, 1), kerr.OutOfOrderSequenceNumber, -1},
		{"new epoch not at 0", batch(1, 5, 1), kerr.OutOfOrderSequenceNumber, -1},
		{"new epoch", batch(1, 0, 1), nil, 5},
		{"old epoch", batch(0, 5, 1), kerr.InvalidProducerEpoch, -1},
	} {
		p := b.produce(9, -1, "t", 0, c.records)
		wantCode(t, c.name, p.ErrorCode, c.want)
		if p.BaseOffset != c.baseOffset {
			t.Errorf("%s: base offset %d, want %d", c.name, p.BaseOffset, c.baseOffset)
		}
	}
	lo := do[*kmsg.ListOffsetsResponse](b, 7, listOffsetsRequest("t", 0, -1, -1))
	if off := lo.Topics[0].Partitions[0].Offset; off != 6 {
		t.Errorf("log end %d, want 6: retries were written again", off)
	}
}

// TestInitProducerID: IDs are distinct; a transactional ID is refused
// (no transactions yet), as an unauthorized one is in Kafka.
func TestInitProducerID(t *testing.T) {
	b := newTestBroker(t, nil)
	seen := map[int64]bool{}
	for v := int16(0); v <= 4; v++ {
		r := do[*kmsg.InitProducerIDResponse](b, v, kmsg.NewPtrInitProducerIDRequest())
		wantCode(t, "InitProducerId", r.ErrorCode, nil)
		if seen[r.ProducerID] || r.ProducerID < 0 || r.ProducerEpoch != 0 {
			t.Errorf("v%d: producer id %d epoch %d (seen %v)", v, r.ProducerID, r.ProducerEpoch, seen)
		}
		seen[r.ProducerID] = true
	}
	// KIP-360: a producer naming its current ID and epoch gets a new ID.
	bump := kmsg.NewPtrInitProducerIDRequest()
	bump.ProducerID, bump.ProducerEpoch = 0, 0
	if r := do[*kmsg.InitProducerIDResponse](b, 4, bump); r.ErrorCode != 0 || seen[r.ProducerID] || r.ProducerEpoch != 0 {
		t.Errorf("KIP-360 reinitialization: %+v", r)
	}
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionalID = kmsg.StringPtr("txn")
	r := do[*kmsg.InitProducerIDResponse](b, 4, req)
	wantCode(t, "transactional InitProducerId", r.ErrorCode, kerr.TransactionalIDAuthorizationFailed)
	if r.ProducerID != -1 || r.ProducerEpoch != -1 {
		t.Errorf("refused: producer id %d epoch %d, want -1/-1", r.ProducerID, r.ProducerEpoch)
	}
}

// TestProduceClusterErrors: leadership in ZooKeeper mode: a partition this
// broker follows, or one the cluster has but this broker does not host,
// is NOT_LEADER_OR_FOLLOWER; acks=all with too few in-sync replicas is
// NOT_ENOUGH_REPLICAS, and with followers that never fetch it times out
// (REQUEST_TIMED_OUT) at the request's timeout.
func TestProduceClusterErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl := &fakeCluster{epoch: 100, controllerID: 1}
		b := newClusterBroker(t, cl, nil)
		b.createTopic("minisr", 1, map[string]string{"min.insync.replicas": "2"})
		b.leaderAndIsr("followed", 0, 1, 3, []int32{1, 0}, []int32{1, 0})
		b.leaderAndIsr("leaderless", 0, -1, 3, []int32{1, 0}, []int32{0})
		b.setPartition("elsewhere", 0, metadataState(1, 2, 1))
		b.leaderAndIsr("minisr", 0, 0, 1, []int32{0, 1}, []int32{0})
		b.leaderAndIsr("replicated", 0, 0, 1, []int32{0, 1}, []int32{0, 1})
		good := makeBatch(batchSpec{records: 1})
		for _, c := range []struct {
			name  string
			topic string
			acks  int16
			want  *kerr.Error
		}{
			{"a partition this broker follows", "followed", 1, kerr.NotLeaderForPartition},
			{"a partition without a leader", "leaderless", 1, kerr.NotLeaderForPartition},
			{"a partition hosted elsewhere", "elsewhere", 1, kerr.NotLeaderForPartition},
			{"unknown to the cluster", "nope", 1, kerr.UnknownTopicOrPartition},
			{"acks=all, ISR below min.insync.replicas", "minisr", -1, kerr.NotEnoughReplicas},
			{"acks=1, ISR below min.insync.replicas", "minisr", 1, nil},
		} {
			wantCode(t, c.name, b.produce(9, c.acks, c.topic, 0, good).ErrorCode, c.want)
		}

		req := produceRequest(-1, "replicated", 0, good)
		req.TimeoutMillis = 5000
		start := time.Now()
		resp := do[*kmsg.ProduceResponse](b, 9, req)
		p := resp.Topics[0].Partitions[0]
		wantCode(t, "acks=all, a follower that never fetches", p.ErrorCode, kerr.RequestTimedOut)
		if waited := time.Since(start); waited != 5*time.Second {
			t.Errorf("answered after %v, want the request's timeout, 5s", waited)
		}
		// Written all the same, as in Kafka: the leader's log has it.
		if p.BaseOffset != 0 {
			t.Errorf("base offset %d, want 0", p.BaseOffset)
		}
	})
}
