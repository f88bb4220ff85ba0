package txn

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// legalPairs is Kafka's TransactionMetadata table written out pair by pair
// ("from>to"), independently of validPrevious, so that a change to either
// shows here.
var legalPairs = []string{
	"Empty>Empty", "CompleteCommit>Empty", "CompleteAbort>Empty",
	"Empty>Ongoing", "Ongoing>Ongoing", "CompleteCommit>Ongoing", "CompleteAbort>Ongoing",
	"Ongoing>PrepareCommit",
	"Ongoing>PrepareAbort", "PrepareEpochFence>PrepareAbort",
	"PrepareCommit>CompleteCommit",
	"PrepareAbort>CompleteAbort",
	"Empty>Dead", "CompleteCommit>Dead", "CompleteAbort>Dead",
	"Ongoing>PrepareEpochFence",
}

// TestTransitionTable checks every (from, to) pair of the eight states
// against Kafka's table: 16 legal, 48 illegal.
func TestTransitionTable(t *testing.T) {
	n := 0
	for from := State(0); from < numStates; from++ {
		for to := State(0); to < numStates; to++ {
			want := slices.Contains(legalPairs, from.String()+">"+to.String())
			if got := legal(from, to); got != want {
				t.Errorf("%s -> %s: legal %v, want %v", from, to, got, want)
			}
			if want {
				n++
			}
		}
	}
	if n != len(legalPairs) {
		t.Errorf("%d legal pairs matched, the table lists %d: a name is misspelt", n, len(legalPairs))
	}
}

// TestPrepareEveryPair drives prepare from each state to each state: a
// legal transition sets the pending state and returns its transit, an
// illegal one fails with errIllegal and leaves no pending state; nothing
// is prepared over a pending transition.
func TestPrepareEveryPair(t *testing.T) {
	for from := State(0); from < numStates; from++ {
		for to := State(0); to < numStates; to++ {
			m := newTxnMeta("id", 7, 3, 1000, 1)
			m.state = from
			tr, err := m.prepare(to, 7, 3, -1, 1000, nil, -1, 2)
			if legal(from, to) {
				if err != nil || m.pending != to || tr.state != to || tr.lastProducerID != 7 || tr.updateMs != 2 {
					t.Errorf("%s -> %s: err %v, pending %s, transit %+v", from, to, err, m.pending, tr)
				}
				if _, err := m.prepare(to, 7, 3, -1, 1000, nil, -1, 3); !errors.Is(err, errIllegal) {
					t.Errorf("%s -> %s twice: err %v, want errIllegal", from, to, err)
				}
				continue
			}
			if !errors.Is(err, errIllegal) || m.pending != noState {
				t.Errorf("%s -> %s: err %v, pending %s; want errIllegal and none", from, to, err, m.pending)
			}
		}
	}
	m := newTxnMeta("id", 7, 3, 1000, 1)
	if _, err := m.prepare(Empty, -1, 3, -1, 1000, nil, -1, 2); !errors.Is(err, errIllegal) {
		t.Errorf("negative producer id: %v", err)
	}
	if _, err := m.prepare(Empty, 7, -1, -1, 1000, nil, -1, 2); !errors.Is(err, errIllegal) {
		t.Errorf("negative epoch: %v", err)
	}
	if _, err := m.prepare(Dead, 7, -1, -1, 1000, nil, -1, 2); err != nil {
		t.Errorf("Dead with no epoch (an id never initialized): %v", err)
	}
}

func tps(names ...string) []TopicPartition {
	var out []TopicPartition
	for _, n := range names {
		var tp TopicPartition
		fmt.Sscanf(n, "%1s%d", &tp.Topic, &tp.Partition)
		out = append(out, tp)
	}
	return out
}

