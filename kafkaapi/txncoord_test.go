package kafkaapi

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/config"
	"samsa/metadata"
)

// fakeMarkers stands for the partition side of WriteTxnMarkers: it
// records what the transaction coordinator sends and acknowledges every
// marker, or, once given a handler (writeWith), has it write them.
type fakeMarkers struct {
	mu   sync.Mutex
	sent []string // "broker: commit|abort pid/epoch@coordinatorEpoch topic-partition,..."
	h    *Handler // nil: markers are acknowledged, not written
}

// writeWith makes h write the markers, in process, as a standalone
// server routes them.
func (f *fakeMarkers) writeWith(h *Handler) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.h = h
}

func (f *fakeMarkers) WriteTxnMarkers(ctx context.Context, broker int32, req *kmsg.WriteTxnMarkersRequest) (*kmsg.WriteTxnMarkersResponse, error) {
	resp := kmsg.NewPtrWriteTxnMarkersResponse()
	f.mu.Lock()
	h := f.h
	for _, m := range req.Markers {
		rm := kmsg.NewWriteTxnMarkersResponseMarker()
		rm.ProducerID = m.ProducerID
		var parts []string
		for _, t := range m.Topics {
			rt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				parts = append(parts, fmt.Sprintf("%s-%d", t.Topic, p))
				rp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
				rp.Partition = p
				rt.Partitions = append(rt.Partitions, rp)
			}
			rm.Topics = append(rm.Topics, rt)
		}
		slices.Sort(parts)
		result := map[bool]string{true: "commit", false: "abort"}[m.Committed]
		f.sent = append(f.sent, fmt.Sprintf("%d: %s %d/%d@%d %s", broker, result, m.ProducerID, m.ProducerEpoch, m.CoordinatorEpoch, strings.Join(parts, ",")))
		resp.Markers = append(resp.Markers, rm)
	}
	f.mu.Unlock()
	if h != nil {
		return h.WriteTxnMarkers(ctx, req), nil
	}
	return resp, nil
}

func (f *fakeMarkers) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.sent
	f.sent = nil
	return out
}

func initTxnRequest(id string, timeoutMs int32) *kmsg.InitProducerIDRequest {
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionalID, req.TransactionTimeoutMillis = kmsg.StringPtr(id), timeoutMs
	return req
}

// addPartitionsRequest is AddPartitionsToTxn v0-v3 of one transaction.
func addPartitionsRequest(id string, pid int64, epoch int16, topic string, partitions ...int32) *kmsg.AddPartitionsToTxnRequest {
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch = id, pid, epoch
	rt := kmsg.NewAddPartitionsToTxnRequestTopic()
	rt.Topic, rt.Partitions = topic, partitions
	req.Topics = append(req.Topics, rt)
	return req
}

// v3Codes lists a v0-v3 AddPartitionsToTxn answer as "topic-partition:CODE".
func v3Codes(resp *kmsg.AddPartitionsToTxnResponse) []string {
	var out []string
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			out = append(out, fmt.Sprintf("%s-%d:%s", t.Topic, p.Partition, errName(p.ErrorCode)))
		}
	}
	slices.Sort(out)
	return out
}

func errName(code int16) string {
	if code == 0 {
		return "NONE"
	}
	return kerr.ErrorForCode(code).(*kerr.Error).Message
}

func endTxnRequest(id string, pid int64, epoch int16, commit bool) *kmsg.EndTxnRequest {
	req := kmsg.NewPtrEndTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = id, pid, epoch, commit
	return req
}

// txnBroker is a standalone test broker whose transaction coordinator
// owns __transaction_state (created by FindCoordinator) and topic t of two
// partitions.
func txnBroker(t *testing.T) *testBroker {
	b := newTestBroker(t, nil)
	b.createTopic("t", 2, nil)
	wantCode(t, "FindCoordinator(transaction)", do[*kmsg.FindCoordinatorResponse](b, 3, findCoordinatorRequest(1, "tx")).ErrorCode, nil)
	synctest.Wait() // __transaction_state-0 is loaded
	return b
}

