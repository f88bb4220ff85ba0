package txn

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/apierr"
	"samsa/metadata"
)

// TestLoadInProgress: while a partition replays, its ids get
// COORDINATOR_LOAD_IN_PROGRESS, and ListTransactions too; then they are
// served from what was replayed.
func TestLoadInProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{})
		h.load()
		pid, epoch := h.begin("t1", "a-0")
		h.c.Unload(0)
		wantErr(t, "after unload", h.c.AddPartitions("t1", pid, epoch, tpList("a-1")), kerr.NotCoordinator)
		h.log.gate = make(chan struct{})
		loaded := h.c.Load(0, 6, h.log)
		if owned, loading := h.c.Owns(0); !owned || !loading {
			t.Fatalf("Owns: %v %v", owned, loading)
		}
		_, _, err := h.c.InitProducerID("t1", 60000, -1, -1)
		wantErr(t, "init while loading", err, kerr.CoordinatorLoadInProgress)
		wantErr(t, "add while loading", h.c.AddPartitions("t1", pid, epoch, tpList("a-1")), kerr.CoordinatorLoadInProgress)
		wantErr(t, "end while loading", h.c.EndTxn("t1", pid, epoch, true), kerr.CoordinatorLoadInProgress)
		_, err = h.c.Describe("t1")
		wantErr(t, "describe while loading", err, kerr.CoordinatorLoadInProgress)
		_, _, err = h.c.List(nil, nil, -1)
		wantErr(t, "list while loading", err, kerr.CoordinatorLoadInProgress)
		close(h.log.gate)
		<-loaded
		if d := h.describe("t1"); d.State != Ongoing || !reflect.DeepEqual(d.Partitions, tpList("a-0")) || d.ProducerID != pid {
			t.Errorf("loaded %+v", d)
		}
		wantErr(t, "end after loading", h.c.EndTxn("t1", pid, epoch, true), nil)
		synctest.Wait()
		if got := h.sender.summary(); !reflect.DeepEqual(got, []string{"1: commit 1000/0@6 a-0"}) {
			t.Errorf("markers carry the new coordinator epoch: %q", got)
		}
		if st := h.c.Stats(); st.Loads.Loads != 2 || st.States[CompleteCommit] != 1 {
			t.Errorf("stats %+v", st)
		}
	})
}

// TestFailoverCompletesCommit: a coordinator that fails over after
// writing PrepareCommit, before its markers were acknowledged, leaves the
// commit to the next: it loads the PrepareCommit, sends the markers with
// its own coordinator epoch and writes CompleteCommit. The old one,
// unloaded, sends nothing more and writes nothing.
func TestFailoverCompletesCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{})
		h.load()
		h.sender.set(nil, func(int32) error { return errNetwork })
		pid, epoch := h.begin("t1", "a-0", "a-1")
		if err := h.c.EndTxn("t1", pid, epoch, true); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		h.c.Unload(0)
		h.sender.reset()
		time.Sleep(20 * h.c.cfg.RetryBackoff)
		synctest.Wait()
		if got := h.sender.summary(); len(got) != 0 {
			t.Fatalf("the old coordinator still sends %q", got)
		}
		h.sender.set(nil, nil)
		h2 := h.restart(7)
		synctest.Wait()
		got := h.sender.summary()
		slices.Sort(got)
		if want := []string{"1: commit 1000/0@7 a-0", "2: commit 1000/0@7 a-1"}; !reflect.DeepEqual(got, want) {
			t.Errorf("markers of the new coordinator %q, want %q", got, want)
		}
		if got, want := h.log.states(t, "t1"), []string{"Empty", "Ongoing", "PrepareCommit", "CompleteCommit"}; !reflect.DeepEqual(got, want) {
			t.Errorf("log %v, want %v", got, want)
		}
		if d := h2.describe("t1"); d.State != CompleteCommit {
			t.Errorf("%+v", d)
		}
		wantErr(t, "the producer's retried commit", h2.c.EndTxn("t1", pid, epoch, true), nil)
	})
}