// TestCompleteChecks: complete applies only the transit that is pending,
// and only as Kafka's completeTransitionTo allows (epoch bumps by one or
// restarts on a new producer id, partitions only grow, prepare states
// change nothing, Dead and PrepareEpochFence are never completed).
func TestCompleteChecks(t *testing.T) {
	base := func() *txnMeta {
		m := newTxnMeta("id", 7, 3, 1000, 1)
		m.partitions[TopicPartition{"a", 0}] = struct{}{}
		m.state, m.startMs = Ongoing, 5
		return m
	}
	cases := []struct {
		name  string
		state State   // the transaction's state before
		t     transit // what is completed
		ok    bool
	}{
		{"Empty: bump by one", CompleteCommit, transit{producerID: 7, producerEpoch: 4, state: Empty, startMs: -1, partitions: nil}, true},
		{"Empty: same epoch (a retried bump)", CompleteCommit, transit{producerID: 7, producerEpoch: 3, state: Empty, startMs: -1}, true},
		{"Empty: new producer id at 0", CompleteCommit, transit{producerID: 8, producerEpoch: 0, state: Empty, startMs: -1}, true},
		{"Empty: jump of two", CompleteCommit, transit{producerID: 7, producerEpoch: 5, state: Empty, startMs: -1}, false},
		{"Empty: with partitions", CompleteCommit, transit{producerID: 7, producerEpoch: 4, state: Empty, startMs: -1, partitions: tps("a0")}, false},
		{"Empty: with a start", CompleteCommit, transit{producerID: 7, producerEpoch: 4, state: Empty, startMs: 9}, false},
		{"Ongoing: more partitions", Ongoing, transit{producerID: 7, producerEpoch: 3, timeoutMs: 1000, state: Ongoing, startMs: 5, partitions: tps("a0", "b1")}, true},
		{"Ongoing: a partition lost", Ongoing, transit{producerID: 7, producerEpoch: 3, timeoutMs: 1000, state: Ongoing, startMs: 5, partitions: tps("b1")}, false},
		{"Ongoing: epoch changed", Ongoing, transit{producerID: 7, producerEpoch: 4, timeoutMs: 1000, state: Ongoing, startMs: 5, partitions: tps("a0")}, false},
		{"Ongoing: timeout changed", Ongoing, transit{producerID: 7, producerEpoch: 3, timeoutMs: 2000, state: Ongoing, startMs: 5, partitions: tps("a0")}, false},
		{"PrepareCommit: same", Ongoing, transit{producerID: 7, producerEpoch: 3, timeoutMs: 1000, state: PrepareCommit, startMs: 5, partitions: tps("a0")}, true},
		{"PrepareCommit: partitions changed", Ongoing, transit{producerID: 7, producerEpoch: 3, timeoutMs: 1000, state: PrepareCommit, startMs: 5, partitions: tps("a1")}, false},
		{"PrepareAbort: start changed", Ongoing, transit{producerID: 7, producerEpoch: 3, timeoutMs: 1000, state: PrepareAbort, startMs: 6, partitions: tps("a0")}, false},
		{"CompleteCommit", PrepareCommit, transit{producerID: 7, producerEpoch: 3, timeoutMs: 1000, state: CompleteCommit, startMs: 5}, true},
		{"CompleteAbort: no start", PrepareAbort, transit{producerID: 7, producerEpoch: 3, timeoutMs: 1000, state: CompleteAbort, startMs: -1}, false},
		{"CompleteAbort: other producer", PrepareAbort, transit{producerID: 9, producerEpoch: 3, timeoutMs: 1000, state: CompleteAbort, startMs: 5}, false},
		{"PrepareEpochFence", Ongoing, transit{producerID: 7, producerEpoch: 4, timeoutMs: 1000, state: PrepareEpochFence, startMs: 5, partitions: tps("a0")}, false},
		{"Dead", CompleteCommit, transit{producerID: 7, producerEpoch: 3, timeoutMs: 1000, state: Dead, startMs: 5}, false},
	}
	for _, c := range cases {
		m := base()
		m.state = c.state
		if c.state == CompleteCommit || c.state == CompleteAbort {
			clear(m.partitions)
		}
		m.pending = c.t.state
		c.t.updateMs = 42
		err := m.complete(c.t)
		if c.ok != (err == nil) {
			t.Errorf("%s: err %v, want ok %v", c.name, err, c.ok)
			continue
		}
		if !c.ok {
			if !errors.Is(err, errIllegal) || m.pending != c.t.state || m.state != c.state {
				t.Errorf("%s: a refused completion changed the state: %v, %s, pending %s", c.name, err, m.state, m.pending)
			}
			continue
		}
		if m.state != c.t.state || m.pending != noState || m.updateMs != 42 || m.producerEpoch != c.t.producerEpoch || m.producerID != c.t.producerID {
			t.Errorf("%s: applied as %+v", c.name, m)
		}
		if got := m.sortedPartitions(); !slices.Equal(got, c.t.partitions) && len(got)+len(c.t.partitions) > 0 {
			t.Errorf("%s: partitions %v, want %v", c.name, got, c.t.partitions)
		}
	}
	m := base()
	if err := m.complete(transit{state: Ongoing}); !errors.Is(err, errIllegal) {
		t.Errorf("completing with nothing pending: %v", err)
	}
	m.pending = PrepareCommit
	if err := m.complete(transit{state: PrepareAbort, producerID: 7, producerEpoch: 3}); !errors.Is(err, errIllegal) {
		t.Errorf("completing another state than the pending one: %v", err)
	}
}

