package txn

import (
	"fmt"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/apierr"
	"samsa/metadata"
)

// restart is another coordinator over the same log, cache and sender,
// taking partition 0 over at epoch: a failover.
func (h *harness) restart(epoch int32) *harness {
	h2 := &harness{t: h.t, log: h.log, sender: h.sender, cache: h.cache, pids: h.pids + 100}
	cfg := h.c.cfg
	cfg.ProducerIDs = func() (int64, error) {
		h2.mu.Lock()
		defer h2.mu.Unlock()
		h2.pids++
		return h2.pids - 1, nil
	}
	h2.c = New(cfg)
	h.t.Cleanup(h2.c.Close)
	<-h2.c.Load(0, epoch, h.log)
	return h2
}

// TestInitProducerID: a new id gets a new producer id at epoch 0; each
// InitProducerId bumps the epoch (KIP-360: from the epoch the producer
// names, or again the same epoch for a retry of a bump that was answered);
// a stale producer is fenced. Every answer is in the log first.
func TestInitProducerID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{})
		h.load()
		pid, epoch := h.init("t1")
		if pid != 1000 || epoch != 0 {
			t.Fatalf("first init: %d/%d, want 1000/0", pid, epoch)
		}
		if pid, epoch = h.init("t1"); pid != 1000 || epoch != 1 {
			t.Fatalf("second init: %d/%d, want 1000/1", pid, epoch)
		}
		steps := []struct {
			name      string
			pid       int64
			epoch     int16
			wantEpoch int16
			err       *kerr.Error
		}{
			{"names the current epoch", 1000, 1, 2, nil},
			{"retries that bump", 1000, 1, 2, nil},
			{"names an epoch long gone", 1000, 0, -1, kerr.ProducerFenced},
			{"names another producer id", 999, 2, -1, kerr.ProducerFenced},
			{"names the current epoch again", 1000, 2, 3, nil},
		}
		for _, s := range steps {
			gotPID, gotEpoch, err := h.c.InitProducerID("t1", 60000, s.pid, s.epoch)
			wantErr(t, s.name, err, s.err)
			if s.err == nil && (gotPID != 1000 || gotEpoch != s.wantEpoch) {
				t.Errorf("%s: %d/%d, want 1000/%d", s.name, gotPID, gotEpoch, s.wantEpoch)
			}
		}
		if got, want := h.log.states(t, "t1"), []string{"Empty", "Empty", "Empty", "Empty", "Empty"}; !reflect.DeepEqual(got, want) {
			t.Errorf("log %v, want %v", got, want)
		}
		last := h.log.records(t)
		if r := last[len(last)-1].t; r.producerEpoch != 3 || r.timeoutMs != 60000 || len(r.partitions) != 0 || r.startMs != -1 {
			t.Errorf("last record %+v", r)
		}
		// A new id named with a producer id: nothing to fence (KIP-360,
		// a producer recovering from UNKNOWN_PRODUCER_ID).
		if pid, epoch, err := h.c.InitProducerID("t2", 60000, 5, 3); err != nil || pid != 1001 || epoch != 0 {
			t.Errorf("new id with an expected producer: %d/%d %v, want 1001/0", pid, epoch, err)
		}
	})
}

// TestInitProducerIDRefusals: Kafka's codes for a bad InitProducerId.
func TestInitProducerIDRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{MaxTimeout: time.Minute})
		_, _, err := h.c.InitProducerID("t1", 1000, -1, -1)
		wantErr(t, "not loaded", err, kerr.NotCoordinator)
		h.load()
		for _, c := range []struct {
			name    string
			id      string
			timeout int32
			want    *kerr.Error
		}{
			{"empty id", "", 1000, kerr.InvalidRequest},
			{"zero timeout", "t1", 0, kerr.InvalidTransactionTimeout},
			{"negative timeout", "t1", -5, kerr.InvalidTransactionTimeout},
			{"above transaction.max.timeout.ms", "t1", 60001, kerr.InvalidTransactionTimeout},
			{"at transaction.max.timeout.ms", "t1", 60000, nil},
		} {
			_, _, err := h.c.InitProducerID(c.id, c.timeout, -1, -1)
			wantErr(t, c.name, err, c.want)
		}
		h.c.cfg.ProducerIDs = func() (int64, error) { return -1, errNetwork }
		_, _, err = h.c.InitProducerID("t9", 1000, -1, -1)
		wantErr(t, "no producer id to give", err, kerr.CoordinatorNotAvailable)
	})
}

