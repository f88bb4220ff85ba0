package kafkaapi

// TxnOffsetCommit against the transaction coordinator (KIP-890 part 1),
// after Kafka's GroupCoordinatorTest and KafkaApisTest of transactional
// offset commits: offsets of a producer whose transaction does not hold
// the group's partition of __consumer_offsets are refused before anything
// is written, as Kafka 3.8 words the refusals per version.

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/coordinator/txn"
	"samsa/replica"
)

// countingVerifier counts the verifications a broker's leaders ask for.
type countingVerifier struct {
	replica.TxnVerifier
	n atomic.Int32
	// during, if set, runs while the question is in flight, before the
	// coordinator answers.
	during atomic.Pointer[func()]
}

func (v *countingVerifier) VerifyTxn(ctx context.Context, id string, pid int64, epoch int16, parts map[string][]int32) (map[string]map[int32]int16, error) {
	v.n.Add(1)
	if f := v.during.Load(); f != nil {
		(*f)()
	}
	return v.TxnVerifier.VerifyTxn(ctx, id, pid, epoch, parts)
}

// verifyingTxnBroker is txnBroker set up as a server sets itself up: its
// leaders verify transactional writes with its own transaction
// coordinator in process (counted), and its handler writes the
// coordinator's markers.
func verifyingTxnBroker(t *testing.T) (*testBroker, *countingVerifier) {
	b := txnBroker(t)
	v := &countingVerifier{TxnVerifier: &txn.Verifier{Coordinator: b.txns, Cache: b.cache, Self: b.cfg.BrokerID}}
	b.rm.SetTxnVerifier(v)
	b.markers.writeWith(b.h)
	return b, v
}

// groupCoordinator makes this broker the coordinator of group (creating
// __consumer_offsets) and waits for its partition to load.
func (b *testBroker) groupCoordinator(group string) *replica.Partition {
	b.t.Helper()
	wantCode(b.t, "FindCoordinator(group)", do[*kmsg.FindCoordinatorResponse](b, 3, findCoordinatorRequest(0, group)).ErrorCode, nil)
	synctest.Wait()
	return b.rm.Partition(offsetsTopic, b.groups.PartitionFor(group))
}

func (b *testBroker) initTxn(id string) (int64, int16) {
	b.t.Helper()
	resp := do[*kmsg.InitProducerIDResponse](b, 4, initTxnRequest(id, 60000))
	wantCode(b.t, "InitProducerId", resp.ErrorCode, nil)
	return resp.ProducerID, resp.ProducerEpoch
}

func addOffsetsRequest(id string, pid int64, epoch int16, group string) *kmsg.AddOffsetsToTxnRequest {
	req := kmsg.NewPtrAddOffsetsToTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group = id, pid, epoch, group
	return req
}

