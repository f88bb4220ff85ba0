package controller

// AlterPartition: leaders' ISR changes (Kafka's ControllerIntegrationTest
// testAlterPartition*, KIP-497).

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/metadata/kafkazk/zkdata"
)

// isrCluster: controller 4, brokers 1-3; t-0 replicas [1 2 3] led by 1 at
// leader epoch 2 with ISR [1 2], partition epoch 1; t-1 replicas [1 2 5]
// (5 never registered) led by 1, ISR [1 2].
func isrCluster(t *testing.T) *harness {
	h := newHarness(t)
	h.seed("t", nil, seedPart{[]int32{1, 2, 3}, 1, 2, []int32{1, 2}}, seedPart{[]int32{1, 2, 5}, 1, 0, []int32{1, 2}})
	h.store.writeState("t", 0, h.mustState("t", 0)) // partition epoch 1
	h.boot(4, 1, 2, 3)
	h.wantState("t", 0, 1, 2, []int32{1, 2}, 1)
	return h
}

func (h *harness) mustState(topic string, p int32) (st zkdata.LeaderAndISR) {
	st, ok := h.store.state(topic, p)
	if !ok {
		h.t.Fatalf("%s-%d has no state", topic, p)
	}
	return st
}

// TestAlterPartitionChecks: each check of an ISR change and its error;
// accepted changes are written on the partition epoch, answered with the
// committed state and told to every broker with UpdateMetadata.
func TestAlterPartitionChecks(t *testing.T) {
	for _, tc := range []struct {
		name        string
		broker      int32
		staleEpoch  bool // the request's broker epoch is an older one
		version     int16
		partition   int32
		leaderEpoch int32
		partEpoch   int32
		isr         []int32
		want        *kerr.Error // nil: accepted
		wantISR     []int32     // the state after
	}{
		{name: "expand", broker: 1, leaderEpoch: 2, partEpoch: 1, isr: []int32{1, 2, 3}, wantISR: []int32{1, 2, 3}},
		{name: "shrink", broker: 1, leaderEpoch: 2, partEpoch: 1, isr: []int32{1}, wantISR: []int32{1}},
		{name: "not the leader", broker: 2, leaderEpoch: 2, partEpoch: 1, isr: []int32{1, 2, 3}, want: kerr.NotLeaderForPartition},
		{name: "older leader epoch", broker: 1, leaderEpoch: 1, partEpoch: 1, isr: []int32{1, 2, 3}, want: kerr.FencedLeaderEpoch},
		{name: "older partition epoch", broker: 1, leaderEpoch: 2, partEpoch: 0, isr: []int32{1, 2, 3}, want: kerr.InvalidUpdateVersion},
		{name: "not a replica", broker: 1, leaderEpoch: 2, partEpoch: 1, isr: []int32{1, 2, 6}, want: kerr.IneligibleReplica},
		{name: "without the leader", broker: 1, leaderEpoch: 2, partEpoch: 1, isr: []int32{2, 3}, want: kerr.IneligibleReplica},
		{name: "a dead replica", broker: 1, partition: 1, leaderEpoch: 0, partEpoch: 0, isr: []int32{1, 2, 5}, want: kerr.IneligibleReplica},
		{name: "ineligible at version 0", version: 0, broker: 1, leaderEpoch: 2, partEpoch: 1, isr: []int32{1, 2, 6}, want: kerr.OperationNotAttempted},
		{name: "unknown partition", broker: 1, partition: 9, isr: []int32{1}, want: kerr.UnknownTopicOrPartition},
		{name: "stale broker epoch", broker: 1, staleEpoch: true, leaderEpoch: 2, partEpoch: 1, isr: []int32{1, 2, 3}, want: kerr.StaleBrokerEpoch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := isrCluster(t)
				epoch := h.store.brokerEpoch(tc.broker)
				if tc.staleEpoch {
					epoch--
				}
				req := alterReq(tc.broker, epoch, "t", tc.partition, tc.leaderEpoch, tc.partEpoch, tc.isr...)
				if tc.name == "ineligible at version 0" {
					req.SetVersion(0)
				}
				resp, err := h.ctls[4].AlterPartition(context.Background(), req)
				code := errCode(resp, err)
				synctest.Wait()
				reqs := byBroker(h.net.take(t, 4))
				if tc.want != nil {
					if code != tc.want.Code {
						t.Fatalf("got %v, want %v", kerr.ErrorForCode(code), tc.want)
					}
					if tc.partition == 0 {
						h.wantState("t", 0, 1, 2, []int32{1, 2}, 1)
					}
					wantRequests(t, "refused change", reqs, nil)
					return
				}
				if code != 0 {
					t.Fatalf("refused with %v", kerr.ErrorForCode(code))
				}
				p := resp.Topics[0].Partitions[0]
				if p.LeaderID != 1 || p.LeaderEpoch != 2 || !slices.Equal(p.ISR, tc.wantISR) || p.PartitionEpoch != 2 {
					t.Errorf("answer: leader %d epoch %d ISR %v partition epoch %d; want 1, 2, %v, 2", p.LeaderID, p.LeaderEpoch, p.ISR, p.PartitionEpoch, tc.wantISR)
				}
				h.wantState("t", 0, 1, 2, tc.wantISR, 2)
				um := "UpdateMetadata ce=1 live[1,2,3,4] t-0:L1/e2/" + ints(tc.wantISR) + "/v2 r[1,2,3]"
				wantRequests(t, "accepted change", reqs, map[int32][]string{1: {um}, 2: {um}, 3: {um}, 4: {um}})
			})
		})
	}
}