// TestFailoverBeforeMetadata: a coordinator that loads a PrepareCommit
// before its metadata cache has the cluster's state (in cluster mode a
// broker just started gets the LeaderAndIsr that loads it before the
// UpdateMetadata) finds none of the transaction's partitions in its
// cache: they are not known to be deleted, and their markers wait for
// the cache instead of being skipped. Once it has the state they go out
// and CompleteCommit is written.
func TestFailoverBeforeMetadata(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{})
		h.load()
		h.sender.set(nil, func(int32) error { return errNetwork })
		pid, epoch := h.begin("t1", "a-0", "b-0")
		if err := h.c.EndTxn("t1", pid, epoch, true); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		h.c.Unload(0)
		h.sender.reset()
		h.sender.set(nil, nil)

		full := h.cache.Load()
		cfg := h.c.cfg
		cfg.Cache = metadata.NewCache("test") // nothing yet
		c2 := New(cfg)
		t.Cleanup(c2.Close)
		<-c2.Load(0, 7, h.log)
		time.Sleep(10 * cfg.RetryBackoff)
		synctest.Wait()
		if got := h.sender.summary(); len(got) != 0 {
			t.Fatalf("markers %q sent with no leader known", got)
		}
		if d, err := c2.Describe("t1"); err != nil || d.State != PrepareCommit || !reflect.DeepEqual(d.Partitions, tpList("a-0", "b-0")) {
			t.Fatalf("before the metadata: %+v %v; want PrepareCommit with both partitions", d, err)
		}
		cfg.Cache.Update(func(e *metadata.Edit) {
			e.SetBrokers(full.Brokers)
			for _, name := range full.TopicNames() {
				e.PutTopic(full.Topic(name))
			}
		})
		time.Sleep(cfg.RetryBackoff)
		synctest.Wait()
		got := h.sender.summary()
		slices.Sort(got)
		if want := []string{"1: commit 1000/0@7 a-0", "3: commit 1000/0@7 b-0"}; !reflect.DeepEqual(got, want) {
			t.Errorf("markers once the metadata came %q, want %q", got, want)
		}
		if got, want := h.log.states(t, "t1"), []string{"Empty", "Ongoing", "PrepareCommit", "CompleteCommit"}; !reflect.DeepEqual(got, want) {
			t.Errorf("log %v, want %v", got, want)
		}
	})
}

// TestUnloadIgnoresAnswers: the answer to markers sent before the
// partition was given up changes nothing: no Complete state is written
// by a coordinator that no longer owns the partition.
func TestUnloadIgnoresAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{})
		h.load()
		release := make(chan struct{})
		h.sender.set(nil, func(int32) error { <-release; return nil })
		pid, epoch := h.begin("t1", "a-0")
		if err := h.c.EndTxn("t1", pid, epoch, true); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the request is in flight
		h.c.Unload(0)
		close(release)
		synctest.Wait()
		if got, want := h.log.states(t, "t1"), []string{"Empty", "Ongoing", "PrepareCommit"}; !reflect.DeepEqual(got, want) {
			t.Errorf("log %v, want %v", got, want)
		}
	})
}

// TestMarkersFenced: a leader answering INVALID_PRODUCER_EPOCH or
// TRANSACTION_COORDINATOR_FENCED has seen a newer producer or coordinator:
// no more markers are sent and the transaction is left to that newer
// coordinator (CONCURRENT_TRANSACTIONS meanwhile).
func TestMarkersFenced(t *testing.T) {
	for _, code := range []*kerr.Error{kerr.InvalidProducerEpoch, kerr.TransactionCoordinatorFenced} {
		t.Run(code.Message, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, Config{})
				h.load()
				h.sender.set(func(int32, kmsg.WriteTxnMarkersRequestMarker, string, int32) int16 { return code.Code }, nil)
				pid, epoch := h.begin("t1", "a-0")
				if err := h.c.EndTxn("t1", pid, epoch, true); err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				time.Sleep(10 * h.c.cfg.RetryBackoff)
				synctest.Wait()
				if n := len(h.sender.summary()); n != 1 {
					t.Errorf("%d requests, want 1", n)
				}
				if d := h.describe("t1"); d.State != PrepareCommit {
					t.Errorf("%+v", d)
				}
				wantErr(t, "end again", h.c.EndTxn("t1", pid, epoch, true), kerr.ConcurrentTransactions)
				if n := h.c.markers.pendingCount(); n != 0 {
					t.Errorf("%d transactions still sending markers", n)
				}
			})
		})
	}
}