// txnCommitRequest commits offset for group's topic-partition in the
// transaction of a memberless producer.
func txnCommitRequest(id string, pid int64, epoch int16, group, topic string, partition int32, offset int64) *kmsg.TxnOffsetCommitRequest {
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.TransactionalID, req.Group, req.ProducerID, req.ProducerEpoch, req.Generation = id, group, pid, epoch, -1
	rt := kmsg.NewTxnOffsetCommitRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset = partition, offset
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// stableOffset is group's offset of topic-partition as an OffsetFetch v7
// with require_stable answers it.
func (b *testBroker) stableOffset(group, topic string, partition int32) kmsg.OffsetFetchResponseTopicPartition {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group, req.RequireStable = group, true
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic, rt.Partitions = topic, []int32{partition}
	req.Topics = append(req.Topics, rt)
	return do[*kmsg.OffsetFetchResponse](b, 7, req).Topics[0].Partitions[0]
}

// notPending fails the test unless group's offset of topic-partition is
// stable and still offset.
func (b *testBroker) notPending(what, group, topic string, partition int32, offset int64) {
	b.t.Helper()
	if got := b.stableOffset(group, topic, partition); got.ErrorCode != 0 || got.Offset != offset {
		b.t.Errorf("%s: %s-%d of %s is %d (%s), want %d, stable", what, topic, partition, group, got.Offset, errName(got.ErrorCode), offset)
	}
}

// TestTxnOffsetCommitTransaction: the path of a transactional consumer
// (InitProducerId, AddOffsetsToTxn, TxnOffsetCommit, EndTxn) with
// verification on: the first commit is verified, a second one of the same
// transaction needs no question (its transaction is open on the
// partition, as Kafka's hasOngoingTransaction skips it), the offsets are
// pending until the commit marker and visible after it.
func TestTxnOffsetCommitTransaction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, v := verifyingTxnBroker(t)
		offsets := b.groupCoordinator("g")
		pid, epoch := b.initTxn("tx")
		wantCode(t, "AddOffsetsToTxn", do[*kmsg.AddOffsetsToTxnResponse](b, 3, addOffsetsRequest("tx", pid, epoch, "g")).ErrorCode, nil)
		resp := do[*kmsg.TxnOffsetCommitResponse](b, 3, txnCommitRequest("tx", pid, epoch, "g", "t", 0, 42))
		wantCode(t, "TxnOffsetCommit v3", resp.Topics[0].Partitions[0].ErrorCode, nil)
		if n := v.n.Load(); n != 1 {
			t.Fatalf("%d verifications of the first commit, want 1", n)
		}
		resp = do[*kmsg.TxnOffsetCommitResponse](b, 4, txnCommitRequest("tx", pid, epoch, "g", "t", 1, 43))
		wantCode(t, "TxnOffsetCommit v4, the same transaction", resp.Topics[0].Partitions[0].ErrorCode, nil)
		if n := v.n.Load(); n != 1 {
			t.Errorf("%d verifications, want 1: the transaction is open on the partition", n)
		}
		wantCode(t, "OffsetFetch of a pending offset", b.stableOffset("g", "t", 0).ErrorCode, kerr.UnstableOffsetCommit)
		wantCode(t, "EndTxn", do[*kmsg.EndTxnResponse](b, 3, endTxnRequest("tx", pid, epoch, true)).ErrorCode, nil)
		synctest.Wait() // the markers are written
		b.notPending("after the commit", "g", "t", 0, 42)
		b.notPending("after the commit", "g", "t", 1, 43)
		if open := offsets.OpenTxns(); len(open) != 0 {
			t.Errorf("transactions open on %s-%d after the commit: %v", offsetsTopic, offsets.Index, open)
		}
	})
}

// TestTxnOffsetCommitNotInTransaction: offsets of a producer whose
// transaction does not hold the group's partition (it never called
// AddOffsetsToTxn) are refused, INVALID_TXN_STATE below v4 and
// TRANSACTION_ABORTABLE from v4 (KIP-890), and nothing is written or
// pending; partitions that do not exist keep UNKNOWN_TOPIC_OR_PARTITION,
// and nothing is asked for offsets of partitions that do not exist only.
// An id the coordinator does not know is INVALID_PRODUCER_ID_MAPPING.
func TestTxnOffsetCommitNotInTransaction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, v := verifyingTxnBroker(t)
		pid, epoch := b.initTxn("tx")
		offsets := b.groupCoordinator("g")
		end := offsets.Log.EndOffset()
		if got := v3Codes(do[*kmsg.AddPartitionsToTxnResponse](b, 3, addPartitionsRequest("tx", pid, epoch, "t", 0))); len(got) != 1 || got[0] != "t-0:NONE" {
			t.Fatalf("AddPartitionsToTxn %v", got)
		}
		req := txnCommitRequest("tx", pid, epoch, "g", "t", 0, 42)
		req.Topics = append(req.Topics, txnCommitRequest("", 0, 0, "", "nope", 0, 1).Topics...)
		for ver := int16(0); ver <= 4; ver++ {
			want := kerr.InvalidTxnState
			if ver >= 4 {
				want = kerr.TransactionAbortable
			}
			resp := do[*kmsg.TxnOffsetCommitResponse](b, ver, req)
			wantCode(t, fmt.Sprintf("v%d t-0", ver), resp.Topics[0].Partitions[0].ErrorCode, want)
			wantCode(t, fmt.Sprintf("v%d nope-0", ver), resp.Topics[1].Partitions[0].ErrorCode, kerr.UnknownTopicOrPartition)
		}
		if n := v.n.Load(); n != 5 {
			t.Errorf("%d verifications, want one per request", n)
		}
		if got, open := offsets.Log.EndOffset(), offsets.OpenTxns(); got != end || len(open) != 0 {
			t.Errorf("refused offsets wrote to %s-%d: end %d (was %d), open %v", offsetsTopic, offsets.Index, got, end, open)
		}
		b.notPending("refused offsets", "g", "t", 0, -1)

		unknown := txnCommitRequest("tx", pid, epoch, "g", "nope", 0, 1)
		wantCode(t, "only partitions that do not exist", do[*kmsg.TxnOffsetCommitResponse](b, 4, unknown).Topics[0].Partitions[0].ErrorCode, kerr.UnknownTopicOrPartition)
		if n := v.n.Load(); n != 5 {
			t.Errorf("%d verifications, want 5: nothing to write needs none", n)
		}
		other := txnCommitRequest("other", pid, epoch, "g", "t", 0, 42)
		wantCode(t, "an id the coordinator does not know", do[*kmsg.TxnOffsetCommitResponse](b, 4, other).Topics[0].Partitions[0].ErrorCode, kerr.InvalidProducerIDMapping)
		b.notPending("refused offsets", "g", "t", 0, -1)
	})
}

