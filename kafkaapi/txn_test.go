package kafkaapi

// The partition side of transactions as clients and coordinators see it:
// Produce with transactional batches, WriteTxnMarkers, read_committed
// Fetch and ListOffsets, and transactional offsets completed by markers.

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/coordinator/group"
	"samsa/record"
)

// txnBatch is a transactional batch of n records of producer pid.
func txnBatch(pid int64, epoch int16, seq int32, n int) []byte {
	return makeBatch(batchSpec{records: n, idempotent: true, producerID: pid, producerEpoch: epoch, sequence: seq, attributes: record.AttrTransactional})
}

// txnProduce produces one transactional batch with transactional id "txn".
func (b *testBroker) txnProduce(topic string, partition int32, records []byte) kmsg.ProduceResponseTopicPartition {
	b.t.Helper()
	req := produceRequest(1, topic, partition, records)
	req.TransactionID = kmsg.StringPtr("txn")
	return do[*kmsg.ProduceResponse](b, 9, req).Topics[0].Partitions[0]
}

// markers is a WriteTxnMarkers request of one marker of producer pid for
// the partitions of topic.
func markers(pid int64, epoch int16, coordinatorEpoch int32, commit bool, topic string, partitions ...int32) *kmsg.WriteTxnMarkersRequest {
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID, m.ProducerEpoch, m.CoordinatorEpoch, m.Committed = pid, epoch, coordinatorEpoch, commit
	mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
	mt.Topic, mt.Partitions = topic, partitions
	m.Topics = append(m.Topics, mt)
	req.Markers = append(req.Markers, m)
	return req
}

// markerCodes flattens a WriteTxnMarkers answer: topic-partition to code.
func markerCodes(resp *kmsg.WriteTxnMarkersResponse) map[string]int16 {
	out := map[string]int16{}
	for _, m := range resp.Markers {
		for _, t := range m.Topics {
			for _, p := range t.Partitions {
				out[t.Topic+"-"+string(rune('0'+p.Partition))] = p.ErrorCode
			}
		}
	}
	return out
}

// TestTransactionalProduceErrors: transactional batches need a
// transactional id and one producer per request; a transactional id with
// plain batches is no error; a producer inside its transaction cannot
// write plain batches.
func TestTransactionalProduceErrors(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 2, nil)
	plain := produceRequest(1, "t", 0, makeBatch(batchSpec{records: 1}))
	plain.TransactionID = kmsg.StringPtr("txn")
	if p := do[*kmsg.ProduceResponse](b, 9, plain).Topics[0].Partitions[0]; p.ErrorCode != 0 {
		t.Fatalf("plain batch with a transactional id: %+v", p)
	}
	if p := b.produce(9, 1, "t", 0, txnBatch(5, 0, 0, 1)); p.ErrorCode != kerr.TransactionalIDAuthorizationFailed.Code {
		t.Fatalf("transactional batch without a transactional id: %d", p.ErrorCode)
	}
	two := produceRequest(1, "t", 0, txnBatch(5, 0, 0, 1))
	two.TransactionID = kmsg.StringPtr("txn")
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = 1, txnBatch(6, 0, 0, 1)
	two.Topics[0].Partitions = append(two.Topics[0].Partitions, rp)
	for _, p := range do[*kmsg.ProduceResponse](b, 9, two).Topics[0].Partitions {
		wantCode(t, "two producers in one request", p.ErrorCode, kerr.InvalidProducerIDMapping)
	}
	if p := b.txnProduce("t", 0, txnBatch(5, 0, 0, 2)); p.ErrorCode != 0 || p.BaseOffset != 1 {
		t.Fatalf("transactional produce: %+v", p)
	}
	p := b.produce(9, 1, "t", 0, makeBatch(batchSpec{records: 1, idempotent: true, producerID: 5, sequence: 2}))
	wantCode(t, "plain batch inside the transaction", p.ErrorCode, kerr.InvalidTxnState)
}