// TestEpochBump is InitProducerId's bump in each of KIP-360's cases.
func TestEpochBump(t *testing.T) {
	cases := []struct {
		name                 string
		epoch, last          int16
		expected             int16
		wantEpoch, wantLast  int16
		fenced, exhaustedErr bool
	}{
		{"new id", -1, -1, -1, 0, -1, false, false},
		{"no expectation", 4, -1, -1, 5, -1, false, false},
		{"expects the current epoch", 4, 2, 4, 5, 4, false, false},
		{"retry of an answered bump", 5, 4, 4, 5, 4, false, false},
		{"new id, expected epoch", -1, -1, 7, 0, -1, false, false},
		{"stale epoch", 5, 4, 2, 0, 0, true, false},
		{"exhausted", maxEpoch - 1, -1, -1, 0, 0, false, true},
	}
	for _, c := range cases {
		m := newTxnMeta("id", 7, c.epoch, 1000, 1)
		m.lastProducerEpoch = c.last
		tr, ok, err := m.prepareEpochBump(2000, c.expected, 9)
		switch {
		case c.exhaustedErr:
			if !errors.Is(err, errIllegal) {
				t.Errorf("%s: err %v, want errIllegal", c.name, err)
			}
		case c.fenced:
			if ok || err != nil || m.pending != noState {
				t.Errorf("%s: ok %v err %v pending %s, want fenced", c.name, ok, err, m.pending)
			}
		default:
			if !ok || err != nil || tr.producerEpoch != c.wantEpoch || tr.lastProducerEpoch != c.wantLast || tr.timeoutMs != 2000 || tr.state != Empty || tr.startMs != -1 {
				t.Errorf("%s: ok %v err %v transit %+v, want epoch %d last %d", c.name, ok, err, tr, c.wantEpoch, c.wantLast)
			}
		}
	}
}

// TestFenceAndRotation: a fence bumps the epoch once, and not again after
// a fence whose write failed; an exhausted producer id rotates to a new
// one at epoch 0, never in a transaction.
func TestFenceAndRotation(t *testing.T) {
	m := newTxnMeta("id", 7, 4, 1000, 1)
	m.state = Ongoing
	tr, err := m.prepareFence()
	if err != nil || tr.producerEpoch != 5 || tr.state != PrepareEpochFence || tr.lastProducerEpoch != -1 {
		t.Fatalf("fence: %+v %v", tr, err)
	}
	m.pending = noState
	m.failedFence = true
	if tr, _ := m.prepareFence(); tr.producerEpoch != 4 {
		t.Errorf("fence after a failed fence: epoch %d, want 4 (not bumped again)", tr.producerEpoch)
	}
	m = newTxnMeta("id", 7, maxEpoch, 1000, 1)
	m.state = Ongoing
	if _, err := m.prepareFence(); !errors.Is(err, errIllegal) {
		t.Errorf("fence at the largest epoch: %v", err)
	}
	m = newTxnMeta("id", 7, maxEpoch-1, 1000, 1)
	m.state = CompleteAbort
	tr, err = m.prepareRotation(8, 3000, 9, true)
	if err != nil || tr.producerID != 8 || tr.producerEpoch != 0 || tr.lastProducerEpoch != maxEpoch-1 || tr.lastProducerID != 7 {
		t.Errorf("rotation: %+v %v", tr, err)
	}
	for _, s := range []State{Ongoing, PrepareCommit, PrepareAbort} {
		m = newTxnMeta("id", 7, 1, 1000, 1)
		m.state = s
		if _, err := m.prepareRotation(8, 3000, 9, false); !errors.Is(err, errIllegal) {
			t.Errorf("rotation in %s: %v", s, err)
		}
	}
}

// TestStateNames: the names are Kafka's (DescribeTransactions and the
// state filters of ListTransactions use them), and read back.
func TestStateNames(t *testing.T) {
	want := []string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"}
	for i, n := range want {
		if State(i).String() != n {
			t.Errorf("State(%d) is %q, want %q", i, State(i), n)
		}
		if s, ok := StateByName(n); !ok || s != State(i) {
			t.Errorf("StateByName(%q) = %v %v", n, s, ok)
		}
	}
	if _, ok := StateByName("Aborting"); ok {
		t.Error("an unknown name was found")
	}
}
