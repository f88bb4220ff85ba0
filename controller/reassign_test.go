package controller

// Partition reassignment, KIP-455 (Kafka's ControllerIntegrationTest
// testPartitionReassignment*, and the steps of onPartitionReassignment).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/metadata/kafkazk/zkdata"
)

// reassignCluster: controller 5, brokers 1-4, topic t with t-0 on [1 2 3]
// (led by 1) and t-1 on [2 3 1] (led by 2), all in sync.
func reassignCluster(t *testing.T) *harness {
	h := newHarness(t)
	h.boot(5, 1, 2, 3, 4)
	h.topic("t", 5, []int32{1, 2, 3}, []int32{2, 3, 1})
	return h
}

// reassign asks controller ctl to move t-p to replicas (nil: cancel) and
// returns the partition's error code.
func reassign(t *testing.T, ctl *Controller, p int32, replicas []int32) int16 {
	t.Helper()
	req := kmsg.NewPtrAlterPartitionAssignmentsRequest()
	rt := kmsg.NewAlterPartitionAssignmentsRequestTopic()
	rt.Topic = "t"
	rp := kmsg.NewAlterPartitionAssignmentsRequestTopicPartition()
	rp.Partition, rp.Replicas = p, replicas
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := ctl.AlterPartitionReassignments(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ErrorCode != 0 {
		return resp.ErrorCode
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

// listed is what ListPartitionReassignments says, one line a partition.
func listed(t *testing.T, ctl *Controller) []string {
	t.Helper()
	resp, err := ctl.ListPartitionReassignments(context.Background(), kmsg.NewPtrListPartitionReassignmentsRequest())
	if err != nil || resp.ErrorCode != 0 {
		t.Fatalf("ListPartitionReassignments: %v, %d", err, resp.ErrorCode)
	}
	var out []string
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			out = append(out, fmt.Sprintf("%s-%d r%s +%s -%s", rt.Topic, p.Partition, ints(p.Replicas), ints(p.AddingReplicas), ints(p.RemovingReplicas)))
		}
	}
	return out
}

func (h *harness) wantAssignment(topic string, p int32, replicas, adding, removing []int32) {
	h.t.Helper()
	a, ok := h.store.assignment(topic)
	pa := a.Partitions[p]
	if !ok || !slices.Equal(pa.Replicas, replicas) || !slices.Equal(pa.AddingReplicas, adding) || !slices.Equal(pa.RemovingReplicas, removing) {
		h.t.Errorf("%s-%d assignment: replicas %v adding %v removing %v; want %v, %v, %v", topic, p, pa.Replicas, pa.AddingReplicas, pa.RemovingReplicas, replicas, adding, removing)
	}
}

// TestReassignmentSteps: start (the full replica set RS = TRS + ORS with
// adding and removing written to the topic's znode, leader epoch + 1,
// LeaderAndIsr to RS), wait for the new replica to join the ISR, then
// finish: leadership to a target replica, ISR within the target,
// assignment TRS, StopReplica with deletion to the removed replica.
func TestReassignmentSteps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := reassignCluster(t)
		ctl := h.ctls[5]
		if code := reassign(t, ctl, 0, []int32{2, 3, 4}); code != 0 {
			t.Fatalf("reassignment refused: %v", kerr.ErrorForCode(code))
		}
		h.wantAssignment("t", 0, []int32{2, 3, 4, 1}, []int32{4}, []int32{1})
		h.wantState("t", 0, 1, 1, []int32{1, 2, 3}, 1)
		if got := listed(t, ctl); !slices.Equal(got, []string{"t-0 r[2,3,4,1] +[4] -[1]"}) {
			t.Errorf("listed %v", got)
		}
		synctest.Wait()
		lai := "LeaderAndIsr ce=1 t-0:L1/e1/[1,2,3]/v1 r[2,3,4,1] +[4] -[1] leaders[1]"
		um := "UpdateMetadata ce=1 live[1,2,3,4,5] t-0:L1/e1/[1,2,3]/v1 r[2,3,4,1]"
		wantRequests(t, "start", byBroker(h.net.take(t, 5)), map[int32][]string{
			1: {lai, um}, 2: {lai, um}, 3: {lai, um}, 4: {lai, um}, 5: {um},
		})

		// The leader adds the new replica to the ISR: that finishes it.
		resp, err := ctl.AlterPartition(context.Background(), alterReq(1, h.store.brokerEpoch(1), "t", 0, 1, 1, 1, 2, 3, 4))
		if code := errCode(resp, err); code != 0 {
			t.Fatalf("AlterPartition: %v", kerr.ErrorForCode(code))
		}
		h.wantState("t", 0, 2, 2, []int32{2, 3, 4}, 3)
		h.wantAssignment("t", 0, []int32{2, 3, 4}, nil, nil)
		if got := listed(t, ctl); len(got) != 0 {
			t.Errorf("still listed: %v", got)
		}
		synctest.Wait()
		isr := "UpdateMetadata ce=1 live[1,2,3,4,5] t-0:L1/e1/[1,2,3,4]/v2 r[2,3,4,1]"
		lai = "LeaderAndIsr ce=1 t-0:L2/e2/[2,3,4]/v3 r[2,3,4] leaders[2]"
		um = "UpdateMetadata ce=1 live[1,2,3,4,5] t-0:L2/e2/[2,3,4]/v3 r[2,3,4]"
		wantRequests(t, "finish", byBroker(h.net.take(t, 5)), map[int32][]string{
			1: {isr, "StopReplica ce=1 delete t-[0]", um},
			2: {isr, lai, um}, 3: {isr, lai, um}, 4: {isr, lai, um},
			5: {isr, um},
		})
	})
}

