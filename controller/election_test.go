package controller

// The /controller election and failover (Kafka's ControllerIntegrationTest:
// testControllerMoveIncrementsControllerEpoch, testControllerMoveOn*,
// testPreemptionOnControllerShutdown), on the in-memory store.

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/metadata/kafkazk"
	"samsa/metadata/kafkazk/zkdata"
)

// controllerChanges records what OnControllerChange tells each broker.
type controllerChanges struct {
	mu  sync.Mutex
	ids map[int32][]int32
}

func (r *controllerChanges) option(c *Config) {
	id := c.BrokerID
	c.OnControllerChange = func(ctl int32) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.ids[id] = append(r.ids[id], ctl)
	}
}

func (r *controllerChanges) of(id int32) []int32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids[id])
}

func activeOnes(h *harness) []int32 {
	var out []int32
	for id, c := range h.ctls {
		if c.IsActive() {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// TestFirstCandidateWins: the first candidate creates /controller with
// epoch 1; later candidates learn it and stay candidates.
func TestFirstCandidateWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		changes := &controllerChanges{ids: map[int32][]int32{}}
		h := newHarness(t, changes.option)
		h.register(1, 2, 3)
		h.startController(1)
		synctest.Wait()
		h.startController(2)
		h.startController(3)
		synctest.Wait()

		if got := activeOnes(h); !slices.Equal(got, []int32{1}) {
			t.Fatalf("active controllers %v, want [1]", got)
		}
		if epoch, version := h.store.controllerEpoch(); epoch != 1 || version != 1 {
			t.Errorf("/controller_epoch %d (version %d), want 1 (version 1)", epoch, version)
		}
		if id := h.store.controllerID(); id != 1 {
			t.Errorf("/controller names %d, want 1", id)
		}
		for _, id := range []int32{1, 2, 3} {
			if got := h.ctls[id].ControllerID(); got != 1 {
				t.Errorf("broker %d: ControllerID %d, want 1", id, got)
			}
			if got := changes.of(id); !slices.Equal(got, []int32{1}) {
				t.Errorf("broker %d was told controllers %v, want [1]", id, got)
			}
		}
	})
}

// TestEpochGrowsWithEachController: every new controller has the epoch of
// the last plus one, and its requests carry it.
func TestEpochGrowsWithEachController(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.boot(1, 2, 3)
		h.startController(2)
		h.startController(3)
		synctest.Wait()

		for want := int32(2); want <= 3; want++ {
			active := activeOnes(h)
			h.kill(active[0])
			synctest.Wait()
			active = activeOnes(h)
			if len(active) != 1 {
				t.Fatalf("after the controller died: active controllers %v, want one", active)
			}
			if epoch, _ := h.store.controllerEpoch(); epoch != want {
				t.Errorf("controller epoch %d, want %d", epoch, want)
			}
			for _, s := range h.net.take(t, active[0]) {
				if ce := controllerEpochOf(s.req); ce != want {
					t.Errorf("%s carries controller epoch %d, want %d", describe(s.req), ce, want)
				}
			}
		}
	})
}

func controllerEpochOf(req kmsg.Request) int32 {
	switch r := req.(type) {
	case *kmsg.LeaderAndISRRequest:
		return r.ControllerEpoch
	case *kmsg.UpdateMetadataRequest:
		return r.ControllerEpoch
	case *kmsg.StopReplicaRequest:
		return r.ControllerEpoch
	}
	return -1
}

// TestStopGivesControllerUp: a controller that stops deletes /controller,
// so a candidate takes over without waiting for the session to expire.
func TestStopGivesControllerUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		first := h.boot(1, 2)
		h.startController(2)
		synctest.Wait()
		first.Stop()
		delete(h.ctls, 1)
		synctest.Wait()
		if got := activeOnes(h); !slices.Equal(got, []int32{2}) {
			t.Fatalf("active controllers %v, want [2]", got)
		}
		if epoch, _ := h.store.controllerEpoch(); epoch != 2 {
			t.Errorf("controller epoch %d, want 2", epoch)
		}
	})
}

