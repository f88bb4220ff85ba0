package controller

// The partition state machine (the table in doc.go; Kafka's
// PartitionStateMachineTest and ReplicaStateMachineTest): which leader and
// ISR each transition writes, with which epochs, and what brokers are told.

import (
	"context"
	"strconv"
	"testing"
	"testing/synctest"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/metadata/kafkazk/zkdata"
)

func unclean(on bool) func(*Config) {
	return func(c *Config) { c.UncleanLeaderElection = on }
}

// seed writes a topic and its partitions' states before any controller
// runs: the cluster as a previous controller left it.
func (h *harness) seed(topic string, config map[string]string, parts ...seedPart) {
	var replicas [][]int32
	for _, p := range parts {
		replicas = append(replicas, p.replicas)
	}
	h.store.createTopic(topic, config, replicas...)
	for i, p := range parts {
		if p.leaderEpoch >= 0 {
			h.store.writeState(topic, int32(i), zkdata.LeaderAndISR{Leader: p.leader, LeaderEpoch: p.leaderEpoch, ISR: p.isr, ControllerEpoch: 1})
		}
	}
}

type seedPart struct {
	replicas    []int32
	leader      int32
	leaderEpoch int32 // -1: no state (New)
	isr         []int32
}

// TestNewPartitionOnline: a new partition's first live replica leads with
// every live replica in sync, at leader epoch 0; a partition with no live
// replica stays New (no state) until one registers.
func TestNewPartitionOnline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.boot(1, 2, 3)
		h.store.createTopic("t", nil, []int32{1, 2, 3}, []int32{4, 2, 3}, []int32{4, 5})
		synctest.Wait()
		h.wantState("t", 0, 1, 0, []int32{1, 2, 3}, 0)
		h.wantState("t", 1, 2, 0, []int32{2, 3}, 0)
		if _, ok := h.store.state("t", 2); ok {
			t.Error("t-2 has a state with no live replica")
		}
		got := byBroker(h.net.take(t, 1))
		um := "UpdateMetadata ce=1 live[1,2,3] t-0:L1/e0/[1,2,3]/v0 r[1,2,3] t-1:L2/e0/[2,3]/v0 r[4,2,3] off[4]"
		wantRequests(t, "topic creation", got, map[int32][]string{
			1: {"LeaderAndIsr ce=1 t-0:L1/e0/[1,2,3]/v0 r[1,2,3] leaders[1]", um},
			2: {"LeaderAndIsr ce=1 t-0:L1/e0/[1,2,3]/v0 r[1,2,3] t-1:L2/e0/[2,3]/v0 r[4,2,3] leaders[1,2]", um},
			3: {"LeaderAndIsr ce=1 t-0:L1/e0/[1,2,3]/v0 r[1,2,3] t-1:L2/e0/[2,3]/v0 r[4,2,3] leaders[1,2]", um},
		})

		// Broker 4 arrives: it follows t-1 (not in sync: the leader adds it)
		// and leads t-2, New until now.
		h.register(4)
		synctest.Wait()
		h.wantState("t", 1, 2, 0, []int32{2, 3}, 0)
		h.wantState("t", 2, 4, 0, []int32{4}, 0)
		got = only("LeaderAndIsr", byBroker(h.net.take(t, 1)))
		wantRequests(t, "broker 4 starts", got, map[int32][]string{
			4: {"LeaderAndIsr ce=1 full t-1:L2/e0/[2,3]/v0 r[4,2,3] leaders[2]",
				"LeaderAndIsr ce=1 t-2:L4/e0/[4]/v0 r[4,5] leaders[4]"},
		})
	})
}

// TestLeaderDiesNextInAssignmentOrder: the new leader is the first replica
// in assignment order that is alive and in sync, not the first of the
// ISR; the ISR loses the dead leader; the leader epoch grows by one and the
// state is written on its version.
func TestLeaderDiesNextInAssignmentOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.seed("t", nil, seedPart{[]int32{1, 2, 3}, 1, 3, []int32{1, 3, 2}})
		h.boot(4, 1, 2, 3)
		h.kill(1)
		synctest.Wait()
		h.wantState("t", 0, 2, 4, []int32{3, 2}, 1)
		um := "UpdateMetadata ce=1 live[2,3,4] t-0:L2/e4/[3,2]/v1 r[1,2,3] off[1]"
		lai := "LeaderAndIsr ce=1 t-0:L2/e4/[3,2]/v1 r[1,2,3] leaders[2]"
		wantRequests(t, "leader failover", byBroker(h.net.take(t, 4)), map[int32][]string{
			2: {lai, um}, 3: {lai, um}, 4: {um},
		})
	})
}

// TestNoLiveInSyncReplicaGoesOffline: with unclean election off, a
// partition whose in-sync replicas are all dead has no leader (-1) and
// keeps its last in-sync replica, though an out-of-sync replica lives;
// it is led again by that replica when it returns.
func TestNoLiveInSyncReplicaGoesOffline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.seed("t", nil, seedPart{[]int32{1, 2}, 1, 0, []int32{1}})
		h.boot(4, 1, 2)
		h.kill(1)
		synctest.Wait()
		h.wantState("t", 0, zkdata.NoLeader, 1, []int32{1}, 1)
		got := byBroker(h.net.take(t, 4))
		um := "UpdateMetadata ce=1 live[2,4] t-0:L-1/e1/[1]/v1 r[1,2] off[1]"
		wantRequests(t, "offline", got, map[int32][]string{
			2: {"LeaderAndIsr ce=1 t-0:L-1/e1/[1]/v1 r[1,2] leaders[]", um},
			4: {um},
		})

		// An out-of-sync replica that restarts does not lead.
		h.bounce(2)
		synctest.Wait()
		h.wantState("t", 0, zkdata.NoLeader, 1, []int32{1}, 1)
		h.net.take(t, 4)

		// The last in-sync replica does.
		h.register(1)
		synctest.Wait()
		h.wantState("t", 0, 1, 2, []int32{1}, 2)
		got = only("LeaderAndIsr", byBroker(h.net.take(t, 4)))
		wantRequests(t, "back online", got, map[int32][]string{
			1: {"LeaderAndIsr ce=1 full t-0:L-1/e1/[1]/v1 r[1,2] leaders[]", "LeaderAndIsr ce=1 t-0:L1/e2/[1]/v2 r[1,2] leaders[1]"},
			2: {"LeaderAndIsr ce=1 t-0:L1/e2/[1]/v2 r[1,2] leaders[1]"},
		})
	})
}