// TestProducerIDRotation: when a producer id's epochs run out, the next
// InitProducerId moves the id to a new producer id at epoch 0, keeping
// the old epoch as the last when the producer named it; a retry of that
// rotation (the old producer id at its exhausted epoch) is not fenced.
func TestProducerIDRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{})
		h.log.Append(encodeBatch(1, [2][]byte{encodeKey("t1"), encodeValue(transit{producerID: 77, producerEpoch: maxEpoch - 1,
			timeoutMs: 60000, state: CompleteCommit, partitions: []TopicPartition{}, startMs: 5, updateMs: 6})}))
		h.load()
		pid, epoch, err := h.c.InitProducerID("t1", 60000, 77, maxEpoch-1)
		if err != nil || pid != 1000 || epoch != 0 {
			t.Fatalf("rotation: %d/%d %v, want 1000/0", pid, epoch, err)
		}
		// The answer was lost; the producer asks again as before and gets
		// the same answer.
		pid, epoch, err = h.c.InitProducerID("t1", 60000, 77, maxEpoch-1)
		if err != nil || pid != 1000 || epoch != 0 {
			t.Errorf("retry of the rotation: %d/%d %v, want 1000/0", pid, epoch, err)
		}
		if pid, epoch, err = h.c.InitProducerID("t1", 60000, 1000, 0); err != nil || pid != 1000 || epoch != 1 {
			t.Errorf("bump from the new producer id: %d/%d %v, want 1000/1", pid, epoch, err)
		}
	})
}

// TestUnknownIDAndMapping: AddPartitionsToTxn, EndTxn and verification of
// an id never initialized, or with another producer id, are
// INVALID_PRODUCER_ID_MAPPING; a different epoch is PRODUCER_FENCED; an
// empty id is INVALID_REQUEST.
func TestUnknownIDAndMapping(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{})
		h.load()
		a0 := tpList("a-0")
		wantErr(t, "add, unknown id", h.c.AddPartitions("nope", 1, 0, a0), kerr.InvalidProducerIDMapping)
		wantErr(t, "end, unknown id", h.c.EndTxn("nope", 1, 0, true), kerr.InvalidProducerIDMapping)
		_, top := h.c.VerifyPartitions("nope", 1, 0, a0)
		wantErr(t, "verify, unknown id", top, kerr.InvalidProducerIDMapping)
		wantErr(t, "add, empty id", h.c.AddPartitions("", 1, 0, a0), kerr.InvalidRequest)
		wantErr(t, "end, empty id", h.c.EndTxn("", 1, 0, true), kerr.InvalidRequest)
		pid, epoch := h.init("t1")
		wantErr(t, "add, other producer id", h.c.AddPartitions("t1", pid+1, epoch, a0), kerr.InvalidProducerIDMapping)
		wantErr(t, "add, older epoch", h.c.AddPartitions("t1", pid, epoch-1, a0), kerr.ProducerFenced)
		wantErr(t, "add, newer epoch", h.c.AddPartitions("t1", pid, epoch+1, a0), kerr.ProducerFenced)
		wantErr(t, "end, other producer id", h.c.EndTxn("t1", pid+1, epoch, true), kerr.InvalidProducerIDMapping)
		wantErr(t, "end, newer epoch", h.c.EndTxn("t1", pid, epoch+1, true), kerr.ProducerFenced)
		_, top = h.c.VerifyPartitions("t1", pid, epoch+1, a0)
		wantErr(t, "verify, other epoch", top, kerr.ProducerFenced)
		if got := h.log.states(t, "t1"); len(got) != 1 {
			t.Errorf("refused requests wrote %v", got)
		}
	})
}

// TestCommit: the whole path. PrepareCommit is written and answered,
// markers go to each partition's leader, one request per broker, with the
// coordinator epoch; once all are acknowledged CompleteCommit is written.
// Ending again with the same outcome succeeds, with the other
// INVALID_TXN_STATE.
func TestCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{})
		h.load()
		pid, epoch := h.begin("t1", "a-0", "a-1")
		if err := h.c.AddPartitions("t1", pid, epoch, tpList("a-2", "b-0", "a-0")); err != nil {
			t.Fatal(err)
		}
		if err := h.c.AddPartitions("t1", pid, epoch, tpList("a-2")); err != nil {
			t.Fatal(err) // already there: nothing written
		}
		d := h.describe("t1")
		if d.State != Ongoing || !reflect.DeepEqual(d.Partitions, tpList("a-0", "a-1", "a-2", "b-0")) || d.StartMs <= 0 {
			t.Fatalf("before the end: %+v", d)
		}
		wantErr(t, "commit", h.c.EndTxn("t1", pid, epoch, true), nil)
		synctest.Wait()
		got := h.sender.summary()
		slices.Sort(got)
		want := []string{"1: commit 1000/0@5 a-0,a-2", "2: commit 1000/0@5 a-1", "3: commit 1000/0@5 b-0"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("markers %q, want %q", got, want)
		}
		if got, want := h.log.states(t, "t1"), []string{"Empty", "Ongoing", "Ongoing", "PrepareCommit", "CompleteCommit"}; !reflect.DeepEqual(got, want) {
			t.Errorf("log %v, want %v", got, want)
		}
		if d := h.describe("t1"); d.State != CompleteCommit || len(d.Partitions) != 0 {
			t.Errorf("after the markers: %+v", d)
		}
		wantErr(t, "commit again", h.c.EndTxn("t1", pid, epoch, true), nil)
		wantErr(t, "abort after commit", h.c.EndTxn("t1", pid, epoch, false), kerr.InvalidTxnState)
		// The next transaction of the same producer starts from Complete.
		if err := h.c.AddPartitions("t1", pid, epoch, tpList("b-0")); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "abort", h.c.EndTxn("t1", pid, epoch, false), nil)
		synctest.Wait()
		wantErr(t, "abort again", h.c.EndTxn("t1", pid, epoch, false), nil)
		wantErr(t, "commit after abort", h.c.EndTxn("t1", pid, epoch, true), kerr.InvalidTxnState)
		if d := h.describe("t1"); d.State != CompleteAbort {
			t.Errorf("after the abort: %+v", d)
		}
	})
}