// TestFindCoordinatorTransaction: the first lookup of a transactional id
// creates __transaction_state as Kafka does (transaction.state.log.*:
// compacted, uncompressed, its min ISR capped on a standalone broker) and
// names this broker, which owns its partitions; v0 has no key type.
func TestFindCoordinatorTransaction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newTestBroker(t, nil)
		for v := int16(1); v <= 5; v++ {
			resp := do[*kmsg.FindCoordinatorResponse](b, v, findCoordinatorRequest(1, "tx"))
			code, node := resp.ErrorCode, resp.NodeID
			if v >= 4 {
				code, node = resp.Coordinators[0].ErrorCode, resp.Coordinators[0].NodeID
			}
			wantCode(t, fmt.Sprintf("v%d", v), code, nil)
			if node != b.cfg.BrokerID {
				t.Errorf("v%d: coordinator %d", v, node)
			}
		}
		ts := b.rm.Topic(txnTopic)
		if ts == nil || len(ts.Parts) != 1 || !ts.Meta.Internal {
			t.Fatalf("%s not created as transaction.state.log.num.partitions says", txnTopic)
		}
		c := ts.Config
		if c.CompressionType.String() != "uncompressed" || c.MinInSyncReplicas != 1 || c.SegmentBytes != 104857600 || !c.CleanupPolicy.Compact || c.CleanupPolicy.Delete {
			t.Errorf("%s config %+v", txnTopic, c)
		}
		synctest.Wait()
		if owned, loading := b.txns.Owns(0); !owned || loading {
			t.Errorf("the coordinator owns %v (loading %v) partition 0", owned, loading)
		}
		if _, ok := b.store.Topic(txnTopic); !ok {
			t.Error("not in the metadata store")
		}
	})
}

// TestTransactionAPIs: a transaction from InitProducerId to the markers
// through the handlers, each answer as Kafka's: the partitions and the
// group's partition of __consumer_offsets join it, DescribeTransactions
// and ListTransactions show it, EndTxn writes the markers to this broker
// (in process) and completes it.
func TestTransactionAPIs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := txnBroker(t)
		wantCode(t, "FindCoordinator(group)", do[*kmsg.FindCoordinatorResponse](b, 3, findCoordinatorRequest(0, "g")).ErrorCode, nil)
		init := do[*kmsg.InitProducerIDResponse](b, 4, initTxnRequest("tx", 60000))
		wantCode(t, "InitProducerId", init.ErrorCode, nil)
		pid, epoch := init.ProducerID, init.ProducerEpoch
		if pid < 0 || epoch != 0 {
			t.Fatalf("InitProducerId %d/%d", pid, epoch)
		}
		if got, want := v3Codes(do[*kmsg.AddPartitionsToTxnResponse](b, 3, addPartitionsRequest("tx", pid, epoch, "t", 0, 1))), []string{"t-0:NONE", "t-1:NONE"}; !reflect.DeepEqual(got, want) {
			t.Errorf("AddPartitionsToTxn %v, want %v", got, want)
		}
		unknown := addPartitionsRequest("tx", pid, epoch, "t", 0, 5)
		if got, want := v3Codes(do[*kmsg.AddPartitionsToTxnResponse](b, 3, unknown)), []string{"t-0:OPERATION_NOT_ATTEMPTED", "t-5:UNKNOWN_TOPIC_OR_PARTITION"}; !reflect.DeepEqual(got, want) {
			t.Errorf("AddPartitionsToTxn of an unknown partition %v, want %v", got, want)
		}
		internal := addPartitionsRequest("tx", pid, epoch, offsetsTopic, 0)
		if got, want := v3Codes(do[*kmsg.AddPartitionsToTxnResponse](b, 3, internal)), []string{offsetsTopic + "-0:TOPIC_AUTHORIZATION_FAILED"}; !reflect.DeepEqual(got, want) {
			t.Errorf("AddPartitionsToTxn of an internal topic %v, want %v", got, want)
		}
		ao := kmsg.NewPtrAddOffsetsToTxnRequest()
		ao.TransactionalID, ao.ProducerID, ao.ProducerEpoch, ao.Group = "tx", pid, epoch, "g"
		wantCode(t, "AddOffsetsToTxn", do[*kmsg.AddOffsetsToTxnResponse](b, 3, ao).ErrorCode, nil)

		dt := kmsg.NewPtrDescribeTransactionsRequest()
		dt.TransactionalIDs = []string{"tx", "nope"}
		d := do[*kmsg.DescribeTransactionsResponse](b, 0, dt)
		st := d.TransactionStates[0]
		if st.ErrorCode != 0 || st.State != "Ongoing" || st.ProducerID != pid || st.TimeoutMillis != 60000 || st.StartTimestamp <= 0 || len(st.Topics) != 2 ||
			st.Topics[0].Topic != offsetsTopic || !reflect.DeepEqual(st.Topics[1].Partitions, []int32{0, 1}) {
			t.Errorf("DescribeTransactions %+v", st)
		}
		wantCode(t, "DescribeTransactions of an unknown id", d.TransactionStates[1].ErrorCode, kerr.TransactionalIDNotFound)

		lt := kmsg.NewPtrListTransactionsRequest()
		lt.StateFilters = []string{"Ongoing", "Nonsense"}
		l := do[*kmsg.ListTransactionsResponse](b, 1, lt)
		if l.ErrorCode != 0 || len(l.TransactionStates) != 1 || l.TransactionStates[0].TransactionalID != "tx" || l.TransactionStates[0].TransactionState != "Ongoing" ||
			!reflect.DeepEqual(l.UnknownStateFilters, []string{"Nonsense"}) {
			t.Errorf("ListTransactions %+v", l)
		}

		wantCode(t, "EndTxn", do[*kmsg.EndTxnResponse](b, 3, endTxnRequest("tx", pid, epoch, true)).ErrorCode, nil)
		synctest.Wait()
		want := []string{fmt.Sprintf("0: commit %d/0@0 %s-0,t-0,t-1", pid, offsetsTopic)}
		if got := b.markers.take(); !reflect.DeepEqual(got, want) {
			t.Errorf("markers %q, want %q", got, want)
		}
		if st := do[*kmsg.DescribeTransactionsResponse](b, 0, dt).TransactionStates[0]; st.State != "CompleteCommit" || len(st.Topics) != 0 {
			t.Errorf("after the markers: %+v", st)
		}
		wantCode(t, "EndTxn again", do[*kmsg.EndTxnResponse](b, 3, endTxnRequest("tx", pid, epoch, true)).ErrorCode, nil)
		wantCode(t, "abort after the commit", do[*kmsg.EndTxnResponse](b, 3, endTxnRequest("tx", pid, epoch, false)).ErrorCode, kerr.InvalidTxnState)
	})
}