// TestWriteTxnMarkersStandalone: a standalone broker refuses the request
// from the network; its own coordinator's markers, in process, end
// transactions with Kafka's fencing codes (and acks=all's
// NOT_ENOUGH_REPLICAS), and read_committed consumers
// then see the committed records and the aborted transactions to drop.
func TestWriteTxnMarkersStandalone(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 1, nil)
	b.createTopic("minisr", 1, map[string]string{"min.insync.replicas": "2"})
	for _, v := range []int16{0, 1} {
		resp := do[*kmsg.WriteTxnMarkersResponse](b, v, markers(5, 0, 0, true, "t", 0))
		if got := markerCodes(resp); got["t-0"] != kerr.ClusterAuthorizationFailed.Code || len(resp.Markers) != 1 || resp.Markers[0].ProducerID != 5 {
			t.Fatalf("v%d from the network: %+v", v, resp)
		}
	}
	if p := b.txnProduce("t", 0, txnBatch(5, 0, 0, 2)); p.ErrorCode != 0 { // 0-1
		t.Fatal(p)
	}
	if p := b.txnProduce("t", 0, txnBatch(6, 0, 0, 2)); p.ErrorCode != 0 { // 2-3
		t.Fatal(p)
	}
	ctx := context.Background()
	if got := markerCodes(b.h.WriteTxnMarkers(ctx, markers(5, 0, 3, false, "t", 0))); got["t-0"] != 0 { // 4: abort
		t.Fatalf("abort: %v", got)
	}
	for _, c := range []struct {
		name  string
		req   *kmsg.WriteTxnMarkersRequest
		want  *kerr.Error
		where string
	}{
		{"a zombie coordinator", markers(5, 0, 2, true, "t", 0), kerr.TransactionCoordinatorFenced, "t-0"},
		{"an older producer epoch", markers(6, -1, 3, true, "t", 0), kerr.InvalidProducerEpoch, "t-0"},
		{"an unknown topic", markers(6, 0, 3, true, "nope", 0), kerr.UnknownTopicOrPartition, "nope-0"},
		{"an unknown partition", markers(6, 0, 3, true, "t", 4), kerr.UnknownTopicOrPartition, "t-4"},
		{"below min.insync.replicas", markers(6, 0, 3, true, "minisr", 0), kerr.NotEnoughReplicas, "minisr-0"},
	} {
		wantCode(t, c.name, markerCodes(b.h.WriteTxnMarkers(ctx, c.req))[c.where], c.want)
	}

	// Producer 6 is still open at 2: read_committed stops there.
	req := fetchRequest("t", 0, 0)
	req.IsolationLevel = 1
	p := b.fetchOne(12, req)
	if p.LastStableOffset != 2 || p.HighWatermark != 5 || len(p.AbortedTransactions) != 1 || p.AbortedTransactions[0].ProducerID != 5 {
		t.Fatalf("read_committed fetch with producer 6 open: LSO %d HW %d aborted %+v", p.LastStableOffset, p.HighWatermark, p.AbortedTransactions)
	}
	if lo := b.listOffset(5, "t", 0, -1, -1); lo.Offset != 5 {
		t.Fatalf("ListOffsets read_uncommitted: %+v", lo)
	}
	lreq := listOffsetsRequest("t", 0, -1, -1)
	lreq.IsolationLevel = 1
	if lo := do[*kmsg.ListOffsetsResponse](b, 5, lreq).Topics[0].Partitions[0]; lo.Offset != 2 {
		t.Fatalf("ListOffsets read_committed: %+v", lo)
	}

	if got := markerCodes(b.h.WriteTxnMarkers(ctx, markers(6, 0, 3, true, "t", 0))); got["t-0"] != 0 { // 5: commit
		t.Fatalf("commit: %v", got)
	}
	// At every version, read_committed gets all of it below the new last
	// stable offset with producer 5's abort; read_uncommitted a null list.
	for v := int16(4); v <= 12; v++ {
		p := b.fetchOne(v, req)
		if p.LastStableOffset != 6 || p.HighWatermark != 6 || len(p.RecordBatches) == 0 {
			t.Fatalf("v%d read_committed: LSO %d HW %d, %d bytes", v, p.LastStableOffset, p.HighWatermark, len(p.RecordBatches))
		}
		want := []kmsg.FetchResponseTopicPartitionAbortedTransaction{{ProducerID: 5, FirstOffset: 0}}
		if len(p.AbortedTransactions) != 1 || p.AbortedTransactions[0].ProducerID != want[0].ProducerID || p.AbortedTransactions[0].FirstOffset != 0 {
			t.Fatalf("v%d aborted transactions %+v", v, p.AbortedTransactions)
		}
		un := b.fetchOne(v, fetchRequest("t", 0, 0))
		if un.AbortedTransactions != nil || un.LastStableOffset != 6 {
			t.Fatalf("v%d read_uncommitted: aborted %+v LSO %d", v, un.AbortedTransactions, un.LastStableOffset)
		}
	}
	// The control batches are in the data, as Kafka sends them.
	p = b.fetchOne(12, req)
	var batches []kmsg.RecordBatch
	for rest := p.RecordBatches; len(rest) > 0; {
		var rb kmsg.RecordBatch
		if err := rb.ReadFrom(rest); err != nil {
			t.Fatal(err)
		}
		batches = append(batches, rb)
		rest = rest[12+rb.Length:]
	}
	control := 0
	for _, rb := range batches {
		if rb.Attributes&0x30 == 0x30 {
			control++
		}
	}
	if len(batches) != 4 || control != 2 {
		t.Fatalf("%d batches, %d of them markers; want 4 and 2", len(batches), control)
	}
	if lo := do[*kmsg.ListOffsetsResponse](b, 5, lreq).Topics[0].Partitions[0]; lo.Offset != 6 {
		t.Fatalf("ListOffsets read_committed after the commit: %+v", lo)
	}
}