// TestFailoverResendsFullState: the new controller tells every live broker
// the whole cluster (UpdateMetadata, then LeaderAndIsr of type full for
// its replicas) and then fails over the broker that died with the old
// controller: leaderships to the next in-sync replica, ISRs without it,
// leader epoch + 1, written with the new controller epoch.
func TestFailoverResendsFullState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.boot(1, 2, 3)
		h.topic("t", 1, []int32{1, 2, 3}, []int32{2, 3, 1})
		h.startController(2)
		synctest.Wait()
		h.net.take(t, 1)

		h.kill(1)
		synctest.Wait()
		if !h.ctls[2].IsActive() {
			t.Fatal("broker 2 did not take over")
		}
		full := []string{
			"UpdateMetadata ce=2 live[2,3] t-0:L1/e0/[1,2,3]/v0 r[1,2,3] off[1] t-1:L2/e0/[2,3,1]/v0 r[2,3,1] off[1]",
			"LeaderAndIsr ce=2 full t-0:L1/e0/[1,2,3]/v0 r[1,2,3] t-1:L2/e0/[2,3,1]/v0 r[2,3,1] leaders[2]",
			"LeaderAndIsr ce=2 t-0:L2/e1/[2,3]/v1 r[1,2,3] t-1:L2/e1/[2,3]/v1 r[2,3,1] leaders[2]",
			"UpdateMetadata ce=2 live[2,3] t-0:L2/e1/[2,3]/v1 r[1,2,3] off[1] t-1:L2/e1/[2,3]/v1 r[2,3,1] off[1]",
		}
		wantRequests(t, "failover", byBroker(h.net.take(t, 2)), map[int32][]string{2: full, 3: full})
		h.wantState("t", 0, 2, 1, []int32{2, 3}, 1)
		h.wantState("t", 1, 2, 1, []int32{2, 3}, 1)
		if st, _ := h.store.state("t", 0); st.ControllerEpoch != 2 {
			t.Errorf("state written with controller epoch %d, want 2", st.ControllerEpoch)
		}
	})
}

// TestWithdrawnCandidateDoesNotRun: a stopping broker never takes the
// controller role, even when it is the only candidate left.
func TestWithdrawnCandidateDoesNotRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.boot(1, 2)
		h.startController(2).Withdraw()
		synctest.Wait()
		h.kill(1)
		synctest.Wait()
		if h.ctls[2].IsActive() || h.ctls[2].ControllerID() != -1 {
			t.Errorf("withdrawn broker 2: active %v, controller %d; want not active and no controller", h.ctls[2].IsActive(), h.ctls[2].ControllerID())
		}
		if id := h.store.controllerID(); id != -1 {
			t.Errorf("/controller names %d, want none", id)
		}
	})
}

// TestBrokersDeadWhileNoControllerWatched: brokers that died while there
// was no controller still lead and sit in ISRs; the next controller fails
// them over at activation. A partition whose only in-sync replicas are
// dead goes offline (leader -1) rather than keep a dead leader.
func TestBrokersDeadWhileNoControllerWatched(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.boot(1, 2, 3)
		h.topic("t", 1, []int32{1, 2, 3}, []int32{3, 1, 2}, []int32{3, 1})
		h.kill(1) // the controller
		synctest.Wait()
		h.kill(3) // nobody watches
		synctest.Wait()
		h.wantState("t", 0, 1, 0, []int32{1, 2, 3}, 0)

		h.startController(2)
		synctest.Wait()
		if !h.ctls[2].IsActive() {
			t.Fatal("broker 2 is not the controller")
		}
		h.wantState("t", 0, 2, 1, []int32{2}, 1)
		h.wantState("t", 1, 2, 1, []int32{2}, 1)
		h.wantState("t", 2, zkdata.NoLeader, 1, []int32{3}, 1)
	})
}