// TestTransactionErrorsByVersion: PRODUCER_FENCED goes to clients that
// know it (KIP-588: InitProducerId v4+, AddPartitionsToTxn,
// AddOffsetsToTxn and EndTxn v2+); older ones get INVALID_PRODUCER_EPOCH.
// The other coordinator errors as they are.
func TestTransactionErrorsByVersion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := txnBroker(t)
		first := do[*kmsg.InitProducerIDResponse](b, 4, initTxnRequest("tx", 60000))
		pid := first.ProducerID
		do[*kmsg.InitProducerIDResponse](b, 4, initTxnRequest("tx", 60000)) // epoch 1: epoch 0 is fenced
		stale := kmsg.NewPtrInitProducerIDRequest()
		stale.TransactionalID, stale.TransactionTimeoutMillis, stale.ProducerID, stale.ProducerEpoch = kmsg.StringPtr("tx"), 60000, pid, 0
		wantCode(t, "InitProducerId v3, fenced", do[*kmsg.InitProducerIDResponse](b, 3, stale).ErrorCode, kerr.InvalidProducerEpoch)
		wantCode(t, "InitProducerId v4, fenced", do[*kmsg.InitProducerIDResponse](b, 4, stale).ErrorCode, kerr.ProducerFenced)
		for v := int16(0); v <= 5; v++ {
			want := kerr.ProducerFenced
			if v < 2 {
				want = kerr.InvalidProducerEpoch
			}
			if v < 4 {
				resp := do[*kmsg.AddPartitionsToTxnResponse](b, v, addPartitionsRequest("tx", pid, 0, "t", 0))
				wantCode(t, fmt.Sprintf("AddPartitionsToTxn v%d, fenced", v), resp.Topics[0].Partitions[0].ErrorCode, want)
			}
			if v <= 4 {
				ao := kmsg.NewPtrAddOffsetsToTxnRequest()
				ao.TransactionalID, ao.ProducerID, ao.ProducerEpoch, ao.Group = "tx", pid, 0, "g"
				wantCode(t, fmt.Sprintf("AddOffsetsToTxn v%d, fenced", v), do[*kmsg.AddOffsetsToTxnResponse](b, v, ao).ErrorCode, want)
				wantCode(t, fmt.Sprintf("EndTxn v%d, fenced", v), do[*kmsg.EndTxnResponse](b, v, endTxnRequest("tx", pid, 0, true)).ErrorCode, want)
			}
		}
		for _, c := range []struct {
			name string
			req  *kmsg.InitProducerIDRequest
			want *kerr.Error
		}{
			{"timeout above transaction.max.timeout.ms", initTxnRequest("tx", 900001), kerr.InvalidTransactionTimeout},
			{"zero timeout", initTxnRequest("tx", 0), kerr.InvalidTransactionTimeout},
			{"empty transactional id", initTxnRequest("", 1000), kerr.InvalidRequest},
		} {
			wantCode(t, c.name, do[*kmsg.InitProducerIDResponse](b, 4, c.req).ErrorCode, c.want)
		}
		wantCode(t, "EndTxn, no transaction", do[*kmsg.EndTxnResponse](b, 3, endTxnRequest("tx", pid, 1, true)).ErrorCode, kerr.InvalidTxnState)
		wantCode(t, "EndTxn, unknown id", do[*kmsg.EndTxnResponse](b, 3, endTxnRequest("other", pid, 1, true)).ErrorCode, kerr.InvalidProducerIDMapping)
		wantCode(t, "EndTxn, other producer", do[*kmsg.EndTxnResponse](b, 3, endTxnRequest("tx", pid+1, 1, true)).ErrorCode, kerr.InvalidProducerIDMapping)
	})
}

