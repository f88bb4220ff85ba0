package controller

// Batching of the controller's requests (Kafka's
// ControllerBrokerRequestBatch): whatever an event changes, each broker
// gets at most one request of each kind for it, with every partition the
// event changed.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
)

// kinds counts the requests of each kind each broker got.
func kinds(reqs []sent) map[int32]map[string]int {
	count := map[int32]map[string]int{}
	for _, s := range reqs {
		d := describe(s.req)
		if count[s.to] == nil {
			count[s.to] = map[string]int{}
		}
		count[s.to][d[:strings.IndexByte(d, ' ')]]++
	}
	return count
}

// TestEventRequestsBatchedPerBroker: with 40 topics of 25 partitions on
// three brokers, a controller's start (full state to everyone, and the
// first leaders of the partitions), a controlled shutdown and a broker
// failure each reach every broker as one request of each kind at most.
func TestEventRequestsBatchedPerBroker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		assign := func(p int) []int32 {
			r := []int32{1, 2, 3}
			return append(r[p%3:], r[:p%3]...)
		}
		const topics, parts = 40, 25
		for i := range topics {
			var replicas [][]int32
			for p := range parts {
				replicas = append(replicas, assign(p))
			}
			h.store.createTopic(fmt.Sprintf("t%02d", i), nil, replicas...)
		}
		h.register(4, 1, 2, 3)
		h.startController(4)
		synctest.Wait()
		check := func(what string, want map[int32]map[string]int) {
			t.Helper()
			got := kinds(h.net.take(t, 4))
			for id, kinds := range want {
				for kind, n := range kinds {
					if got[id][kind] != n {
						t.Errorf("%s: broker %d got %d %s, want %d (all it got: %v)", what, id, got[id][kind], kind, n, got[id])
					}
				}
			}
		}
		// The new controller sends the full state and elects the first
		// leaders of all 1,000 partitions in one event: one LeaderAndIsr,
		// one UpdateMetadata of the live brokers, and one of the new
		// partitions once their replicas answered (offline.go).
		check("controller start", map[int32]map[string]int{
			1: {"LeaderAndIsr": 1, "UpdateMetadata": 2},
			2: {"LeaderAndIsr": 1, "UpdateMetadata": 2},
			3: {"LeaderAndIsr": 1, "UpdateMetadata": 2},
			4: {"LeaderAndIsr": 0, "UpdateMetadata": 2},
		})

		// Broker 1 leads a third of the partitions and follows the rest:
		// one LeaderAndIsr for each other replica, one UpdateMetadata for
		// everyone, one StopReplica for broker 1.
		remaining, err := h.ctls[4].ControlledShutdown(context.Background(), 1, h.store.brokerEpoch(1))
		if err != nil || len(remaining) != 0 {
			t.Fatalf("controlled shutdown: %v, remaining %v", err, remaining)
		}
		synctest.Wait()
		check("controlled shutdown", map[int32]map[string]int{
			1: {"LeaderAndIsr": 0, "UpdateMetadata": 1, "StopReplica": 1},
			2: {"LeaderAndIsr": 1, "UpdateMetadata": 1, "StopReplica": 0},
			3: {"LeaderAndIsr": 1, "UpdateMetadata": 1, "StopReplica": 0},
			4: {"UpdateMetadata": 1},
		})

		// Broker 2 dies: its leaderships move, it leaves every ISR.
		h.kill(2)
		synctest.Wait()
		check("broker failure", map[int32]map[string]int{
			3: {"LeaderAndIsr": 1, "UpdateMetadata": 1},
			4: {"LeaderAndIsr": 0, "UpdateMetadata": 1},
		})
		for i := range topics {
			for p := range int32(parts) {
				st, _ := h.store.state(fmt.Sprintf("t%02d", i), p)
				if st.Leader != 3 {
					t.Fatalf("t%02d-%d led by %d after brokers 1 and 2 left, want 3", i, p, st.Leader)
				}
			}
		}
	})
}