// TestSessionExpiryReelects: when the controller's own session expires,
// its /controller is gone; it resigns and runs again, with a new epoch.
func TestSessionExpiryReelects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.boot(1, 2)
		h.topic("t", 1, []int32{1, 2})
		h.sess[1].expire()
		h.register(1) // as the broker does in its own OnNewSession hook
		synctest.Wait()
		if !h.ctls[1].IsActive() {
			t.Fatal("broker 1 is not the controller again")
		}
		if epoch, _ := h.store.controllerEpoch(); epoch != 2 {
			t.Errorf("controller epoch %d, want 2", epoch)
		}
		// Whether the old term failed broker 1 over before it saw its
		// /controller gone depends on which watch fired first.
		got := byBroker(h.net.take(t, 1))
		if !slices.ContainsFunc(got[2], func(s string) bool { return strings.HasPrefix(s, "LeaderAndIsr ce=2 full t-0:") }) {
			t.Errorf("broker 2 got %q, want the full state from epoch 2", got[2])
		}
	})
}

// TestDeposedControllerIsFenced: a controller cut off from ZooKeeper past
// its session timeout has been replaced; its next write fails the
// controller-epoch check, it resigns, and the broker that asked is told
// NOT_CONTROLLER so that it finds the new one.
func TestDeposedControllerIsFenced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		zombie := h.boot(1, 2, 3)
		h.topic("t", 1, []int32{2, 3, 1})
		h.startController(2)
		synctest.Wait()

		h.sess[1].deafen()
		h.sess[1].expire()
		synctest.Wait()
		if !h.ctls[2].IsActive() {
			t.Fatal("broker 2 did not take over")
		}
		if !zombie.IsActive() {
			t.Fatal("the cut-off controller already knows it was replaced")
		}
		h.net.take(t, 2)
		before := h.store.fencedWrites()

		// Broker 2 leads t-0 at leader epoch 1 now (broker 1 left its ISR),
		// but asks the old controller, which knows epoch 0.
		resp, err := zombie.AlterPartition(context.Background(), alterReq(2, h.store.brokerEpoch(2), "t", 0, 0, 0, 2, 3))
		if h.store.fencedWrites() == before {
			t.Error("the deposed controller's write was not refused by the epoch check")
		}
		if code := errCode(resp, err); code != kerr.NotController.Code {
			t.Errorf("deposed controller answered AlterPartition with %v, want NOT_CONTROLLER", kerr.ErrorForCode(code))
		}
		synctest.Wait()
		if zombie.IsActive() {
			t.Error("the deposed controller still acts")
		}
		if got := zombie.ControllerID(); got != 2 {
			t.Errorf("the deposed controller names %d as controller, want 2", got)
		}
		if id := h.store.controllerID(); id != 2 {
			t.Errorf("/controller names %d, want 2", id)
		}
		h.wantState("t", 0, 2, 1, []int32{2, 3}, 1)
	})
}

// TestFencedEventResigns: a watch event whose write is refused by the
// epoch check makes the controller resign and run again.
func TestFencedEventResigns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.boot(1, 2, 3)
		h.topic("t", 1, []int32{2, 3})
		h.store.fail("UpdatePartitionStates", kafkazk.ErrControllerMoved)
		h.kill(3)
		synctest.Wait()
		if !h.ctls[1].IsActive() {
			t.Fatal("broker 1 is not the controller")
		}
		if epoch, _ := h.store.controllerEpoch(); epoch != 2 {
			t.Errorf("controller epoch %d, want 2: a resignation and a new election", epoch)
		}
		// The new term fails broker 3 over again.
		h.wantState("t", 0, 2, 1, []int32{2}, 1)
	})
}

// TestUnreadableRegistrationIgnored: garbage under /brokers/ids does not
// blind the controller to the brokers that are registered.
func TestUnreadableRegistrationIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.store.corruptRegistration("garbage")
		h.boot(1, 2)
		h.topic("t", 1, []int32{2, 1})
		h.wantState("t", 0, 2, 0, []int32{2, 1}, 0)
	})
}