// TestUncleanElection: with unclean.leader.election.enable, a live
// out-of-sync replica leads a partition whose in-sync replicas are dead,
// alone in the ISR; the topic's config overrides the broker's default.
func TestUncleanElection(t *testing.T) {
	for _, tc := range []struct {
		broker     bool
		topic      string // "" unset
		wantLeader int32
	}{
		{false, "", zkdata.NoLeader},
		{true, "", 2},
		{true, "false", zkdata.NoLeader},
		{false, "true", 2},
	} {
		t.Run("broker="+strconv.FormatBool(tc.broker)+",topic="+tc.topic, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, unclean(tc.broker))
				cfg := map[string]string{}
				if tc.topic != "" {
					cfg["unclean.leader.election.enable"] = tc.topic
				}
				h.seed("t", cfg, seedPart{[]int32{1, 2}, 1, 0, []int32{1}})
				h.boot(4, 1, 2)
				h.kill(1)
				synctest.Wait()
				wantISR := []int32{1}
				if tc.wantLeader == 2 {
					wantISR = []int32{2}
				}
				h.wantState("t", 0, tc.wantLeader, 1, wantISR, 1)
			})
		})
	}
}

// TestDeadFollowerLeavesISRs: a dead follower leaves every ISR with the
// leader epoch + 1, except where it is the last member; a partition
// already offline is not written again when nothing changes.
func TestDeadFollowerLeavesISRs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.boot(4, 1, 2, 3)
		h.topic("t", 4, []int32{1, 2, 3}, []int32{2, 3}, []int32{3})
		h.kill(3)
		synctest.Wait()
		h.wantState("t", 0, 1, 1, []int32{1, 2}, 1)
		h.wantState("t", 1, 2, 1, []int32{2}, 1)
		h.wantState("t", 2, zkdata.NoLeader, 1, []int32{3}, 1)
		wantRequests(t, "follower death", only("LeaderAndIsr", byBroker(h.net.take(t, 4))), map[int32][]string{
			1: {"LeaderAndIsr ce=1 t-0:L1/e1/[1,2]/v1 r[1,2,3] leaders[1]"},
			2: {"LeaderAndIsr ce=1 t-0:L1/e1/[1,2]/v1 r[1,2,3] t-1:L2/e1/[2]/v1 r[2,3] leaders[1,2]"},
		})

		h.kill(2)
		synctest.Wait()
		h.wantState("t", 0, 1, 2, []int32{1}, 2)
		h.wantState("t", 1, zkdata.NoLeader, 2, []int32{2}, 2)
		h.wantState("t", 2, zkdata.NoLeader, 1, []int32{3}, 1)
	})
}

// TestPartitionsAdded: partitions added to a topic's assignment get their
// first states; the existing ones are not touched.
func TestPartitionsAdded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.boot(1, 2)
		h.topic("t", 1, []int32{1, 2})
		h.store.addPartitions("t", []int32{2, 1})
		synctest.Wait()
		h.wantState("t", 0, 1, 0, []int32{1, 2}, 0)
		h.wantState("t", 1, 2, 0, []int32{2, 1}, 0)
		lai := "LeaderAndIsr ce=1 t-1:L2/e0/[2,1]/v0 r[2,1] leaders[2]"
		um := "UpdateMetadata ce=1 live[1,2] t-1:L2/e0/[2,1]/v0 r[2,1]"
		wantRequests(t, "partitions added", byBroker(h.net.take(t, 1)), map[int32][]string{1: {lai, um}, 2: {lai, um}})
	})
}

// TestStateWrittenBehindTheControllersBack: a state write that finds
// another partition epoch than the controller knows does not overwrite
// it; the controller reads the state again and decides from it next time.
func TestStateWrittenBehindTheControllersBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.boot(4, 1, 2, 3)
		h.topic("t", 4, []int32{1, 2, 3})
		h.store.writeState("t", 0, zkdata.LeaderAndISR{Leader: 1, LeaderEpoch: 7, ISR: []int32{1, 2}, ControllerEpoch: 1})
		h.kill(3) // the controller writes ISR [1 2] on version 0: refused
		synctest.Wait()
		h.wantState("t", 0, 1, 7, []int32{1, 2}, 1)

		// The controller knows version 1 now: the leader's ISR change made
		// on it is accepted.
		resp, err := h.ctls[4].AlterPartition(context.Background(), alterReq(1, h.store.brokerEpoch(1), "t", 0, 7, 1, 1))
		if code := errCode(resp, err); code != 0 {
			t.Fatalf("AlterPartition on the re-read state: %v", kerr.ErrorForCode(code))
		}
		h.wantState("t", 0, 1, 7, []int32{1}, 2)
	})
}
