package itest

// The partition side of transactions (KIP-98) against the real broker:
// transactional batches produced by hand with a transactional id,
// transactions ended by WriteTxnMarkers sent by hand as a coordinator
// would send them (in ZooKeeper mode, where other brokers may), and
// franz-go consumers at both isolation levels. The transaction
// coordinator is another stage's: these tests drive its side by hand.

import (
	"encoding/binary"
	"hash/crc32"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// txnBatchBytes is a transactional batch of producer pid/epoch with n
// records of tag from sequence seq.
func txnBatchBytes(t testing.TB, pid int64, epoch int16, seq int32, n int, tag string) []byte {
	t.Helper()
	b := idemBatch(t, pid, epoch, seq, n, tag, "")
	b[22] |= 0x10 // attributes bit 4: transactional
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

// txnProduce sends a transactional batch with a transactional id and
// returns the partition's error code and base offset.
func (c *rawConn) txnProduce(t testing.TB, topic string, records []byte) (int16, int64) {
	t.Helper()
	req := produceRequest(9, topic, 0, records)
	req.TransactionID = kmsg.StringPtr("itest-txn")
	p := c.roundTrip(t, req).(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	return p.ErrorCode, p.BaseOffset
}

// writeMarker sends WriteTxnMarkers v1 for partition 0 of topic and
// returns the partition's error code.
func (c *rawConn) writeMarker(t testing.TB, topic string, pid int64, epoch int16, commit bool) int16 {
	t.Helper()
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	req.SetVersion(1)
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID, m.ProducerEpoch, m.Committed = pid, epoch, commit
	mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
	mt.Topic, mt.Partitions = topic, []int32{0}
	m.Topics = append(m.Topics, mt)
	req.Markers = append(req.Markers, m)
	resp := c.roundTrip(t, req).(*kmsg.WriteTxnMarkersResponse)
	return resp.Markers[0].Topics[0].Partitions[0].ErrorCode
}

// latestOffset asks ListOffsets v5 for partition 0's latest offset at an
// isolation level (1: read_committed).
func (c *rawConn) latestOffset(t testing.TB, topic string, isolation int8) int64 {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	req.SetVersion(5)
	req.ReplicaID, req.IsolationLevel = -1, isolation
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp, rp.CurrentLeaderEpoch = -1, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	p := c.roundTrip(t, req).(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		t.Fatalf("ListOffsets isolation %d: %v", isolation, kerr.ErrorForCode(p.ErrorCode))
	}
	return p.Offset
}

// consumeUntil polls cl until it has every value of want, or fails at
// the deadline; it returns the values it got, in order.
func consumeUntil(t testing.TB, cl *kgo.Client, want []string) []string {
	t.Helper()
	var got []string
	c := ctx(t)
	for !containsAll(got, want) {
		fs := cl.PollFetches(c)
		if c.Err() != nil {
			t.Fatalf("consumed %q, still waiting for %q", got, want)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Logf("fetch %s-%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}

func containsAll(got, want []string) bool {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}

// TestTxnReadCommitted: on a ZooKeeper-mode broker, two transactions and
// plain records are produced; a coordinator's markers commit one and abort
// the other, and a third stays open. A read_committed franz-go consumer
// sees the plain records and the committed transaction only, nothing of
// the aborted one, and nothing past the open one until its commit; a
// read_uncommitted consumer sees everything; ListOffsets answers the last
// stable offset for read_committed.
func TestTxnReadCommitted(t *testing.T) {
	c := startCluster(t, 1, clusterOpts{})
	b := c.broker(1)
	c.createTopic(b, "txn", 1, nil)
	pidA, epochA := b.newProducerID(t)
	pidB, epochB := b.newProducerID(t)
	pidC, epochC := b.newProducerID(t)
	conn := b.dial(t)
	produce := func(records []byte) int64 {
		t.Helper()
		code, base := conn.txnProduce(t, "txn", records)
		if code != 0 {
			t.Fatalf("produce: %v", kerr.ErrorForCode(code))
		}
		return base
	}
	produce(batch{records: simpleRecords(2, "plain")}.encode(t)) // 0-1
	produce(txnBatchBytes(t, pidA, epochA, 0, 3, "a"))           // 2-4
	produce(txnBatchBytes(t, pidB, epochB, 0, 2, "b"))           // 5-6
	for _, m := range []struct {
		pid    int64
		epoch  int16
		commit bool
	}{{pidA, epochA, true}, {pidB, epochB, false}} { // 7, 8
		if code := conn.writeMarker(t, "txn", m.pid, m.epoch, m.commit); code != 0 {
			t.Fatalf("marker of producer %d: %v", m.pid, kerr.ErrorForCode(code))
		}
	}
	openAt := produce(txnBatchBytes(t, pidC, epochC, 0, 1, "c")) // 9
	if lso := conn.latestOffset(t, "txn", 1); lso != openAt {
		t.Fatalf("ListOffsets read_committed: %d, want the open transaction's first offset %d", lso, openAt)
	}
	if hw := conn.latestOffset(t, "txn", 0); hw != openAt+1 {
		t.Fatalf("ListOffsets read_uncommitted: %d, want %d", hw, openAt+1)
	}

	committed := c.client(t, []string{b.addr}, kgo.ConsumeTopics("txn"), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	want := append(valuesOf("plain", 2), valuesOf("a", 3)...)
	got := consumeUntil(t, committed, want)
	// One fetch brings offsets 0-8: the aborted records came with it.
	if !slices.Equal(got, want) {
		t.Fatalf("read_committed consumed %q, want %q", got, want)
	}

	uncommitted := c.client(t, []string{b.addr}, kgo.ConsumeTopics("txn"), kgo.FetchIsolationLevel(kgo.ReadUncommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	all := append(append(append(valuesOf("plain", 2), valuesOf("a", 3)...), valuesOf("b", 2)...), valuesOf("c", 1)...)
	if got := consumeUntil(t, uncommitted, all); !slices.Equal(got, all) {
		t.Fatalf("read_uncommitted consumed %q, want %q", got, all)
	}

	// The open transaction commits: the read_committed consumer, parked
	// at the last stable offset, gets its record.
	if code := conn.writeMarker(t, "txn", pidC, epochC, true); code != 0 {
		t.Fatalf("commit of producer %d: %v", pidC, kerr.ErrorForCode(code))
	}
	if got := consumeUntil(t, committed, valuesOf("c", 1)); !slices.Equal(got, valuesOf("c", 1)) {
		t.Fatalf("after the commit, read_committed consumed %q", got)
	}
	if lso := conn.latestOffset(t, "txn", 1); lso != openAt+2 {
		t.Fatalf("ListOffsets read_committed after the commit: %d, want %d", lso, openAt+2)
	}
}

// TestTxnMarkersStandalone: a standalone broker takes transactional
// batches but refuses WriteTxnMarkers from the network: only its own
// coordinator writes markers, in process.
func TestTxnMarkersStandalone(t *testing.T) {
	b := startBroker(t)
	if resp, err := b.admin(t).CreateTopic(ctx(t), 1, 1, nil, "txn"); err != nil || resp.Err != nil {
		t.Fatalf("create topic: %v %v", err, resp.Err)
	}
	pid, epoch := b.newProducerID(t)
	conn := b.dial(t)
	if code, _ := conn.txnProduce(t, "txn", txnBatchBytes(t, pid, epoch, 0, 1, "x")); code != 0 {
		t.Fatalf("transactional produce: %v", kerr.ErrorForCode(code))
	}
	if code := conn.writeMarker(t, "txn", pid, epoch, true); code != kerr.ClusterAuthorizationFailed.Code {
		t.Fatalf("WriteTxnMarkers from a client of a standalone broker: %v", kerr.ErrorForCode(code))
	}
	if lso := conn.latestOffset(t, "txn", 1); lso != 0 {
		t.Fatalf("ListOffsets read_committed with the transaction open: %d", lso)
	}
}
