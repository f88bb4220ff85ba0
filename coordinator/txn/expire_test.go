package txn

import (
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/internal/apierr"
)

// TestTimeoutAbort: a transaction open past its timeout is aborted by the
// coordinator at the next check (every
// transaction.abort.timed.out.transaction.cleanup.interval.ms) with the
// producer's epoch bumped: the producer is fenced. One within its timeout,
// and one whose end is in flight, are left alone.
func TestTimeoutAbort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{AbortInterval: 10 * time.Second})
		h.load()
		pid, epoch, err := h.c.InitProducerID("short", 1000, -1, -1)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.c.AddPartitions("short", pid, epoch, tpList("a-0")); err != nil {
			t.Fatal(err)
		}
		h.begin("long", "a-1") // 60 s
		time.Sleep(9 * time.Second)
		synctest.Wait()
		if d := h.describe("short"); d.State != Ongoing {
			t.Fatalf("aborted before the check: %+v", d)
		}
		time.Sleep(time.Second) // the check at 10 s
		synctest.Wait()
		if got, want := h.log.states(t, "short"), []string{"Empty", "Ongoing", "PrepareAbort", "CompleteAbort"}; !reflect.DeepEqual(got, want) {
			t.Errorf("log %v, want %v", got, want)
		}
		if got := h.sender.summary(); !reflect.DeepEqual(got, []string{"1: abort 1000/1@5 a-0"}) {
			t.Errorf("markers %q", got)
		}
		if d := h.describe("long"); d.State != Ongoing {
			t.Errorf("a transaction within its timeout: %+v", d)
		}
		wantErr(t, "the producer commits", h.c.EndTxn("short", pid, epoch, true), kerr.ProducerFenced)
		wantErr(t, "the producer adds", h.c.AddPartitions("short", pid, epoch, tpList("a-2")), kerr.ProducerFenced)
		// KIP-360: the producer bumps from its epoch, which is no longer
		// current: fenced; a new producer gets past the abort's epoch.
		_, _, err = h.c.InitProducerID("short", 1000, pid, epoch)
		wantErr(t, "the producer re-initializes", err, kerr.ProducerFenced)
		if _, e := h.init("short"); e != 2 {
			t.Errorf("new producer at epoch %d, want 2", e)
		}
		time.Sleep(60 * time.Second)
		synctest.Wait()
		if d := h.describe("long"); d.State != CompleteAbort || d.Epoch != 1 {
			t.Errorf("long after its timeout: %+v", d)
		}
	})
}

// TestTimeoutAbortFailedFence: when the abort of a timed-out transaction
// cannot be written, the next check aborts it at the same bumped epoch
// (Kafka's shouldNotBumpEpochWhenAbortingExpiredTransactionIfAppendToLogFails),
// and a transaction whose pending transition is in flight is skipped.
func TestTimeoutAbortFailedFence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{AbortInterval: time.Second})
		h.load()
		pid, epoch, _ := h.c.InitProducerID("t1", 500, -1, -1)
		h.c.AddPartitions("t1", pid, epoch, tpList("a-0"))
		h.log.setFail(func([]byte) error { return apierr.Errorf(kerr.NotEnoughReplicas, "isr") })
		time.Sleep(2 * time.Second) // two checks, both failing
		synctest.Wait()
		h.log.setFail(nil)
		time.Sleep(time.Second)
		synctest.Wait()
		if got := h.sender.summary(); !reflect.DeepEqual(got, []string{"1: abort 1000/1@5 a-0"}) {
			t.Errorf("markers %q: epoch bumped once", got)
		}
		if d := h.describe("t1"); d.State != CompleteAbort || d.Epoch != 1 {
			t.Errorf("%+v", d)
		}
		// Markers never answered: the PrepareAbort's completion is
		// pending, and the check leaves it alone.
		h.sender.set(nil, func(int32) error { return errNetwork })
		pid, epoch, _ = h.c.InitProducerID("t2", 500, -1, -1)
		h.c.AddPartitions("t2", pid, epoch, tpList("a-0"))
		h.c.EndTxn("t2", pid, epoch, true)
		before := len(h.log.records(t))
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if n := len(h.log.records(t)); n != before {
			t.Errorf("%d records written for a transaction being completed", n-before)
		}
	})
}

// TestExpireIDs: an id idle for transactional.id.expiration.ms outside a
// transaction is forgotten at the next check: a tombstone is written and
// it is TRANSACTIONAL_ID_NOT_FOUND, also after a reload. Ids in a
// transaction, or used since, stay.
func TestExpireIDs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{IDExpiration: time.Hour, RemoveInterval: 10 * time.Minute, MaxTimeout: 3 * time.Hour})
		h.load()
		h.init("idle")
		pid, epoch := h.begin("committed", "a-0")
		h.c.EndTxn("committed", pid, epoch, true)
		pid, epoch, _ = h.c.InitProducerID("ongoing", 3*3600*1000, -1, -1) // not timed out
		h.c.AddPartitions("ongoing", pid, epoch, tpList("a-1"))
		time.Sleep(50 * time.Minute)
		h.init("recent")
		time.Sleep(20 * time.Minute) // the check at 70 min
		synctest.Wait()
		for _, id := range []string{"idle", "committed"} {
			if _, err := h.c.Describe(id); err != kerr.TransactionalIDNotFound {
				t.Errorf("%s: %v, want TRANSACTIONAL_ID_NOT_FOUND", id, err)
			}
			if got := h.log.states(t, id); got[len(got)-1] != "tombstone" {
				t.Errorf("%s: log %v", id, got)
			}
		}
		for _, id := range []string{"ongoing", "recent"} {
			h.describe(id)
		}
		h.c.Unload(0)
		h2 := h.restart(6)
		if _, err := h2.c.Describe("idle"); err != kerr.TransactionalIDNotFound {
			t.Errorf("idle after a reload: %v", err)
		}
		h2.describe("recent")
		// A forgotten id starts over with a new producer id.
		if pid, _ := h2.init("idle"); pid == 1000 {
			t.Errorf("idle got its old producer id back")
		}
	})
}