// TestAddPartitionsToTxnBrokers: v4+ batches transactions; a verify-only
// one (KIP-890, a leader asking) is answered per partition without
// changing anything; the others are added.
func TestAddPartitionsToTxnBrokers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := txnBroker(t)
		one := do[*kmsg.InitProducerIDResponse](b, 4, initTxnRequest("one", 60000))
		two := do[*kmsg.InitProducerIDResponse](b, 4, initTxnRequest("two", 60000))
		do[*kmsg.AddPartitionsToTxnResponse](b, 3, addPartitionsRequest("one", one.ProducerID, one.ProducerEpoch, "t", 0))
		req := kmsg.NewPtrAddPartitionsToTxnRequest()
		add := func(id string, pid int64, epoch int16, verify bool, topic string, parts ...int32) {
			tr := kmsg.NewAddPartitionsToTxnRequestTransaction()
			tr.TransactionalID, tr.ProducerID, tr.ProducerEpoch, tr.VerifyOnly = id, pid, epoch, verify
			tt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
			tt.Topic, tt.Partitions = topic, parts
			tr.Topics = append(tr.Topics, tt)
			req.Transactions = append(req.Transactions, tr)
		}
		add("one", one.ProducerID, one.ProducerEpoch, true, "t", 0, 1)
		add("two", two.ProducerID, two.ProducerEpoch, false, "t", 1)
		add("three", 77, 0, true, "t", 0)
		resp := do[*kmsg.AddPartitionsToTxnResponse](b, 4, req)
		var got []string
		for _, tr := range resp.Transactions {
			for _, tt := range tr.Topics {
				for _, p := range tt.Partitions {
					got = append(got, fmt.Sprintf("%s %s-%d:%s", tr.TransactionalID, tt.Topic, p.Partition, errName(p.ErrorCode)))
				}
			}
		}
		want := []string{"one t-0:NONE", "one t-1:TRANSACTION_ABORTABLE", "two t-1:NONE", "three t-0:INVALID_PRODUCER_ID_MAPPING"}
		if resp.ErrorCode != 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("v4: %v (%d), want %v", got, resp.ErrorCode, want)
		}
		d := kmsg.NewPtrDescribeTransactionsRequest()
		d.TransactionalIDs = []string{"one", "two"}
		states := do[*kmsg.DescribeTransactionsResponse](b, 0, d).TransactionStates
		if len(states[0].Topics) != 1 || !reflect.DeepEqual(states[0].Topics[0].Partitions, []int32{0}) || states[1].State != "Ongoing" {
			t.Errorf("verification changed a transaction, or the addition did not: %+v", states)
		}
	})
}