// TestReassignmentInSyncAlready: a target the ISR already covers (fewer
// replicas) finishes at once; the leader stays when it is in the target.
func TestReassignmentInSyncAlready(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := reassignCluster(t)
		if code := reassign(t, h.ctls[5], 1, []int32{3, 2}); code != 0 {
			t.Fatalf("reassignment refused: %v", kerr.ErrorForCode(code))
		}
		h.wantAssignment("t", 1, []int32{3, 2}, nil, nil)
		h.wantState("t", 1, 2, 2, []int32{2, 3}, 2)
		synctest.Wait()
		stops := only("StopReplica", byBroker(h.net.take(t, 5)))
		wantRequests(t, "StopReplica", stops, map[int32][]string{1: {"StopReplica ce=1 delete t-[1]"}})
	})
}

// TestReassignmentErrors: targets refused, and a cancel with nothing to
// cancel.
func TestReassignmentErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := reassignCluster(t)
		for _, tc := range []struct {
			name     string
			p        int32
			replicas []int32
			want     *kerr.Error
		}{
			{"unknown broker", 0, []int32{1, 9}, kerr.InvalidReplicaAssignment},
			{"duplicate", 0, []int32{1, 2, 1}, kerr.InvalidReplicaAssignment},
			{"empty", 0, []int32{}, kerr.InvalidReplicaAssignment},
			{"unknown partition", 7, []int32{1}, kerr.UnknownTopicOrPartition},
			{"nothing to cancel", 0, nil, kerr.NoReassignmentInProgress},
		} {
			if code := reassign(t, h.ctls[5], tc.p, tc.replicas); code != tc.want.Code {
				t.Errorf("%s: %v, want %v", tc.name, kerr.ErrorForCode(code), tc.want)
			}
		}
		h.wantAssignment("t", 0, []int32{1, 2, 3}, nil, nil)
		h.wantState("t", 0, 1, 0, []int32{1, 2, 3}, 0)
		other := h.startController(1)
		synctest.Wait()
		if code := reassign(t, other, 0, []int32{2, 3, 4}); code != kerr.NotController.Code {
			t.Errorf("to a candidate: %v, want NOT_CONTROLLER", kerr.ErrorForCode(code))
		}
	})
}