// TestEndTxnStates: EndTxn in each state, with each outcome, as Kafka
// answers: Empty is INVALID_TXN_STATE; while the markers of an end go out
// (the Complete state pending) every request of the id is
// CONCURRENT_TRANSACTIONS; in a prepare state with nothing pending (its
// completion failed) the same end is CONCURRENT_TRANSACTIONS and the
// other INVALID_TXN_STATE.
func TestEndTxnStates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{})
		h.load()
		pid, epoch := h.init("t1")
		wantErr(t, "commit in Empty", h.c.EndTxn("t1", pid, epoch, true), kerr.InvalidTxnState)
		wantErr(t, "abort in Empty", h.c.EndTxn("t1", pid, epoch, false), kerr.InvalidTxnState)
		h.sender.set(nil, func(int32) error { return errNetwork }) // markers never answered
		for _, commit := range []bool{true, false} {
			id := fmt.Sprintf("end-%v", commit)
			pid, epoch := h.begin(id, "a-0")
			wantErr(t, id, h.c.EndTxn(id, pid, epoch, commit), nil)
			wantErr(t, id+": same end while sending", h.c.EndTxn(id, pid, epoch, commit), kerr.ConcurrentTransactions)
			wantErr(t, id+": other end while sending", h.c.EndTxn(id, pid, epoch, !commit), kerr.ConcurrentTransactions)
			wantErr(t, id+": add while sending", h.c.AddPartitions(id, pid, epoch, tpList("a-1")), kerr.ConcurrentTransactions)
			_, _, err := h.c.InitProducerID(id, 60000, -1, -1)
			wantErr(t, id+": init while sending", err, kerr.ConcurrentTransactions)
			_, top := h.c.VerifyPartitions(id, pid, epoch, tpList("a-0"))
			wantErr(t, id+": verify while sending", top, kerr.ConcurrentTransactions)
			tm := h.c.parts[0].get(id)
			tm.mu.Lock()
			tm.pending = noState
			tm.mu.Unlock()
			wantErr(t, id+": same end", h.c.EndTxn(id, pid, epoch, commit), kerr.ConcurrentTransactions)
			wantErr(t, id+": other end", h.c.EndTxn(id, pid, epoch, !commit), kerr.InvalidTxnState)
		}
	})
}

// TestInitFencesOngoing: InitProducerId during a transaction aborts it
// with the epoch bumped (the bumped epoch is never handed out) and
// answers CONCURRENT_TRANSACTIONS; the old producer is fenced; the retry
// bumps again (Kafka's shouldAbortTransactionOnHandleInitPidWhen
// ExistingTransactionInOngoingState).
func TestInitFencesOngoing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{})
		h.load()
		pid, epoch := h.begin("t1", "a-0", "b-0")
		_, _, err := h.c.InitProducerID("t1", 60000, -1, -1)
		wantErr(t, "init during a transaction", err, kerr.ConcurrentTransactions)
		synctest.Wait()
		got := h.sender.summary()
		slices.Sort(got)
		if want := []string{"1: abort 1000/1@5 a-0", "3: abort 1000/1@5 b-0"}; !reflect.DeepEqual(got, want) {
			t.Errorf("markers %q, want %q", got, want)
		}
		if got, want := h.log.states(t, "t1"), []string{"Empty", "Ongoing", "PrepareAbort", "CompleteAbort"}; !reflect.DeepEqual(got, want) {
			t.Errorf("log %v, want %v", got, want)
		}
		wantErr(t, "the fenced producer commits", h.c.EndTxn("t1", pid, epoch, true), kerr.ProducerFenced)
		wantErr(t, "the fenced producer adds", h.c.AddPartitions("t1", pid, epoch, tpList("a-1")), kerr.ProducerFenced)
		if _, epoch := h.init("t1"); epoch != 2 {
			t.Errorf("the retry's epoch is %d, want 2", epoch)
		}
	})
}