// slowOffsetsLog is a partition of __consumer_offsets as the broker gives
// it to the group coordinator (package coordtopic), whose replay waits
// until loaded is closed.
type slowOffsetsLog struct {
	rm     *replica.Manager
	p      *replica.Partition
	loaded chan struct{}
}

func (l slowOffsetsLog) Append(b []byte) error {
	return l.rm.AppendInternal(context.Background(), l.p, b)
}

func (l slowOffsetsLog) AppendTxn(b []byte, guard uint64) error {
	return l.rm.AppendInternalTxn(context.Background(), l.p, b, guard)
}

func (l slowOffsetsLog) Replay(fn func([]byte) error) error {
	<-l.loaded
	return l.p.Log.ReadChunks(1<<20, fn)
}

// TestTxnOffsetCommitGroupFirst: the group's state is checked before the
// transaction coordinator is asked, as Kafka's validateGroupStatus comes
// before its verification: without the group's coordinator the answer is
// NOT_COORDINATOR, while it loads the group's partition
// COORDINATOR_LOAD_IN_PROGRESS (COORDINATOR_NOT_AVAILABLE below v2),
// though the producer's transaction does not hold the partition; once
// loaded, the verification refuses it.
func TestTxnOffsetCommitGroupFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, v := verifyingTxnBroker(t)
		pid, epoch := b.initTxn("tx")
		req := txnCommitRequest("tx", pid, epoch, "g", "t", 0, 42)
		resp := do[*kmsg.TxnOffsetCommitResponse](b, 3, req)
		wantCode(t, "without the group's coordinator", resp.Topics[0].Partitions[0].ErrorCode, kerr.NotCoordinator)

		offsets := b.groupCoordinator("g")
		b.groups.Unload(offsets.Index)
		loaded := make(chan struct{})
		defer close(loaded)
		b.groups.Load(offsets.Index, slowOffsetsLog{rm: b.rm, p: offsets, loaded: loaded})
		for ver := int16(0); ver <= 4; ver++ {
			want := kerr.CoordinatorLoadInProgress
			if ver < 2 {
				want = kerr.CoordinatorNotAvailable
			}
			resp := do[*kmsg.TxnOffsetCommitResponse](b, ver, req)
			wantCode(t, fmt.Sprintf("v%d, the group's partition loading", ver), resp.Topics[0].Partitions[0].ErrorCode, want)
		}
		if n := v.n.Load(); n != 0 {
			t.Errorf("%d verifications before the group's state allowed the commit, want 0", n)
		}
		loaded <- struct{}{}
		synctest.Wait()
		resp = do[*kmsg.TxnOffsetCommitResponse](b, 3, req)
		wantCode(t, "once loaded", resp.Topics[0].Partitions[0].ErrorCode, kerr.InvalidTxnState)
		if n := v.n.Load(); n != 1 {
			t.Errorf("%d verifications once loaded, want 1", n)
		}
	})
}