// TestWriteTxnMarkersCluster: in cluster mode another broker's
// coordinator sends the request; a follower's partition is
// NOT_LEADER_OR_FOLLOWER, and a marker is answered once the in-sync
// replicas have it.
func TestWriteTxnMarkersCluster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl := &fakeCluster{epoch: 100, controllerID: 1}
		b := newClusterBroker(t, cl, nil)
		b.leaderAndIsr("led", 0, 0, 5, []int32{0, 1}, []int32{0, 1})
		b.leaderAndIsr("followed", 0, 1, 5, []int32{1, 0}, []int32{1, 0})
		resp := do[*kmsg.WriteTxnMarkersResponse](b, 1, markers(5, 0, 0, true, "followed", 0))
		wantCode(t, "marker on a follower", markerCodes(resp)["followed-0"], kerr.NotLeaderForPartition)

		answered := make(chan *kmsg.WriteTxnMarkersResponse, 1)
		coordinator := b.client()
		go func() {
			answered <- do[*kmsg.WriteTxnMarkersResponse](coordinator, 1, markers(5, 0, 0, true, "led", 0))
		}()
		synctest.Wait()
		select {
		case r := <-answered:
			t.Fatalf("answered before the follower had the marker: %+v", r)
		default:
		}
		// The follower fetches past the marker (offset 0): the high
		// watermark passes it.
		freq := fetchRequest("led", 0, 1)
		freq.ReplicaID = 1
		b.client().fetchOne(12, freq)
		r := <-answered
		wantCode(t, "marker replicated", markerCodes(r)["led-0"], nil)
	})
}

// TestReadCommittedLongPollWakesOnCommit: a read_committed fetch parked
// behind an open transaction is answered when the commit marker makes
// the records stable, not at max_wait.
func TestReadCommittedLongPollWakesOnCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newTestBroker(t, nil)
		b.createTopic("t", 1, nil)
		if p := b.txnProduce("t", 0, txnBatch(5, 0, 0, 2)); p.ErrorCode != 0 {
			t.Fatal(p)
		}
		req := fetchRequest("t", 0, 0)
		req.MaxWaitMillis, req.MinBytes, req.IsolationLevel = 10_000, 1, 1
		answered := make(chan kmsg.FetchResponseTopicPartition, 1)
		consumer := b.client()
		go func() { answered <- consumer.fetchOne(12, req) }()
		synctest.Wait() // parked: nothing stable to read
		start := time.Now()
		if got := markerCodes(b.h.WriteTxnMarkers(context.Background(), markers(5, 0, 0, true, "t", 0))); got["t-0"] != 0 {
			t.Fatal(got)
		}
		p := <-answered
		if waited := time.Since(start); waited != 0 {
			t.Errorf("the commit woke the fetch after %v", waited)
		}
		if p.LastStableOffset != 3 || len(p.RecordBatches) == 0 {
			t.Fatalf("woken fetch: LSO %d, %d bytes", p.LastStableOffset, len(p.RecordBatches))
		}
	})
}

// TestMarkersCompleteTransactionalOffsets: a marker written to a
// partition of __consumer_offsets completes the producer's pending
// offsets: OffsetFetch with require_stable answers UNSTABLE_OFFSET_COMMIT
// before, the offset after the commit.
func TestMarkersCompleteTransactionalOffsets(t *testing.T) {
	synctest.Test(t, testMarkersCompleteTransactionalOffsets)
}