// TestAlterPartitionUnchanged: an ISR equal to the committed one is
// answered with the state, and nothing is written.
func TestAlterPartitionUnchanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := isrCluster(t)
		resp, err := h.ctls[4].AlterPartition(context.Background(), alterReq(1, h.store.brokerEpoch(1), "t", 0, 2, 1, 1, 2))
		if code := errCode(resp, err); code != 0 {
			t.Fatalf("refused with %v", kerr.ErrorForCode(code))
		}
		if p := resp.Topics[0].Partitions[0]; p.PartitionEpoch != 1 || !slices.Equal(p.ISR, []int32{1, 2}) {
			t.Errorf("answer: ISR %v partition epoch %d, want [1 2] and 1", p.ISR, p.PartitionEpoch)
		}
		h.wantState("t", 0, 1, 2, []int32{1, 2}, 1)
	})
}

// TestAlterPartitionLosesRace: a change whose conditional write finds
// another partition epoch in the store is refused with
// INVALID_UPDATE_VERSION; the leader learns the state and tries again.
func TestAlterPartitionLosesRace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := isrCluster(t)
		st := h.mustState("t", 0)
		h.store.writeState("t", 0, st) // version 2, unknown to the controller
		resp, err := h.ctls[4].AlterPartition(context.Background(), alterReq(1, h.store.brokerEpoch(1), "t", 0, 2, 1, 1, 2, 3))
		if code := errCode(resp, err); code != kerr.InvalidUpdateVersion.Code {
			t.Fatalf("got %v, want INVALID_UPDATE_VERSION", kerr.ErrorForCode(code))
		}
		h.wantState("t", 0, 1, 2, []int32{1, 2}, 2)
		resp, err = h.ctls[4].AlterPartition(context.Background(), alterReq(1, h.store.brokerEpoch(1), "t", 0, 2, 2, 1, 2, 3))
		if code := errCode(resp, err); code != 0 {
			t.Fatalf("retry on the new partition epoch: %v", kerr.ErrorForCode(code))
		}
		h.wantState("t", 0, 1, 2, []int32{1, 2, 3}, 3)
	})
}

// TestAlterPartitionNotController: a candidate that is not the controller
// answers NOT_CONTROLLER.
func TestAlterPartitionNotController(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := isrCluster(t)
		other := h.startController(1)
		synctest.Wait()
		resp, err := other.AlterPartition(context.Background(), alterReq(1, h.store.brokerEpoch(1), "t", 0, 2, 1, 1, 2, 3))
		if code := errCode(resp, err); code != kerr.NotController.Code {
			t.Fatalf("got %v, want NOT_CONTROLLER", kerr.ErrorForCode(code))
		}
	})
}

// TestAlterPartitionRetryOfCommittedChange: a leader whose answer was lost
// sends the same change again, on the partition epoch it knew; it is
// answered with the committed state (Kafka's testIdempotentAlterPartition)
// and nothing is written again.
func TestAlterPartitionRetryOfCommittedChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := isrCluster(t)
		req := func() *kmsg.AlterPartitionRequest {
			return alterReq(1, h.store.brokerEpoch(1), "t", 0, 2, 1, 1, 2, 3)
		}
		if resp, err := h.ctls[4].AlterPartition(context.Background(), req()); errCode(resp, err) != 0 {
			t.Fatalf("first attempt refused: %v", kerr.ErrorForCode(errCode(resp, err)))
		}
		resp, err := h.ctls[4].AlterPartition(context.Background(), req())
		if code := errCode(resp, err); code != 0 {
			t.Fatalf("retry refused with %v, want the committed state", kerr.ErrorForCode(code))
		}
		if p := resp.Topics[0].Partitions[0]; p.PartitionEpoch != 2 || !slices.Equal(p.ISR, []int32{1, 2, 3}) {
			t.Errorf("retry answered ISR %v partition epoch %d, want [1 2 3] and 2", p.ISR, p.PartitionEpoch)
		}
		h.wantState("t", 0, 1, 2, []int32{1, 2, 3}, 2)
	})
}

// TestAlterPartitionNewerEpochs: a leader that names a newer leader or
// partition epoch than the controller knows has heard from a newer
// controller; it is told NOT_CONTROLLER, not that it is fenced.
func TestAlterPartitionNewerEpochs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := isrCluster(t)
		for _, epochs := range [][2]int32{{3, 1}, {2, 5}} {
			resp, err := h.ctls[4].AlterPartition(context.Background(), alterReq(1, h.store.brokerEpoch(1), "t", 0, epochs[0], epochs[1], 1, 2, 3))
			if code := errCode(resp, err); code != kerr.NotController.Code {
				t.Errorf("leader epoch %d partition epoch %d: %v, want NOT_CONTROLLER", epochs[0], epochs[1], kerr.ErrorForCode(code))
			}
		}
		h.wantState("t", 0, 1, 2, []int32{1, 2}, 1)
	})
}