// TestTxnOffsetCommitAPI: offsets committed in a transaction are answered
// per partition and stay invisible to OffsetFetch until the marker.
func TestTxnOffsetCommitAPI(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := txnBroker(t)
		wantCode(t, "FindCoordinator(group)", do[*kmsg.FindCoordinatorResponse](b, 3, findCoordinatorRequest(0, "g")).ErrorCode, nil)
		synctest.Wait()
		req := kmsg.NewPtrTxnOffsetCommitRequest()
		req.TransactionalID, req.Group, req.ProducerID, req.ProducerEpoch, req.Generation = "tx", "g", 5, 0, -1
		for _, topic := range []string{"t", "nope"} {
			rt := kmsg.NewTxnOffsetCommitRequestTopic()
			rt.Topic = topic
			rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
			rp.Offset = 42
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
		}
		for v := int16(0); v <= 4; v++ {
			resp := do[*kmsg.TxnOffsetCommitResponse](b, v, req)
			wantCode(t, fmt.Sprintf("v%d t-0", v), resp.Topics[0].Partitions[0].ErrorCode, nil)
			wantCode(t, fmt.Sprintf("v%d nope-0", v), resp.Topics[1].Partitions[0].ErrorCode, kerr.UnknownTopicOrPartition)
		}
		req.Group = ""
		wantCode(t, "an empty group id", do[*kmsg.TxnOffsetCommitResponse](b, 3, req).Topics[0].Partitions[0].ErrorCode, kerr.InvalidGroupID)
		of := kmsg.NewPtrOffsetFetchRequest()
		of.Group = "g"
		of.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: "t", Partitions: []int32{0}}}
		if o := do[*kmsg.OffsetFetchResponse](b, 5, of).Topics[0].Partitions[0].Offset; o != -1 {
			t.Errorf("a pending offset is visible: %d", o)
		}
		b.groups.CompleteTxn(5, []int32{b.groups.PartitionFor("g")}, true)
		if o := do[*kmsg.OffsetFetchResponse](b, 5, of).Topics[0].Partitions[0].Offset; o != 42 {
			t.Errorf("after the marker: %d", o)
		}
	})
}

// TestDescribeProducers: the producers of a partition's producer state;
// Kafka's errors for partitions it cannot describe.
func TestDescribeProducers(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 1, nil)
	batch := makeBatch(batchSpec{records: 3, idempotent: true, producerID: 9, producerEpoch: 2, sequence: 0})
	wantCode(t, "produce", b.produce(9, -1, "t", 0, batch).ErrorCode, nil)
	req := kmsg.NewPtrDescribeProducersRequest()
	req.Topics = []kmsg.DescribeProducersRequestTopic{{Topic: "t", Partitions: []int32{0, 3}}, {Topic: "nope", Partitions: []int32{0}}}
	resp := do[*kmsg.DescribeProducersResponse](b, 0, req)
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 || len(p.ActiveProducers) != 1 {
		t.Fatalf("t-0: %+v", p)
	}
	if ap := p.ActiveProducers[0]; ap.ProducerID != 9 || ap.ProducerEpoch != 2 || ap.LastSequence != 2 || ap.LastTimestamp <= 0 || ap.CurrentTxnStartOffset != -1 {
		t.Errorf("producer %+v", ap)
	}
	wantCode(t, "t-3", resp.Topics[0].Partitions[1].ErrorCode, kerr.UnknownTopicOrPartition)
	wantCode(t, "nope-0", resp.Topics[1].Partitions[0].ErrorCode, kerr.UnknownTopicOrPartition)
}

