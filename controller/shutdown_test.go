package controller

// Controlled shutdown, preferred and unclean elections on request, and the
// automatic preferred-leader rebalance (Kafka's ControllerIntegrationTest
// testControlledShutdown, testShutdownBrokerNotAddedToIsr,
// testPreferredReplicaLeaderElection*, testAutoPreferredReplicaLeaderElection).

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/metadata/kafkazk/zkdata"
)

func remainingOf(rs []kmsg.ControlledShutdownResponsePartitionsRemaining) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s-%d", r.Topic, r.Partition))
	}
	slices.Sort(out)
	return out
}

// shutdownCluster: controller 4, brokers 1-3, and topic t:
//
//	t-0 [1 2 3] led by 1, all in sync
//	t-1 [2 1 3] led by 2, all in sync
//	t-2 [1]     led by 1
//	t-3 [3 1]   led by 1, only 1 in sync
//	t-4 [3 2]   led by 3, both in sync
func shutdownCluster(t *testing.T) *harness {
	h := newHarness(t)
	h.seed("t", nil,
		seedPart{[]int32{1, 2, 3}, 1, 0, []int32{1, 2, 3}},
		seedPart{[]int32{2, 1, 3}, 2, 0, []int32{2, 1, 3}},
		seedPart{[]int32{1}, 1, 0, []int32{1}},
		seedPart{[]int32{3, 1}, 1, 0, []int32{1}},
		seedPart{[]int32{3, 2}, 3, 0, []int32{3, 2}})
	h.boot(4, 1, 2, 3)
	return h
}

// TestControlledShutdown: the stopping broker's leaderships move to the
// next live in-sync replica, it leaves the ISRs, the other replicas get
// LeaderAndIsr and everyone UpdateMetadata, it gets StopReplica without
// deletion for the partitions it follows, and the partitions nobody else
// can lead are answered as remaining.
func TestControlledShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := shutdownCluster(t)
		remaining, err := h.ctls[4].ControlledShutdown(context.Background(), 1, h.store.brokerEpoch(1))
		if err != nil {
			t.Fatal(err)
		}
		if got := remainingOf(remaining); !slices.Equal(got, []string{"t-2", "t-3"}) {
			t.Errorf("remaining %v, want [t-2 t-3]", got)
		}
		h.wantState("t", 0, 2, 1, []int32{2, 3}, 1)
		h.wantState("t", 1, 2, 1, []int32{2, 3}, 1)
		h.wantState("t", 2, 1, 0, []int32{1}, 0)
		h.wantState("t", 3, 1, 0, []int32{1}, 0)
		h.wantState("t", 4, 3, 0, []int32{3, 2}, 0)
		synctest.Wait()
		lai := "LeaderAndIsr ce=1 t-0:L2/e1/[2,3]/v1 r[1,2,3] t-1:L2/e1/[2,3]/v1 r[2,1,3] leaders[2]"
		um := "UpdateMetadata ce=1 live[1,2,3,4] t-0:L2/e1/[2,3]/v1 r[1,2,3] t-1:L2/e1/[2,3]/v1 r[2,1,3]"
		wantRequests(t, "controlled shutdown", byBroker(h.net.take(t, 4)), map[int32][]string{
			1: {um, "StopReplica ce=1 t-[0,1]"},
			2: {lai, um},
			3: {lai, um},
			4: {um},
		})

		// The broker asks again (Kafka's brokers retry while partitions
		// remain): nothing more moves.
		remaining, err = h.ctls[4].ControlledShutdown(context.Background(), 1, h.store.brokerEpoch(1))
		if err != nil || !slices.Equal(remainingOf(remaining), []string{"t-2", "t-3"}) {
			t.Errorf("second request: remaining %v, %v", remainingOf(remaining), err)
		}
		h.wantState("t", 0, 2, 1, []int32{2, 3}, 1)

		// The stopping broker may not rejoin an ISR.
		resp, err := h.ctls[4].AlterPartition(context.Background(), alterReq(2, h.store.brokerEpoch(2), "t", 0, 1, 1, 2, 3, 1))
		if code := errCode(resp, err); code != kerr.IneligibleReplica.Code {
			t.Errorf("adding the stopping broker to an ISR: %v, want INELIGIBLE_REPLICA", kerr.ErrorForCode(code))
		}

		// Nor lead: the leader of t-0 dies, 3 takes over.
		h.kill(2)
		synctest.Wait()
		h.wantState("t", 0, 3, 2, []int32{3}, 2)

		// It stops; back with a new epoch, it leads what it alone held
		// and may join ISRs again.
		h.kill(1)
		synctest.Wait()
		h.wantState("t", 2, zkdata.NoLeader, 1, []int32{1}, 1)
		h.register(1)
		synctest.Wait()
		h.wantState("t", 2, 1, 2, []int32{1}, 2)
		resp, err = h.ctls[4].AlterPartition(context.Background(), alterReq(3, h.store.brokerEpoch(3), "t", 0, 2, 2, 3, 1))
		if code := errCode(resp, err); code != 0 {
			t.Errorf("adding the restarted broker to an ISR: %v", kerr.ErrorForCode(code))
		}
	})
}