// TestReassignmentResumedByNewController: adding and removing replicas
// live in the topic's znode, so the next controller picks the
// reassignment up and finishes it.
func TestReassignmentResumedByNewController(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := reassignCluster(t)
		if code := reassign(t, h.ctls[5], 0, []int32{2, 3, 4}); code != 0 {
			t.Fatalf("reassignment refused: %v", kerr.ErrorForCode(code))
		}
		next := h.startController(4)
		synctest.Wait()
		h.kill(5)
		synctest.Wait()
		if !next.IsActive() {
			t.Fatal("broker 4 did not take over")
		}
		if got := listed(t, next); !slices.Equal(got, []string{"t-0 r[2,3,4,1] +[4] -[1]"}) {
			t.Errorf("the new controller lists %v", got)
		}
		resp, err := next.AlterPartition(context.Background(), alterReq(1, h.store.brokerEpoch(1), "t", 0, 1, 1, 1, 2, 3, 4))
		if code := errCode(resp, err); code != 0 {
			t.Fatalf("AlterPartition: %v", kerr.ErrorForCode(code))
		}
		h.wantAssignment("t", 0, []int32{2, 3, 4}, nil, nil)
		h.wantState("t", 0, 2, 2, []int32{2, 3, 4}, 3)
	})
}

// TestReassignmentFromZnode: /admin/reassign_partitions, written while no
// controller runs, is read by the next one; each partition leaves the
// znode as it finishes, and the znode goes with the last.
func TestReassignmentFromZnode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := reassignCluster(t)
		h.kill(5)
		synctest.Wait()
		h.store.createReassignment(map[zkdata.TopicPartition][]int32{
			{Topic: "t", Partition: 0}: {2, 3, 4},
			{Topic: "t", Partition: 1}: {3, 1},
		})
		ctl := h.startController(4)
		synctest.Wait()
		if !ctl.IsActive() {
			t.Fatal("broker 4 is not the controller")
		}
		h.wantAssignment("t", 1, []int32{3, 1}, nil, nil)
		h.wantAssignment("t", 0, []int32{2, 3, 4, 1}, []int32{4}, []int32{1})
		if got, _ := ctl.zk.PartitionReassignment(context.Background()); len(got) != 1 || got[zkdata.TopicPartition{Topic: "t", Partition: 0}] == nil {
			t.Errorf("/admin/reassign_partitions holds %v, want t-0 alone", got)
		}
		resp, err := ctl.AlterPartition(context.Background(), alterReq(1, h.store.brokerEpoch(1), "t", 0, 1, 1, 1, 2, 3, 4))
		if code := errCode(resp, err); code != 0 {
			t.Fatalf("AlterPartition: %v", kerr.ErrorForCode(code))
		}
		h.wantAssignment("t", 0, []int32{2, 3, 4}, nil, nil)
		if h.store.exists(zkdata.ReassignPartitionsPath) {
			t.Error("/admin/reassign_partitions is still there")
		}
	})
}

// TestReassignmentWaitsForTarget: while a target replica is dead the
// reassignment waits; it finishes once that replica is back and in sync.
func TestReassignmentWaitsForTarget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := reassignCluster(t)
		if code := reassign(t, h.ctls[5], 0, []int32{4, 2}); code != 0 {
			t.Fatalf("reassignment refused: %v", kerr.ErrorForCode(code))
		}
		h.kill(4)
		synctest.Wait()
		h.wantAssignment("t", 0, []int32{4, 2, 1, 3}, []int32{4}, []int32{1, 3})
		h.register(4)
		synctest.Wait()
		h.wantAssignment("t", 0, []int32{4, 2, 1, 3}, []int32{4}, []int32{1, 3})
		st := h.mustState("t", 0)
		resp, err := h.ctls[5].AlterPartition(context.Background(), alterReq(1, h.store.brokerEpoch(1), "t", 0, st.LeaderEpoch, st.PartitionEpoch, 1, 2, 3, 4))
		if code := errCode(resp, err); code != 0 {
			t.Fatalf("AlterPartition: %v", kerr.ErrorForCode(code))
		}
		h.wantAssignment("t", 0, []int32{4, 2}, nil, nil)
		h.wantState("t", 0, 4, st.LeaderEpoch+1, []int32{2, 4}, st.PartitionEpoch+2)
	})
}