// TestTransactionCoordinatorCluster: in ZooKeeper mode the first lookup
// asks for __transaction_state (COORDINATOR_NOT_AVAILABLE meanwhile); the
// coordinator loads a partition when a LeaderAndIsr makes this broker its
// leader, at its leader epoch (the coordinator epoch of its markers), and
// drops it when another makes it a follower (NOT_COORDINATOR).
func TestTransactionCoordinatorCluster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl := &fakeCluster{epoch: 100, controllerID: 1}
		b := newClusterBroker(t, cl, nil) // transaction.state.log.replication.factor 3, one live broker
		wantCode(t, "too few brokers", do[*kmsg.FindCoordinatorResponse](b, 3, findCoordinatorRequest(1, "tx")).ErrorCode, kerr.CoordinatorNotAvailable)
		if _, ok := b.store.Topic(txnTopic); ok {
			t.Fatalf("%s stored without enough brokers", txnTopic)
		}
		b = newClusterBroker(t, cl, map[string]string{"transaction.state.log.replication.factor": "1"})
		wantCode(t, "first lookup", do[*kmsg.FindCoordinatorResponse](b, 3, findCoordinatorRequest(1, "tx")).ErrorCode, kerr.CoordinatorNotAvailable)
		stored, ok := b.store.Topic(txnTopic)
		if !ok || stored.Configs[config.KeyMinInSyncReplicas] != "1" {
			t.Fatalf("%s stored as %+v", txnTopic, stored)
		}
		b.createTopic("t", 1, nil)
		wantCode(t, "LeaderAndIsr t", do[*kmsg.LeaderAndISRResponse](b, 6, leaderAndIsrRequest(100, "t", 0, 0, 1, []int32{0}, []int32{0})).ErrorCode, nil)
		b.setPartition("t", 0, metadataState(0, 1, 0))
		lai := do[*kmsg.LeaderAndISRResponse](b, 6, leaderAndIsrRequest(100, txnTopic, 0, 0, 3, []int32{0}, []int32{0}))
		wantCode(t, "LeaderAndIsr", lai.ErrorCode, nil)
		b.setPartition(txnTopic, 0, metadataState(0, 3, 0))
		synctest.Wait()
		init := do[*kmsg.InitProducerIDResponse](b, 4, initTxnRequest("tx", 60000))
		wantCode(t, "InitProducerId on the new leader", init.ErrorCode, nil)
		do[*kmsg.AddPartitionsToTxnResponse](b, 3, addPartitionsRequest("tx", init.ProducerID, init.ProducerEpoch, "t", 0))
		wantCode(t, "EndTxn", do[*kmsg.EndTxnResponse](b, 3, endTxnRequest("tx", init.ProducerID, init.ProducerEpoch, false)).ErrorCode, nil)
		synctest.Wait()
		if got, want := b.markers.take(), []string{fmt.Sprintf("0: abort %d/0@3 t-0", init.ProducerID)}; !reflect.DeepEqual(got, want) {
			t.Errorf("markers %q, want %q: coordinator epoch 3", got, want)
		}
		lai = do[*kmsg.LeaderAndISRResponse](b, 6, leaderAndIsrRequest(100, txnTopic, 0, 1, 4, []int32{0, 1}, []int32{1}))
		wantCode(t, "LeaderAndIsr, follower", lai.ErrorCode, nil)
		wantCode(t, "InitProducerId on a follower", do[*kmsg.InitProducerIDResponse](b, 4, initTxnRequest("tx", 60000)).ErrorCode, kerr.NotCoordinator)
		b.cache.Update(func(e *metadata.Edit) {
			e.SetBrokers([]metadata.Broker{{ID: 0, Host: "127.0.0.1", Port: 9092}, {ID: 1, Host: "h1", Port: 2}})
		})
		b.setPartition(txnTopic, 0, metadataState(1, 4, 0, 1))
		resp := do[*kmsg.FindCoordinatorResponse](b, 4, findCoordinatorRequest(1, "tx"))
		if c := resp.Coordinators[0]; c.ErrorCode != 0 || c.NodeID != 1 || c.Host != "h1" {
			t.Errorf("FindCoordinator after the move: %+v", c)
		}
	})
}

// TestTransactionStateMinISR: in cluster mode __transaction_state is
// created with transaction.state.log.min.isr, and the coordinator writes
// nothing while the ISR of its partition is below it: InitProducerId is
// COORDINATOR_NOT_AVAILABLE (Kafka's NOT_ENOUGH_REPLICAS translated), and
// the id is still new afterwards.
func TestTransactionStateMinISR(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl := &fakeCluster{epoch: 100, controllerID: 1}
		b := newClusterBroker(t, cl, map[string]string{"transaction.state.log.replication.factor": "2"})
		b.cache.Update(func(e *metadata.Edit) {
			e.SetBrokers([]metadata.Broker{{ID: 0, Host: "127.0.0.1", Port: 9092}, {ID: 1, Host: "h1", Port: 2}})
		})
		wantCode(t, "first lookup", do[*kmsg.FindCoordinatorResponse](b, 3, findCoordinatorRequest(1, "tx")).ErrorCode, kerr.CoordinatorNotAvailable)
		stored, ok := b.store.Topic(txnTopic)
		if !ok || stored.Configs[config.KeyMinInSyncReplicas] != "2" {
			t.Fatalf("%s stored as %+v", txnTopic, stored)
		}
		lai := do[*kmsg.LeaderAndISRResponse](b, 6, leaderAndIsrRequest(100, txnTopic, 0, 0, 1, []int32{0, 1}, []int32{0}))
		wantCode(t, "LeaderAndIsr", lai.ErrorCode, nil)
		b.setPartition(txnTopic, 0, metadataState(0, 1, 0, 1))
		synctest.Wait()
		wantCode(t, "InitProducerId with the ISR below min.insync.replicas",
			do[*kmsg.InitProducerIDResponse](b, 4, initTxnRequest("tx", 60000)).ErrorCode, kerr.CoordinatorNotAvailable)
		if end := b.rm.Partition(txnTopic, 0).Log.EndOffset(); end != 0 {
			t.Errorf("%d records written below min.insync.replicas", end)
		}
	})
}