// TestFenceAppendFails: when the fencing PrepareAbort cannot be written,
// the epoch it bumped is not bumped again by the next fence (Kafka's
// shouldNotRepeatedlyBumpEpochDueToInitPidDuringOngoingTxnIfAppendToLogFails).
func TestFenceAppendFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{})
		h.load()
		h.begin("t1", "a-0")
		h.log.setFail(func([]byte) error { return apierr.Errorf(kerr.NotEnoughReplicas, "isr 1") })
		_, _, err := h.c.InitProducerID("t1", 60000, -1, -1)
		wantErr(t, "fence with a failing log", err, kerr.CoordinatorNotAvailable)
		_, _, err = h.c.InitProducerID("t1", 60000, -1, -1)
		wantErr(t, "fence again with a failing log", err, kerr.CoordinatorNotAvailable)
		h.log.setFail(nil)
		_, _, err = h.c.InitProducerID("t1", 60000, -1, -1)
		wantErr(t, "fence", err, kerr.ConcurrentTransactions)
		synctest.Wait()
		if got := h.sender.summary(); !reflect.DeepEqual(got, []string{"1: abort 1000/1@5 a-0"}) {
			t.Errorf("markers %q: the epoch must be bumped once", got)
		}
	})
}

// TestMarkerRetries: markers follow the partitions' leaders. A broker
// answering NOT_LEADER_OR_FOLLOWER gets the marker no more once the cache
// names another leader; a request without an answer is sent again; a
// partition without a live leader waits for one; a deleted partition
// needs no marker. The transaction completes when every partition has its
// marker.
func TestMarkerRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{})
		h.load()
		pid, epoch := h.begin("t1", "a-0", "a-1", "b-0")
		h.setLeader("a", 0, -1)
		var brokerThreeDown atomic.Bool
		brokerThreeDown.Store(true)
		h.sender.set(func(broker int32, m kmsg.WriteTxnMarkersRequestMarker, topic string, p int32) int16 {
			if broker == 2 && topic == "a" && p == 1 {
				return kerr.NotLeaderForPartition.Code // it moved to broker 3
			}
			return 0
		}, func(broker int32) error {
			if broker == 3 && brokerThreeDown.Load() {
				return errNetwork
			}
			return nil
		})
		if err := h.c.EndTxn("t1", pid, epoch, true); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got, want := h.sender.marked(), "2:a-1 3:b-0"; got != want {
			t.Fatalf("first round %q, want %q", got, want)
		}
		// a-1 moves to broker 3, which comes back.
		h.sender.reset()
		h.setLeader("a", 1, 3)
		brokerThreeDown.Store(false)
		time.Sleep(h.c.cfg.RetryBackoff)
		synctest.Wait()
		if got, want := h.sender.marked(), "3:a-1,b-0"; got != want {
			t.Fatalf("second round %q, want %q", got, want)
		}
		if d := h.describe("t1"); d.State != PrepareCommit || !reflect.DeepEqual(d.Partitions, tpList("a-0")) {
			t.Fatalf("a-0 has no leader yet: %+v", d)
		}
		h.sender.reset()
		time.Sleep(10 * h.c.cfg.RetryBackoff)
		synctest.Wait()
		if got := h.sender.marked(); got != "" {
			t.Fatalf("sent %q while a-0 has no leader", got)
		}
		h.setLeader("a", 0, 2)
		time.Sleep(h.c.cfg.RetryBackoff)
		synctest.Wait()
		if got := h.sender.summary(); !reflect.DeepEqual(got, []string{"2: commit 1000/0@5 a-0"}) {
			t.Errorf("markers once a-0 has a leader: %q", got)
		}
		if d := h.describe("t1"); d.State != CompleteCommit {
			t.Errorf("after every marker: %+v", d)
		}
		// A partition deleted meanwhile needs none.
		pid, epoch = h.begin("t2", "a-2", "b-0")
		h.cache.Update(func(e *metadata.Edit) { e.DeleteTopic("b") })
		h.sender.reset()
		if err := h.c.EndTxn("t2", pid, epoch, false); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := h.sender.summary(); !reflect.DeepEqual(got, []string{"1: abort 1001/0@5 a-2"}) {
			t.Errorf("markers with b deleted: %q", got)
		}
		if d := h.describe("t2"); d.State != CompleteAbort {
			t.Errorf("t2: %+v", d)
		}
	})
}