// TestReassignmentCancel: a cancelled reassignment goes back to the
// original replicas; the replicas it was adding leave the ISR if they had
// joined it and are stopped and deleted (Kafka's step U3), as are those of
// a reassignment replaced by another. As in Kafka, the original order is
// not restored: the replica set in progress lists the target first.
func TestReassignmentCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := reassignCluster(t)
		ctl := h.ctls[5]
		if code := reassign(t, ctl, 0, []int32{2, 3, 4}); code != 0 {
			t.Fatalf("reassignment refused: %v", kerr.ErrorForCode(code))
		}
		synctest.Wait()
		h.net.take(t, 5)
		if code := reassign(t, ctl, 0, nil); code != 0 {
			t.Fatalf("cancel refused: %v", kerr.ErrorForCode(code))
		}
		h.wantAssignment("t", 0, []int32{2, 3, 1}, nil, nil)
		h.wantState("t", 0, 1, 2, []int32{1, 2, 3}, 2)
		if got := listed(t, ctl); len(got) != 0 {
			t.Errorf("still listed: %v", got)
		}
		synctest.Wait()
		lai := "LeaderAndIsr ce=1 t-0:L1/e2/[1,2,3]/v2 r[2,3,1] leaders[1]"
		um := "UpdateMetadata ce=1 live[1,2,3,4,5] t-0:L1/e2/[1,2,3]/v2 r[2,3,1]"
		wantRequests(t, "cancel", byBroker(h.net.take(t, 5)), map[int32][]string{
			1: {lai, um}, 2: {lai, um}, 3: {lai, um},
			4: {"StopReplica ce=1 delete t-[0]", um},
			5: {um},
		})

		// Moving t-1 to [4 5]: 4 catches up and joins the ISR, 5 does not
		// yet. Replaced by a move to [3 5]: 4 leaves the ISR and stops.
		// Then cancelled: 5 stops.
		if code := reassign(t, ctl, 1, []int32{4, 5}); code != 0 {
			t.Fatalf("reassignment refused: %v", kerr.ErrorForCode(code))
		}
		resp, err := ctl.AlterPartition(context.Background(), alterReq(2, h.store.brokerEpoch(2), "t", 1, 1, 1, 2, 3, 1, 4))
		if code := errCode(resp, err); code != 0 {
			t.Fatalf("AlterPartition: %v", kerr.ErrorForCode(code))
		}
		h.wantAssignment("t", 1, []int32{4, 5, 2, 3, 1}, []int32{4, 5}, []int32{2, 3, 1})
		synctest.Wait()
		h.net.take(t, 5)
		if code := reassign(t, ctl, 1, []int32{3, 5}); code != 0 {
			t.Fatalf("new target refused: %v", kerr.ErrorForCode(code))
		}
		h.wantAssignment("t", 1, []int32{3, 5, 2, 1}, []int32{5}, []int32{2, 1})
		h.wantState("t", 1, 2, 2, []int32{2, 3, 1}, 3)
		synctest.Wait()
		wantRequests(t, "replaced", only("StopReplica", byBroker(h.net.take(t, 5))), map[int32][]string{
			4: {"StopReplica ce=1 delete t-[1]"},
		})
		if code := reassign(t, ctl, 1, nil); code != 0 {
			t.Fatalf("cancel refused: %v", kerr.ErrorForCode(code))
		}
		h.wantAssignment("t", 1, []int32{3, 2, 1}, nil, nil)
		h.wantState("t", 1, 2, 3, []int32{2, 3, 1}, 4)
		synctest.Wait()
		wantRequests(t, "cancelled", only("StopReplica", byBroker(h.net.take(t, 5))), map[int32][]string{
			5: {"StopReplica ce=1 delete t-[1]"},
		})
	})
}