// TestMarkerAnswers: every code a leader may answer, as Kafka's
// TransactionMarkerRequestCompletionHandler takes it: done, done because
// the partition cannot have the producer's data, or sent again.
func TestMarkerAnswers(t *testing.T) {
	for _, c := range []struct {
		code  *kerr.Error
		again bool
	}{
		{kerr.UnsupportedForMessageFormat, false},
		{kerr.UnsupportedVersion, false},
		{kerr.UnknownTopicOrPartition, true},
		{kerr.NotLeaderForPartition, true},
		{kerr.NotEnoughReplicas, true},
		{kerr.NotEnoughReplicasAfterAppend, true},
		{kerr.RequestTimedOut, true},
		{kerr.KafkaStorageError, true},
		{kerr.CorruptMessage, true},
	} {
		t.Run(c.code.Message, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, Config{})
				h.load()
				n := 0
				h.sender.set(func(int32, kmsg.WriteTxnMarkersRequestMarker, string, int32) int16 {
					n++
					if n == 1 {
						return c.code.Code
					}
					return 0
				}, nil)
				pid, epoch := h.begin("t1", "a-0")
				if err := h.c.EndTxn("t1", pid, epoch, false); err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				time.Sleep(h.c.cfg.RetryBackoff)
				synctest.Wait()
				want := 1
				if c.again {
					want = 2
				}
				if got := len(h.sender.summary()); got != want {
					t.Errorf("%d requests, want %d", got, want)
				}
				if d := h.describe("t1"); d.State != CompleteAbort {
					t.Errorf("%+v", d)
				}
			})
		})
	}
}

// TestAppendErrors: a failed append is answered with the coordinator's
// code for it (Kafka's mapping), changes nothing, and leaves no pending
// state behind: the retry works.
func TestAppendErrors(t *testing.T) {
	for _, c := range []struct {
		err  error
		want *kerr.Error
	}{
		{apierr.Errorf(kerr.NotEnoughReplicas, "isr"), kerr.CoordinatorNotAvailable},
		{apierr.Errorf(kerr.NotEnoughReplicasAfterAppend, "isr"), kerr.CoordinatorNotAvailable},
		{apierr.Errorf(kerr.RequestTimedOut, "slow"), kerr.CoordinatorNotAvailable},
		{apierr.Errorf(kerr.UnknownTopicOrPartition, "gone"), kerr.CoordinatorNotAvailable},
		{apierr.Errorf(kerr.NotLeaderForPartition, "moved"), kerr.NotCoordinator},
		{apierr.Errorf(kerr.KafkaStorageError, "disk"), kerr.NotCoordinator},
		{apierr.Errorf(kerr.MessageTooLarge, "big"), kerr.UnknownServerError},
		{context.DeadlineExceeded, kerr.CoordinatorNotAvailable},
		{errNetwork, kerr.UnknownServerError},
	} {
		synctest.Test(t, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.load()
			pid, epoch := h.init("t1")
			h.log.setFail(func([]byte) error { return c.err })
			wantErr(t, c.err.Error()+": add", h.c.AddPartitions("t1", pid, epoch, tpList("a-0")), c.want)
			_, _, err := h.c.InitProducerID("t1", 60000, -1, -1)
			wantErr(t, c.err.Error()+": init", err, c.want)
			h.log.setFail(nil)
			if d := h.describe("t1"); d.State != Empty || d.Epoch != epoch {
				t.Errorf("%v: after failed appends %+v", c.err, d)
			}
			wantErr(t, c.err.Error()+": add again", h.c.AddPartitions("t1", pid, epoch, tpList("a-0")), nil)
		})
	}
}

// TestCompletionRetried: a Complete state the log refuses with a
// retriable error is written again until it is in.
func TestCompletionRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{})
		h.load()
		pid, epoch := h.begin("t2", "a-0")
		fails := 3
		h.log.setFail(func(b []byte) error {
			if fails > 0 && containsState(t, b, CompleteCommit) {
				fails--
				return apierr.Errorf(kerr.NotEnoughReplicas, "isr")
			}
			return nil
		})
		if err := h.c.EndTxn("t2", pid, epoch, true); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if d := h.describe("t2"); d.State != PrepareCommit {
			t.Fatalf("%+v", d)
		}
		time.Sleep(3 * h.c.cfg.RetryBackoff)
		synctest.Wait()
		if d := h.describe("t2"); d.State != CompleteCommit || fails != 0 {
			t.Errorf("%+v, %d failures left", d, fails)
		}
	})
}