// TestTxnOffsetCommitOvertakenByMarker: the hanging transaction of
// KIP-890 on __consumer_offsets. The coordinator verifies the offsets
// (the group's partition is in the transaction), but the transaction's
// abort marker lands on the partition while the question is in flight:
// the verification's guard refuses the append (INVALID_TXN_STATE, at v4
// too: the append's refusal, not the coordinator's), so no transaction
// opens there that no marker would end, and nothing is pending.
func TestTxnOffsetCommitOvertakenByMarker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, v := verifyingTxnBroker(t)
		offsets := b.groupCoordinator("g")
		pid, epoch := b.initTxn("tx")
		wantCode(t, "AddOffsetsToTxn", do[*kmsg.AddOffsetsToTxnResponse](b, 3, addOffsetsRequest("tx", pid, epoch, "g")).ErrorCode, nil)
		abort := func() {
			resp := b.h.WriteTxnMarkers(context.Background(), markers(pid, epoch, 0, false, offsetsTopic, offsets.Index))
			if got := markerCodes(resp); got[fmt.Sprintf("%s-%d", offsetsTopic, offsets.Index)] != 0 {
				t.Errorf("abort marker: %v", got)
			}
		}
		v.during.Store(&abort)
		end := offsets.Log.EndOffset() + 1 // after the marker
		resp := do[*kmsg.TxnOffsetCommitResponse](b, 4, txnCommitRequest("tx", pid, epoch, "g", "t", 0, 42))
		wantCode(t, "offsets overtaken by the abort", resp.Topics[0].Partitions[0].ErrorCode, kerr.InvalidTxnState)
		if got, open := offsets.Log.EndOffset(), offsets.OpenTxns(); got != end || len(open) != 0 {
			t.Errorf("refused offsets wrote to %s-%d: end %d (want %d), open %v", offsetsTopic, offsets.Index, got, end, open)
		}
		b.notPending("refused offsets", "g", "t", 0, -1)
	})
}

// TestTxnOffsetCommitFencedProducer: a producer whose id another instance
// took (InitProducerId aborts its transaction with the epoch bumped, the
// markers are written) has its offsets refused with INVALID_PRODUCER_EPOCH
// at every version, as Kafka's AddPartitionsToTxnManager words the
// coordinator's PRODUCER_FENCED; its aborted offset is gone and none is
// pending.
func TestTxnOffsetCommitFencedProducer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, _ := verifyingTxnBroker(t)
		offsets := b.groupCoordinator("g")
		pid, zombie := b.initTxn("tx")
		wantCode(t, "AddOffsetsToTxn", do[*kmsg.AddOffsetsToTxnResponse](b, 3, addOffsetsRequest("tx", pid, zombie, "g")).ErrorCode, nil)
		resp := do[*kmsg.TxnOffsetCommitResponse](b, 3, txnCommitRequest("tx", pid, zombie, "g", "t", 0, 42))
		wantCode(t, "TxnOffsetCommit", resp.Topics[0].Partitions[0].ErrorCode, nil)

		// The new instance retries while the ongoing transaction is
		// aborted, as clients retry CONCURRENT_TRANSACTIONS.
		init := do[*kmsg.InitProducerIDResponse](b, 4, initTxnRequest("tx", 60000))
		for range 10 {
			if init.ErrorCode != kerr.ConcurrentTransactions.Code {
				break
			}
			synctest.Wait()
			init = do[*kmsg.InitProducerIDResponse](b, 4, initTxnRequest("tx", 60000))
		}
		wantCode(t, "InitProducerId of the new instance", init.ErrorCode, nil)
		if init.ProducerID != pid || init.ProducerEpoch <= zombie {
			t.Fatalf("new instance %d/%d, zombie %d/%d", init.ProducerID, init.ProducerEpoch, pid, zombie)
		}
		if open := offsets.OpenTxns(); len(open) != 0 {
			t.Fatalf("the abort left transactions open on %s-%d: %v", offsetsTopic, offsets.Index, open)
		}
		end := offsets.Log.EndOffset()
		for ver := int16(0); ver <= 4; ver++ {
			resp := do[*kmsg.TxnOffsetCommitResponse](b, ver, txnCommitRequest("tx", pid, zombie, "g", "t", 0, 43))
			wantCode(t, fmt.Sprintf("v%d, fenced", ver), resp.Topics[0].Partitions[0].ErrorCode, kerr.InvalidProducerEpoch)
		}
		if got, open := offsets.Log.EndOffset(), offsets.OpenTxns(); got != end || len(open) != 0 {
			t.Errorf("fenced offsets wrote to %s-%d: end %d (was %d), open %v", offsetsTopic, offsets.Index, got, end, open)
		}
		b.notPending("after the fencing", "g", "t", 0, -1)
	})
}

