package controller

// Random sequences of what happens to a cluster (brokers dying,
// restarting, shutting down, sessions expiring, topics created, grown and
// deleted, ISR changes, reassignments, elections), after each of which the
// partition states must keep the controller's invariants and no event may
// have panicked. Seeded: a failure names its seed and last steps, and
// mostly replays (goroutines within a step still interleave freely).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/metadata/kafkazk/zkdata"
)

func TestChaos(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { chaos(t, seed, 150) })
		})
	}
}

func chaos(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 0))
	var logs syncBuffer
	h := newHarness(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: chaosLevel})).With("broker", c.BrokerID)
		c.UncleanLeaderElection = seed%2 == 0
	})
	const brokers = 5
	live := map[int32]bool{}
	for id := int32(1); id <= brokers; id++ {
		h.register(id)
		h.startController(id)
		live[id] = true
	}
	synctest.Wait()
	topics := 0
	var history []string
	// deaf brokers: cut off from ZooKeeper past their session; the
	// controller among them may still believe it acts.
	deaf := map[int32]bool{}
	pick := func(m map[int32]bool) int32 {
		ids := slices.Sorted(maps.Keys(m))
		if len(ids) == 0 {
			return -1
		}
		return ids[rng.IntN(len(ids))]
	}
	active := func() *Controller {
		for _, id := range slices.Sorted(maps.Keys(h.ctls)) {
			if h.ctls[id].IsActive() && !deaf[id] {
				return h.ctls[id]
			}
		}
		return nil
	}
	replicaSet := func(n int) []int32 {
		perm := rng.Perm(brokers)[:n]
		out := make([]int32, n)
		for i, p := range perm {
			out[i] = int32(p + 1)
		}
		return out
	}
	ctx := context.Background()
	for step := range steps {
		var did string
		switch r := rng.IntN(100); {
		case r < 12 && len(live) > 1:
			id := pick(live)
			h.kill(id)
			delete(live, id)
			did = fmt.Sprint("kill ", id)
		case r < 15 && len(deaf) > 0:
			id := pick(deaf)
			delete(deaf, id)
			h.sess[id].hear()
			h.register(id) // the broker's own hook registers it again
			live[id] = true
			did = fmt.Sprint("broker ", id, " reconnects")
		case r < 18 && len(live) > 1 && len(deaf) == 0:
			// The controller is cut off past its session timeout: another
			// takes over while it still believes it acts.
			for id := range live {
				if h.ctls[id] != nil && h.ctls[id].IsActive() {
					h.sess[id].deafen()
					h.sess[id].expire()
					delete(live, id)
					deaf[id] = true
					did = fmt.Sprint("controller ", id, " cut off")
				}
			}
		case r < 20:
			methods := []string{"Brokers", "Topics", "TopicAssignment", "PartitionStates", "CreatePartitionStates",
				"UpdatePartitionStates", "SetTopicAssignment", "DeleteTopic", "RemoveDeletionMarkers", "ElectController"}
			m := methods[rng.IntN(len(methods))]
			h.store.fail(m, errors.New("kafkazk: not connected to ZooKeeper"))
			did = "store hiccup in " + m
		case r < 24 && len(live)+len(deaf) < brokers:
			var dead []int32
			for id := int32(1); id <= brokers; id++ {
				if !live[id] && !deaf[id] {
					dead = append(dead, id)
				}
			}
			id := dead[rng.IntN(len(dead))]
			h.register(id)
			h.startController(id)
			live[id] = true
			did = fmt.Sprint("start ", id)
		case r < 30 && len(live) > 0:
			id := pick(live)
			h.sess[id].expire()
			h.register(id)
			did = fmt.Sprint("session expiry of ", id)
		case r < 40:
			name := fmt.Sprint("t", topics)
			topics++
			var parts [][]int32
			for range 1 + rng.IntN(4) {
				parts = append(parts, replicaSet(1+rng.IntN(3)))
			}
			h.store.createTopic(name, nil, parts...)
			did = fmt.Sprint("create ", name, parts)
		case r < 45 && topics > 0:
			name := fmt.Sprint("t", rng.IntN(topics))
			if _, ok := h.store.assignment(name); ok {
				h.store.addPartitions(name, replicaSet(1+rng.IntN(3)))
				did = "grow " + name
			}
		case r < 50 && topics > 0:
			name := fmt.Sprint("t", rng.IntN(topics))
			if _, ok := h.store.assignment(name); ok && !h.store.exists(zkdata.DeleteTopicPath(name)) {
				h.store.markForDeletion(name)
				did = "delete " + name
			}
		case r < 60:
			if c := active(); c != nil {
				id := pick(live)
				_, err := c.ControlledShutdown(ctx, id, h.store.brokerEpoch(id))
				did = fmt.Sprint("controlled shutdown of ", id, ": ", err)
			}
		case r < 78 && topics > 0:
			// A leader changes its ISR: drops a follower or adds a replica.
			c := active()
			name := fmt.Sprint("t", rng.IntN(topics))
			a, ok := h.store.assignment(name)
			if c == nil || !ok {
				break
			}
			p := int32(rng.IntN(len(a.Partitions)))
			st, ok := h.store.state(name, p)
			if !ok || st.Leader < 0 {
				break
			}
			isr := slices.Clone(st.ISR)
			if rng.IntN(2) == 0 && len(isr) > 1 {
				isr = slices.DeleteFunc(isr, func(r int32) bool { return r == isr[len(isr)-1] && r != st.Leader })
			} else if extra := without(a.Partitions[p].Replicas, isr); len(extra) > 0 {
				isr = append(isr, extra[rng.IntN(len(extra))])
			}
			resp, err := c.AlterPartition(ctx, alterReq(st.Leader, h.store.brokerEpoch(st.Leader), name, p, st.LeaderEpoch, st.PartitionEpoch, isr...))
			did = fmt.Sprintf("AlterPartition %s-%d %v: %d %v", name, p, isr, errCode(resp, err), err)
		case r < 88 && topics > 0:
			c := active()
			name := fmt.Sprint("t", rng.IntN(topics))
			a, ok := h.store.assignment(name)
			if c == nil || !ok {
				break
			}
			p := int32(rng.IntN(len(a.Partitions)))
			var target []int32
			if rng.IntN(4) > 0 {
				target = replicaSet(1 + rng.IntN(3))
			}
			req := kmsg.NewPtrAlterPartitionAssignmentsRequest()
			rt := kmsg.NewAlterPartitionAssignmentsRequestTopic()
			rt.Topic = name
			rp := kmsg.NewAlterPartitionAssignmentsRequestTopicPartition()
			rp.Partition, rp.Replicas = p, target
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			resp, err := c.AlterPartitionReassignments(ctx, req)
			code := int16(-1)
			if err == nil && resp.ErrorCode == 0 {
				code = resp.Topics[0].Partitions[0].ErrorCode
			}
			did = fmt.Sprintf("reassign %s-%d to %v: %d %v", name, p, target, code, err)
		case r < 94:
			if c := active(); c != nil {
				_, err := c.ElectLeaders(ctx, int8(rng.IntN(2)), nil)
				did = fmt.Sprint("elect leaders: ", err)
			}
		default:
			id := pick(live)
			if rng.IntN(2) == 0 {
				h.net.handle(id, failing)
				did = fmt.Sprint("broker ", id, " unreachable")
			} else {
				h.net.handle(id, nil)
				did = fmt.Sprint("broker ", id, " reachable")
			}
		}
		synctest.Wait()
		h.net.take(t, -2) // the epochs are checked; whose id varies
		if did != "" {
			history = append(history, fmt.Sprint(step, ": ", did))
		}
		if msg := chaosCheck(h, live, deaf, &logs); msg != "" {
			if chaosLevel < slog.LevelError {
				t.Log(logs.String())
				t.Log(strings.Join(history, "\n"))
			}
			t.Fatalf("seed %d, after\n\t%s\n%s", seed, strings.Join(history[max(0, len(history)-12):], "\n\t"), msg)
		}
	}
}