func containsState(t testing.TB, batch []byte, s State) bool {
	found := false
	decodeBatches(batch, func(k, v []byte) {
		if tr, err := decodeValue(v); err == nil && tr.state == s {
			found = true
		}
	}, nil)
	return found
}

// TestReplayRebuildsState: a coordinator loading the log knows what the
// one that wrote it knew (Kafka's TransactionStateManagerTest load tests):
// states, producers, epochs, timeouts, partitions, start times.
func TestReplayRebuildsState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{})
		h.load()
		h.init("empty")
		pid, epoch := h.begin("ongoing", "a-0", "b-0")
		time.Sleep(time.Second)
		h.c.AddPartitions("ongoing", pid, epoch, tpList("a-1"))
		pid, epoch = h.begin("committed", "a-2")
		h.c.EndTxn("committed", pid, epoch, true)
		pid, epoch = h.begin("aborted", "a-2")
		h.c.EndTxn("aborted", pid, epoch, false)
		synctest.Wait()
		h.init("aborted")
		synctest.Wait()
		ids := []string{"empty", "ongoing", "committed", "aborted"}
		before := map[string]Description{}
		for _, id := range ids {
			before[id] = h.describe(id)
		}
		h.c.Unload(0)
		h2 := h.restart(6)
		for _, id := range ids {
			if got := h2.describe(id); !reflect.DeepEqual(got, before[id]) {
				t.Errorf("%s: loaded %+v, written %+v", id, got, before[id])
			}
		}
		list, _, err := h2.c.List(nil, nil, -1)
		if err != nil || len(list) != 4 {
			t.Errorf("list %v %v", list, err)
		}
	})
}

// TestLoadSkipsGarbage: unreadable records of __transaction_state, and
// records of states Kafka never writes, are skipped: every id keeps what
// the readable records said, the others load.
func TestLoadSkipsGarbage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{})
		good := func(id string, epoch int16, s State) [2][]byte {
			tr := transit{producerID: 10, producerEpoch: epoch, timeoutMs: 1000, state: s, partitions: []TopicPartition{}, startMs: -1, updateMs: 5}
			if s == Ongoing {
				tr.partitions, tr.startMs = tpList("a-0"), 4
			}
			return [2][]byte{encodeKey(id), encodeValue(tr)}
		}
		compressed := encodeBatch(1, good("zipped", 1, Empty))
		compressed[22] |= 2
		control := encodeBatch(1, good("control", 1, Empty))
		control[22] |= 0x20
		for _, b := range [][]byte{
			encodeBatch(1, good("t1", 3, Empty), good("t2", 1, Ongoing)),
			encodeBatch(1,
				[2][]byte{encodeKey("t1"), []byte{0, 9, 1, 2}},                                     // value v9
				[2][]byte{[]byte{0, 1, 0, 2, 't', '1'}, nil},                                       // key v1: not a tombstone of t1
				[2][]byte{nil, []byte("no key")},                                                   // no key
				[2][]byte{encodeKey("t2"), []byte{0}},                                              // a byte
				good("t2", 2, Dead),                                                                // never written by Kafka
				good("t2", 2, PrepareEpochFence),                                                   // never written by Kafka
				[2][]byte{encodeKey("t3"), encodeValue(transit{producerID: 11, state: State(12)})}, // status 12
				good("t4", 0, Empty),
			),
			compressed, control,
		} {
			if err := h.log.Append(b); err != nil {
				t.Fatal(err)
			}
		}
		h.load()
		if d := h.describe("t1"); d.Epoch != 3 || d.State != Empty {
			t.Errorf("t1 %+v", d)
		}
		if d := h.describe("t2"); d.Epoch != 1 || d.State != Ongoing || !reflect.DeepEqual(d.Partitions, tpList("a-0")) {
			t.Errorf("t2 %+v", d)
		}
		for _, id := range []string{"t3", "zipped", "control"} {
			if _, err := h.c.Describe(id); err != kerr.TransactionalIDNotFound {
				t.Errorf("%s: %v, want TRANSACTIONAL_ID_NOT_FOUND", id, err)
			}
		}
		if d := h.describe("t4"); d.State != Empty {
			t.Errorf("t4 %+v", d)
		}
	})
}