// TestReassignmentCancelWithOriginalReplicaDown: a cancel is accepted
// while an original replica is offline; only new targets must be live.
func TestReassignmentCancelWithOriginalReplicaDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := reassignCluster(t)
		if code := reassign(t, h.ctls[5], 0, []int32{2, 3, 4}); code != 0 {
			t.Fatalf("reassignment refused: %v", kerr.ErrorForCode(code))
		}
		h.kill(1)
		synctest.Wait()
		if code := reassign(t, h.ctls[5], 0, nil); code != 0 {
			t.Fatalf("cancel refused: %v", kerr.ErrorForCode(code))
		}
		h.wantAssignment("t", 0, []int32{2, 3, 1}, nil, nil)
	})
}

// TestReassignmentCancelRefusedWhenOnlyNewReplicasInSync: a cancel that
// would remove every in-sync replica (the original ones died after a new
// one caught up) is refused: it would leave the partition without a copy
// it can be led from.
func TestReassignmentCancelRefusedWhenOnlyNewReplicasInSync(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := reassignCluster(t)
		ctl := h.ctls[5]
		if code := reassign(t, ctl, 0, []int32{4, 2}); code != 0 {
			t.Fatalf("reassignment refused: %v", kerr.ErrorForCode(code))
		}
		resp, err := ctl.AlterPartition(context.Background(), alterReq(1, h.store.brokerEpoch(1), "t", 0, 1, 1, 1, 3, 4))
		if code := errCode(resp, err); code != 0 {
			t.Fatalf("AlterPartition: %v", kerr.ErrorForCode(code))
		}
		h.kill(1)
		synctest.Wait()
		h.kill(3)
		synctest.Wait()
		h.wantState("t", 0, 4, 3, []int32{4}, 4)
		if code := reassign(t, ctl, 0, nil); code != kerr.InvalidReplicaAssignment.Code {
			t.Errorf("cancel: %v, want INVALID_REPLICA_ASSIGNMENT", kerr.ErrorForCode(code))
		}
		h.wantAssignment("t", 0, []int32{4, 2, 1, 3}, []int32{4}, []int32{1, 3})
		h.wantState("t", 0, 4, 3, []int32{4}, 4)
	})
}

// TestReassignmentWriteFailure: a reassignment whose assignment write
// fails leaves the controller's view as the store's: it is not listed,
// and asking again writes it.
func TestReassignmentWriteFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := reassignCluster(t)
		ctl := h.ctls[5]
		h.store.fail("SetTopicAssignment", errors.New("kafkazk: not connected to ZooKeeper"))
		if code := reassign(t, ctl, 0, []int32{2, 3, 4}); code != kerr.UnknownServerError.Code {
			t.Fatalf("reassignment with a failing store: %v, want UNKNOWN_SERVER_ERROR", kerr.ErrorForCode(code))
		}
		if got := listed(t, ctl); len(got) != 0 {
			t.Errorf("listed after the failed write: %v", got)
		}
		h.wantAssignment("t", 0, []int32{1, 2, 3}, nil, nil)
		if code := reassign(t, ctl, 0, []int32{2, 3, 4}); code != 0 {
			t.Fatalf("second attempt: %v", kerr.ErrorForCode(code))
		}
		h.wantAssignment("t", 0, []int32{2, 3, 4, 1}, []int32{4}, []int32{1})
	})
}