// chaosCheck returns what is wrong, or "".
func chaosCheck(h *harness, live, deaf map[int32]bool, logs *syncBuffer) string {
	if l := logs.String(); strings.Contains(l, "panicked") {
		return "an event panicked:\n" + l
	}
	var actives []int32
	for id, c := range h.ctls {
		if c.IsActive() && !deaf[id] {
			actives = append(actives, id)
		}
	}
	if len(actives) > 1 {
		return fmt.Sprint("active controllers ", actives)
	}
	if len(actives) == 0 {
		return "" // the states are checked under a controller
	}
	var bad []string
	for _, path := range h.store.paths(zkdata.TopicsPath) {
		rest, ok := strings.CutPrefix(path, zkdata.TopicsPath+"/")
		if !ok || strings.Contains(rest, "/") {
			continue
		}
		a, ok := h.store.assignment(rest)
		if !ok || h.store.exists(zkdata.DeleteTopicPath(rest)) {
			continue
		}
		for p, pa := range a.Partitions {
			st, ok := h.store.state(rest, p)
			if !ok {
				if slices.ContainsFunc(pa.Replicas, func(r int32) bool { return live[r] }) {
					bad = append(bad, fmt.Sprintf("%s-%d: no state though replicas %v include a live broker", rest, p, pa.Replicas))
				}
				continue
			}
			switch {
			case len(st.ISR) == 0:
				bad = append(bad, fmt.Sprintf("%s-%d: empty ISR", rest, p))
			case slices.ContainsFunc(st.ISR, func(r int32) bool { return !slices.Contains(pa.Replicas, r) }):
				bad = append(bad, fmt.Sprintf("%s-%d: ISR %v not within replicas %v", rest, p, st.ISR, pa.Replicas))
			case st.Leader >= 0 && !slices.Contains(st.ISR, st.Leader):
				bad = append(bad, fmt.Sprintf("%s-%d: leader %d not in ISR %v", rest, p, st.Leader, st.ISR))
			case st.Leader >= 0 && !live[st.Leader]:
				bad = append(bad, fmt.Sprintf("%s-%d: leader %d is dead", rest, p, st.Leader))
			}
		}
	}
	slices.Sort(bad)
	return strings.Join(bad, "\n")
}

// chaosLevel is the level of the controllers' logs the random test keeps:
// errors, where a recovered panic shows. Lower it to have a failure print
// every step and the logs.
var chaosLevel = slog.LevelError