// TestControlledShutdownErrors: the request of an unknown broker, of an
// earlier incarnation, or to a broker that is not the controller.
func TestControlledShutdownErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := shutdownCluster(t)
		other := h.startController(1)
		synctest.Wait()
		for _, tc := range []struct {
			name   string
			ctl    *Controller
			broker int32
			epoch  int64
			want   *kerr.Error
		}{
			{"unknown broker", h.ctls[4], 9, -1, kerr.BrokerNotAvailable},
			{"stale broker epoch", h.ctls[4], 2, h.store.brokerEpoch(2) - 1, kerr.StaleBrokerEpoch},
			{"not the controller", other, 2, h.store.brokerEpoch(2), kerr.NotController},
		} {
			_, err := tc.ctl.ControlledShutdown(context.Background(), tc.broker, tc.epoch)
			if code := errCode(nil, err); err == nil || code != tc.want.Code {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			}
		}
		h.wantState("t", 1, 2, 0, []int32{2, 1, 3}, 0)
	})
}

// TestControlledShutdownManyPartitions: a broker that leads or follows
// thousands of partitions shuts down in one request.
func TestControlledShutdownManyPartitions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.boot(4, 1, 2, 3)
		const n = 5000
		var replicas [][]int32
		for i := range n {
			r := []int32{1, 2, 3}
			r = append(r[i%3:], r[:i%3]...)
			replicas = append(replicas, r)
		}
		h.store.createTopic("big", nil, replicas...)
		synctest.Wait()
		h.net.take(t, 4)
		remaining, err := h.ctls[4].ControlledShutdown(context.Background(), 1, h.store.brokerEpoch(1))
		if err != nil || len(remaining) != 0 {
			t.Fatalf("remaining %d partitions, %v", len(remaining), err)
		}
		synctest.Wait()
		for p := range int32(n) {
			st, _ := h.store.state("big", p)
			if st.Leader == 1 || slices.Contains(st.ISR, 1) || st.LeaderEpoch != 1 {
				t.Fatalf("big-%d after the shutdown: %+v", p, st)
			}
		}
		var stops int
		for _, s := range h.net.take(t, 4) {
			if r, ok := s.req.(*kmsg.StopReplicaRequest); ok && s.to == 1 {
				stops += len(r.Topics[0].PartitionStates)
			}
		}
		if stops != n {
			t.Errorf("StopReplica for %d partitions, want %d", stops, n)
		}
	})
}