// TestTxnOffsetCommitVerificationErrors: the transaction coordinator's
// refusals as Kafka 3.8 answers a TxnOffsetCommit of each version
// (AddPartitionsToTxnManager, then
// GroupMetadataManager.maybeConvertOffsetCommitError, then
// COORDINATOR_LOAD_IN_PROGRESS as COORDINATOR_NOT_AVAILABLE below v2);
// nothing is written.
func TestTxnOffsetCommitVerificationErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newTestBroker(t, nil)
		b.createTopic("t", 1, nil)
		offsets := b.groupCoordinator("g")
		for _, c := range []struct {
			name string
			v    refusingVerifier
			want *kerr.Error
			v01  *kerr.Error // v0-1, when not want
			v4   *kerr.Error // v4, when not want
		}{
			{"not in the transaction", refusingVerifier{code: kerr.TransactionAbortable.Code}, kerr.InvalidTxnState, nil, kerr.TransactionAbortable},
			{"not in the transaction, an older coordinator", refusingVerifier{code: kerr.InvalidTxnState.Code}, kerr.InvalidTxnState, nil, nil},
			{"producer fenced", refusingVerifier{code: kerr.ProducerFenced.Code}, kerr.InvalidProducerEpoch, nil, nil},
			{"unknown producer", refusingVerifier{code: kerr.InvalidProducerIDMapping.Code}, kerr.InvalidProducerIDMapping, nil, nil},
			{"transaction ending", refusingVerifier{code: kerr.ConcurrentTransactions.Code}, kerr.ConcurrentTransactions, nil, nil},
			{"coordinator moved", refusingVerifier{err: kerr.NotCoordinator}, kerr.NotCoordinator, nil, nil},
			{"no coordinator", refusingVerifier{err: kerr.CoordinatorNotAvailable}, kerr.CoordinatorNotAvailable, nil, nil},
			{"coordinator loading", refusingVerifier{err: kerr.CoordinatorLoadInProgress}, kerr.CoordinatorLoadInProgress, kerr.CoordinatorNotAvailable, nil},
			{"coordinator unreachable", refusingVerifier{err: context.DeadlineExceeded}, kerr.CoordinatorLoadInProgress, kerr.CoordinatorNotAvailable, nil},
			{"brokers not authorized", refusingVerifier{err: kerr.ClusterAuthorizationFailed}, kerr.InvalidTxnState, nil, nil},
		} {
			b.rm.SetTxnVerifier(c.v)
			for ver := int16(0); ver <= 4; ver++ {
				want := c.want
				switch {
				case ver < 2 && c.v01 != nil:
					want = c.v01
				case ver == 4 && c.v4 != nil:
					want = c.v4
				}
				resp := do[*kmsg.TxnOffsetCommitResponse](b, ver, txnCommitRequest("tx", 5, 0, "g", "t", 0, 42))
				wantCode(t, fmt.Sprintf("%s, v%d", c.name, ver), resp.Topics[0].Partitions[0].ErrorCode, want)
			}
		}
		if end := offsets.Log.EndOffset(); end != 0 {
			t.Errorf("refused offsets wrote to %s-%d: end %d", offsetsTopic, offsets.Index, end)
		}
		b.notPending("refused offsets", "g", "t", 0, -1)
	})
}