// TestExpireFailedTombstone: when the tombstones cannot be written, the
// ids stay and are usable.
func TestExpireFailedTombstone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{IDExpiration: time.Hour, RemoveInterval: time.Hour})
		h.load()
		pid, epoch := h.init("idle")
		h.log.setFail(func([]byte) error { return apierr.Errorf(kerr.NotLeaderForPartition, "moved") })
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		h.log.setFail(nil)
		if d := h.describe("idle"); d.ProducerID != pid {
			t.Errorf("%+v", d)
		}
		wantErr(t, "add", h.c.AddPartitions("idle", pid, epoch, tpList("a-0")), nil)
	})
}

// TestVerifyPartitions is the verify-only form of AddPartitionsToTxn
// (KIP-890): partitions in the ongoing transaction pass, the others are
// TRANSACTION_ABORTABLE; nothing is written. A producer whose transaction
// ended (a late produce after an abort) is refused.
func TestVerifyPartitions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{})
		h.load()
		pid, epoch := h.begin("t1", "a-0")
		n := len(h.log.records(t))
		res, top := h.c.VerifyPartitions("t1", pid, epoch, tpList("a-0", "a-1"))
		want := map[TopicPartition]*kerr.Error{{"a", 0}: nil, {"a", 1}: kerr.TransactionAbortable}
		if top != nil || !reflect.DeepEqual(res, want) {
			t.Errorf("verify %v %v", res, top)
		}
		if len(h.log.records(t)) != n {
			t.Error("verification wrote to the log")
		}
		h.c.EndTxn("t1", pid, epoch, false)
		synctest.Wait()
		res, top = h.c.VerifyPartitions("t1", pid, epoch, tpList("a-0"))
		if top != nil || res[TopicPartition{"a", 0}] != kerr.TransactionAbortable {
			t.Errorf("after the abort: %v %v", res, top)
		}
		_, top = h.c.VerifyPartitions("", pid, epoch, tpList("a-0"))
		wantErr(t, "empty id", top, kerr.InvalidRequest)
		h.c.Unload(0)
		_, top = h.c.VerifyPartitions("t1", pid, epoch, tpList("a-0"))
		wantErr(t, "not coordinator", top, kerr.NotCoordinator)
	})
}

// TestDescribeAndList: DescribeTransactions' fields, and
// ListTransactions' filters (KIP-664): producer ids, state names (unknown
// names returned), and the v1 duration filter.
func TestDescribeAndList(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{})
		h.load()
		_, err := h.c.Describe("nope")
		wantErr(t, "unknown id", err, kerr.TransactionalIDNotFound)
		_, err = h.c.Describe("")
		wantErr(t, "empty id", err, kerr.InvalidRequest)
		h.init("e")
		start := time.Now().UnixMilli()
		pid, _ := h.begin("o", "b-0", "a-1")
		time.Sleep(time.Minute)
		d := h.describe("o")
		if d.ProducerID != pid || d.State != Ongoing || d.TimeoutMs != 60000 || d.StartMs != start || !reflect.DeepEqual(d.Partitions, tpList("a-1", "b-0")) {
			t.Errorf("describe %+v", d)
		}
		pid2, epoch2 := h.begin("c", "a-0")
		h.c.EndTxn("c", pid2, epoch2, true)
		synctest.Wait()
		ids := func(l []Listed) (out []string) {
			for _, x := range l {
				out = append(out, x.ID+"/"+x.State.String())
			}
			return out
		}
		for _, c := range []struct {
			name    string
			pids    []int64
			states  []string
			minDur  int64
			want    []string
			unknown []string
		}{
			{"all", nil, nil, -1, []string{"c/CompleteCommit", "e/Empty", "o/Ongoing"}, nil},
			{"by producer", []int64{pid}, nil, -1, []string{"o/Ongoing"}, nil},
			{"by state", nil, []string{"Ongoing", "CompleteCommit", "Bogus"}, -1, []string{"c/CompleteCommit", "o/Ongoing"}, []string{"Bogus"}},
			{"only unknown states", nil, []string{"Bogus"}, -1, nil, []string{"Bogus"}},
			{"running over 30 s", nil, []string{"Ongoing", "CompleteCommit"}, 30000, []string{"o/Ongoing"}, nil},
		} {
			l, unknown, err := h.c.List(c.pids, c.states, c.minDur)
			if err != nil || !reflect.DeepEqual(ids(l), c.want) || !reflect.DeepEqual(unknown, c.unknown) {
				t.Errorf("%s: %v unknown %v err %v; want %v %v", c.name, ids(l), unknown, err, c.want, c.unknown)
			}
		}
	})
}