// TestPreferredElection: ElectLeaders(PREFERRED) moves leadership to the
// first assigned replica where it is alive and in sync, and tells why not
// elsewhere.
func TestPreferredElection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.seed("t", nil,
			seedPart{[]int32{1, 2}, 2, 3, []int32{2, 1}}, // preferred 1 in sync
			seedPart{[]int32{1, 2}, 1, 0, []int32{1, 2}}, // led by its preferred
			seedPart{[]int32{3, 2}, 2, 0, []int32{2}},    // preferred 3 not in sync
			seedPart{[]int32{5, 2}, 2, 0, []int32{2, 5}}) // preferred 5 dead
		h.seed("u", nil, seedPart{[]int32{3, 1}, 1, 0, []int32{1, 3}})
		h.boot(4, 1, 2, 3)
		res, err := h.ctls[4].ElectLeaders(context.Background(), 0, map[string][]int32{"t": {0, 1, 2, 3, 9}, "nope": {0}})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]map[int32]int16{
			"t": {0: 0, 1: kerr.ElectionNotNeeded.Code, 2: kerr.PreferredLeaderNotAvailable.Code,
				3: kerr.PreferredLeaderNotAvailable.Code, 9: kerr.UnknownTopicOrPartition.Code},
			"nope": {0: kerr.UnknownTopicOrPartition.Code},
		}
		if fmt.Sprint(res) != fmt.Sprint(want) {
			t.Errorf("results %v, want %v", res, want)
		}
		h.wantState("t", 0, 1, 4, []int32{2, 1}, 1)
		h.wantState("t", 1, 1, 0, []int32{1, 2}, 0)
		h.wantState("t", 2, 2, 0, []int32{2}, 0)
		synctest.Wait()
		lai := "LeaderAndIsr ce=1 t-0:L1/e4/[2,1]/v1 r[1,2] leaders[1]"
		um := "UpdateMetadata ce=1 live[1,2,3,4] t-0:L1/e4/[2,1]/v1 r[1,2]"
		wantRequests(t, "preferred election", byBroker(h.net.take(t, 4)), map[int32][]string{
			1: {lai, um}, 2: {lai, um}, 3: {um}, 4: {um},
		})

		// All partitions: only the elections done are reported.
		res, err = h.ctls[4].ElectLeaders(context.Background(), 0, nil)
		if err != nil || fmt.Sprint(res) != fmt.Sprint(map[string]map[int32]int16{"u": {0: 0}}) {
			t.Errorf("election of all partitions: %v, %v; want u-0 elected alone", res, err)
		}
	})
}

// TestUncleanElectionOnRequest: ElectLeaders(UNCLEAN) gives a leaderless
// partition its first live replica, alone in the ISR.
func TestUncleanElectionOnRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.seed("t", nil,
			seedPart{[]int32{5, 2}, zkdata.NoLeader, 2, []int32{5}},
			seedPart{[]int32{1, 2}, 1, 0, []int32{1, 2}},
			seedPart{[]int32{5, 6}, zkdata.NoLeader, 0, []int32{5}})
		h.boot(4, 1, 2)
		before := h.mustState("t", 0)
		res, err := h.ctls[4].ElectLeaders(context.Background(), 1, map[string][]int32{"t": {0, 1, 2}})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]map[int32]int16{"t": {0: 0, 1: kerr.ElectionNotNeeded.Code, 2: kerr.EligibleLeadersNotAvailable.Code}}
		if fmt.Sprint(res) != fmt.Sprint(want) {
			t.Errorf("results %v, want %v", res, want)
		}
		h.wantState("t", 0, 2, before.LeaderEpoch+1, []int32{2}, before.PartitionEpoch+1)
	})
}

// TestAutoRebalance: every RebalanceInterval, a broker whose share of
// preferred partitions led by others passes ImbalancePercent gets them
// back where it is in sync; nothing moves before the interval.
func TestAutoRebalance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, func(c *Config) {
			c.AutoLeaderRebalance, c.RebalanceInterval, c.ImbalancePercent = true, 300*time.Second, 10
		})
		h.seed("t", nil,
			seedPart{[]int32{1, 2}, 2, 0, []int32{1, 2}}, // 1's, led by 2
			seedPart{[]int32{1, 2}, 1, 0, []int32{1, 2}}, // 1's
			seedPart{[]int32{1, 2}, 2, 0, []int32{2}},    // 1's, led by 2, 1 not in sync
			seedPart{[]int32{2, 1}, 2, 0, []int32{2, 1}}, // 2's
			seedPart{[]int32{3, 2}, 2, 0, []int32{2, 3}}) // 3's: 3 is shutting down
		h.boot(4, 1, 2, 3)
		if _, err := h.ctls[4].ControlledShutdown(context.Background(), 3, -1); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		h.wantState("t", 4, 2, 1, []int32{2}, 1)

		time.Sleep(299 * time.Second)
		synctest.Wait()
		h.wantState("t", 0, 2, 0, []int32{1, 2}, 0)

		time.Sleep(time.Second)
		synctest.Wait()
		h.wantState("t", 0, 1, 1, []int32{1, 2}, 1)
		h.wantState("t", 1, 1, 0, []int32{1, 2}, 0)
		h.wantState("t", 2, 2, 0, []int32{2}, 0)
		h.wantState("t", 3, 2, 0, []int32{2, 1}, 0)
		h.wantState("t", 4, 2, 1, []int32{2}, 1)

		// Balanced now: the next round changes nothing.
		time.Sleep(300 * time.Second)
		synctest.Wait()
		h.wantState("t", 0, 1, 1, []int32{1, 2}, 1)
	})
}