func testMarkersCompleteTransactionalOffsets(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 1, nil)
	wantCode(t, "FindCoordinator", do[*kmsg.FindCoordinatorResponse](b, 3, findCoordinatorRequest(0, "g")).ErrorCode, nil)
	synctest.Wait() // the partition of __consumer_offsets is loaded
	codes := b.groups.CommitTxnOffsets(group.TxnCommit{Group: "g", ProducerID: 9, Generation: -1,
		Offsets: []group.TxnOffset{{Topic: "t", Partition: 0, Offset: 42, LeaderEpoch: -1}}})
	if codes[0] != nil {
		t.Fatal(codes)
	}
	fetch := func() kmsg.OffsetFetchResponseTopicPartition {
		req := kmsg.NewPtrOffsetFetchRequest()
		req.Group, req.RequireStable = "g", true
		rt := kmsg.NewOffsetFetchRequestTopic()
		rt.Topic, rt.Partitions = "t", []int32{0}
		req.Topics = append(req.Topics, rt)
		return do[*kmsg.OffsetFetchResponse](b, 7, req).Topics[0].Partitions[0]
	}
	wantCode(t, "pending offset", fetch().ErrorCode, kerr.UnstableOffsetCommit)
	resp := b.h.WriteTxnMarkers(context.Background(), markers(9, 0, 0, true, offsetsTopic, 0))
	if got := markerCodes(resp); got[offsetsTopic+"-0"] != 0 {
		t.Fatal(got)
	}
	if p := fetch(); p.ErrorCode != 0 || p.Offset != 42 {
		t.Fatalf("after the commit marker: %+v", p)
	}
	if !slices.Contains(b.rm.TopicNames(), offsetsTopic) {
		t.Fatal("no offsets topic")
	}
}

// refusingVerifier is a transaction coordinator that answers every
// partition of every verification with code, or err for the whole
// request.
type refusingVerifier struct {
	code int16
	err  error
}

func (v refusingVerifier) VerifyTxn(_ context.Context, _ string, _ int64, _ int16, parts map[string][]int32) (map[string]map[int32]int16, error) {
	if v.err != nil {
		return nil, v.err
	}
	out := map[string]map[int32]int16{}
	for t, ps := range parts {
		out[t] = map[int32]int16{}
		for _, p := range ps {
			out[t][p] = v.code
		}
	}
	return out, nil
}

// TestTransactionalProduceVerification: KIP-890 part 1 as a producer sees
// it: a first transactional batch the coordinator does not know of is
// INVALID_TXN_STATE (the late produce of an aborted transaction), a
// fenced producer INVALID_PRODUCER_EPOCH, a coordinator that cannot
// answer NOT_ENOUGH_REPLICAS (retried by every client); nothing is
// written.
func TestTransactionalProduceVerification(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 1, nil)
	for _, c := range []struct {
		name string
		v    refusingVerifier
		want *kerr.Error
	}{
		{"not in the transaction", refusingVerifier{code: kerr.InvalidTxnState.Code}, kerr.InvalidTxnState},
		{"producer fenced", refusingVerifier{code: kerr.ProducerFenced.Code}, kerr.InvalidProducerEpoch},
		{"coordinator loading", refusingVerifier{err: kerr.CoordinatorLoadInProgress}, kerr.NotEnoughReplicas},
		{"coordinator moved", refusingVerifier{code: kerr.NotCoordinator.Code}, kerr.NotEnoughReplicas},
	} {
		b.rm.SetTxnVerifier(c.v)
		p := b.txnProduce("t", 0, txnBatch(5, 0, 0, 1))
		wantCode(t, c.name, p.ErrorCode, c.want)
		if p.ErrorMessage == nil || *p.ErrorMessage == "" || p.BaseOffset != -1 {
			t.Errorf("%s: %+v", c.name, p)
		}
	}
	if lo := b.listOffset(5, "t", 0, -1, -1); lo.Offset != 0 {
		t.Fatalf("refused produces wrote: end %d", lo.Offset)
	}
	b.rm.SetTxnVerifier(nil)
	if p := b.txnProduce("t", 0, txnBatch(5, 0, 0, 1)); p.ErrorCode != 0 {
		t.Fatalf("verified produce: %+v", p)
	}
}
