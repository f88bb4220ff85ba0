package txn

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
)

// State is a transaction's status, numbered as Kafka's TransactionState;
// the number is written to __transaction_state. Part of the format: never
// change.
type State int8

const (
	Empty             State = 0
	Ongoing           State = 1
	PrepareCommit     State = 2
	PrepareAbort      State = 3
	CompleteCommit    State = 4
	CompleteAbort     State = 5
	Dead              State = 6
	PrepareEpochFence State = 7

	// noState is a transaction's pending state when no transition is in
	// flight. Never written.
	noState State = -1
)

// numStates is the number of states; State(i) for i below it is valid.
const numStates = 8

var stateNames = [numStates]string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"}

// String is the state's name as DescribeTransactions and ListTransactions
// show it (Kafka's TransactionState.name).
func (s State) String() string {
	if s >= 0 && s < numStates {
		return stateNames[s]
	}
	if s == noState {
		return "None"
	}
	return fmt.Sprintf("State(%d)", int8(s))
}

// StateByName returns the state of a name as String writes it.
func StateByName(name string) (State, bool) {
	for i, n := range stateNames {
		if n == name {
			return State(i), true
		}
	}
	return 0, false
}

// validPrevious is Kafka's table of legal transitions
// (TransactionMetadata.scala): the states a transaction may be in when it
// moves to a state. Dead and PrepareEpochFence are never written: Dead
// becomes a tombstone, and a fence becomes the PrepareAbort that bumps
// the epoch.
var validPrevious = [numStates][]State{
	Empty:             {Empty, CompleteCommit, CompleteAbort},
	Ongoing:           {Ongoing, Empty, CompleteCommit, CompleteAbort},
	PrepareCommit:     {Ongoing},
	PrepareAbort:      {Ongoing, PrepareEpochFence},
	CompleteCommit:    {PrepareCommit},
	CompleteAbort:     {PrepareAbort},
	Dead:              {Empty, CompleteAbort, CompleteCommit},
	PrepareEpochFence: {Ongoing},
}

// legal reports whether a transaction in state from may move to state to.
func legal(from, to State) bool {
	return to >= 0 && to < numStates && slices.Contains(validPrevious[to], from)
}

// expirationAllowed: a transactional id in this state may be forgotten
// once idle for transactional.id.expiration.ms.
func (s State) expirationAllowed() bool {
	return s == Empty || s == CompleteCommit || s == CompleteAbort
}

// errIllegal is a transition the state machine refuses: the coordinator
// asked for it only if its own checks are wrong, or the log held a state
// Kafka never writes. Requests meeting it are answered
// UNKNOWN_SERVER_ERROR, as Kafka's IllegalStateException is.
var errIllegal = errors.New("txn: illegal transaction state transition")

// TopicPartition is one partition of a transaction.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }

func compareTP(a, b TopicPartition) int {
	if c := strings.Compare(a.Topic, b.Topic); c != 0 {
		return c
	}
	return int(a.Partition) - int(b.Partition)
}

// maxEpoch is the largest producer epoch: a client never gets it, so that
// the coordinator can always fence the holder of the one below
// (isEpochExhausted).
const maxEpoch = math.MaxInt16

// epochExhausted: the producer id has no epoch left to hand a client, and
// the next InitProducerId rotates to a new producer id.
func epochExhausted(epoch int16) bool { return epoch >= maxEpoch-1 }

// transit is the state a transaction moves to: what one record of
// __transaction_state says. It is computed under the transaction's lock,
// written to the log, and only then applied (complete).
type transit struct {
	producerID, lastProducerID       int64
	producerEpoch, lastProducerEpoch int16
	timeoutMs                        int32
	state                            State
	partitions                       []TopicPartition // sorted
	startMs, updateMs                int64
}

// txnMeta is one transactional id's state: Kafka's TransactionMetadata.
type txnMeta struct {
	id string

	// mu guards the fields below. It is never held across a log append:
	// the pending state keeps other transitions out meanwhile.
	mu                               sync.Mutex
	producerID, lastProducerID       int64
	producerEpoch, lastProducerEpoch int16
	timeoutMs                        int32
	state                            State
	// pending is the state of the transition written or being written,
	// noState if none: requests meeting one get CONCURRENT_TRANSACTIONS.
	pending    State
	partitions map[TopicPartition]struct{}
	startMs    int64 // when the first partition was added; -1 outside a transaction
	updateMs   int64 // last transition, for transactional.id.expiration.ms
	// failedFence: a fence's bumped epoch may not have reached the log,
	// so the next fence reuses it instead of bumping again (the bumped
	// epoch was never given to a client).
	failedFence bool
}

func newTxnMeta(id string, producerID int64, epoch int16, timeoutMs int32, now int64) *txnMeta {
	return &txnMeta{
		id: id, producerID: producerID, lastProducerID: -1, producerEpoch: epoch, lastProducerEpoch: -1,
		timeoutMs: timeoutMs, state: Empty, pending: noState, partitions: map[TopicPartition]struct{}{},
		startMs: -1, updateMs: now,
	}
}

func (m *txnMeta) sortedPartitions() []TopicPartition {
	tps := slices.Collect(maps.Keys(m.partitions))
	slices.SortFunc(tps, compareTP)
	return tps
}

// prepare sets the pending state and returns the transit to write; the
// transition must be legal and no other pending.
func (m *txnMeta) prepare(state State, producerID int64, epoch, lastEpoch int16, timeoutMs int32, partitions []TopicPartition, startMs, now int64) (transit, error) {
	switch {
	case m.pending != noState:
		return transit{}, fmt.Errorf("%w: %s to %s while %s is pending", errIllegal, m.state, state, m.pending)
	case producerID < 0:
		return transit{}, fmt.Errorf("%w: producer id %d", errIllegal, producerID)
	case state != Dead && epoch < 0:
		return transit{}, fmt.Errorf("%w: producer epoch %d", errIllegal, epoch)
	case !legal(m.state, state):
		return transit{}, fmt.Errorf("%w: %s to %s", errIllegal, m.state, state)
	}
	m.pending = state
	return transit{
		producerID: producerID, lastProducerID: m.producerID, producerEpoch: epoch, lastProducerEpoch: lastEpoch,
		timeoutMs: timeoutMs, state: state, partitions: partitions, startMs: startMs, updateMs: now,
	}, nil
}

// prepareFence bumps the epoch to fence the producer of an ongoing
// transaction before aborting it (once only, if an earlier fence may not
// have been written).
func (m *txnMeta) prepareFence() (transit, error) {
	if m.producerEpoch == maxEpoch {
		return transit{}, fmt.Errorf("%w: cannot fence producer epoch %d", errIllegal, m.producerEpoch)
	}
	epoch := m.producerEpoch + 1
	if m.failedFence {
		epoch = m.producerEpoch
	}
	return m.prepare(PrepareEpochFence, m.producerID, epoch, -1, m.timeoutMs, m.sortedPartitions(), m.startMs, m.updateMs)
}

// prepareEpochBump is InitProducerId's bump (KIP-360): expected is the
// epoch the producer says it has, or -1 when it says none. A producer
// repeating a bump it did not hear the answer to gets the same epoch back;
// one whose epoch is neither current nor the last is fenced.
func (m *txnMeta) prepareEpochBump(timeoutMs int32, expected int16, now int64) (transit, bool, error) {
	if epochExhausted(m.producerEpoch) {
		return transit{}, false, fmt.Errorf("%w: producer id %d has no epoch left", errIllegal, m.producerID)
	}
	next, last := m.producerEpoch+1, int16(-1)
	switch {
	case expected < 0:
	case m.producerEpoch < 0 || expected == m.producerEpoch:
		last = m.producerEpoch
	case expected == m.lastProducerEpoch:
		next, last = m.producerEpoch, m.lastProducerEpoch // a retry of a bump that was answered
	default:
		return transit{}, false, nil // fenced
	}
	t, err := m.prepare(Empty, m.producerID, next, last, timeoutMs, nil, -1, now)
	return t, true, err
}

// prepareRotation moves to a new producer id at epoch 0 once the epochs
// of the current one are exhausted.
func (m *txnMeta) prepareRotation(producerID int64, timeoutMs int32, now int64, keepLastEpoch bool) (transit, error) {
	if m.state == Ongoing || m.state == PrepareCommit || m.state == PrepareAbort {
		return transit{}, fmt.Errorf("%w: rotating producer ids in %s", errIllegal, m.state)
	}
	last := int16(-1)
	if keepLastEpoch {
		last = m.producerEpoch
	}
	return m.prepare(Empty, producerID, 0, last, timeoutMs, nil, -1, now)
}

// prepareAddPartitions moves to Ongoing with more partitions; a
// transaction starts when its first partition is added.
func (m *txnMeta) prepareAddPartitions(add []TopicPartition, now int64) (transit, error) {
	start := m.startMs
	if m.state == Empty || m.state == CompleteCommit || m.state == CompleteAbort {
		start = now
	}
	all := maps.Clone(m.partitions)
	for _, tp := range add {
		all[tp] = struct{}{}
	}
	tps := slices.Collect(maps.Keys(all))
	slices.SortFunc(tps, compareTP)
	return m.prepare(Ongoing, m.producerID, m.producerEpoch, m.lastProducerEpoch, m.timeoutMs, tps, start, now)
}

// prepareEnd moves to PrepareCommit or PrepareAbort.
func (m *txnMeta) prepareEnd(state State, now int64) (transit, error) {
	return m.prepare(state, m.producerID, m.producerEpoch, m.lastProducerEpoch, m.timeoutMs, m.sortedPartitions(), m.startMs, now)
}

// prepareComplete moves from PrepareCommit or PrepareAbort to its
// Complete state, once every partition has its marker.
func (m *txnMeta) prepareComplete(now int64) (transit, error) {
	state := CompleteAbort
	if m.state == PrepareCommit {
		state = CompleteCommit
	}
	m.failedFence = false // the fence reached the log with the prepare
	return m.prepare(state, m.producerID, m.producerEpoch, m.lastProducerEpoch, m.timeoutMs, []TopicPartition{}, m.startMs, now)
}

// prepareDead marks an idle id for expiry: its tombstone is written, and
// it is then forgotten.
func (m *txnMeta) prepareDead() (transit, error) {
	return m.prepare(Dead, m.producerID, m.producerEpoch, m.lastProducerEpoch, m.timeoutMs, []TopicPartition{}, m.startMs, m.updateMs)
}

// complete applies a transit written to the log. Kafka's checks: the
// transit is the pending state; the epoch stays, or is bumped by one, or
// starts at 0 on a new producer id (Empty); partitions only grow while
// Ongoing and are unchanged by the prepare states; the timeout changes
// only on InitProducerId.
func (m *txnMeta) complete(t transit) error {
	if m.pending == noState || m.pending != t.state {
		return fmt.Errorf("%w: completing %s with %s pending", errIllegal, t.state, m.pending)
	}
	sameProducer := t.producerID == m.producerID && t.producerEpoch == m.producerEpoch
	bad := func(why string) error {
		return fmt.Errorf("%w: %s to %s: %s", errIllegal, m.state, t.state, why)
	}
	switch t.state {
	case Empty:
		bump := t.producerEpoch == m.producerEpoch+1 || (t.producerEpoch == 0 && t.producerID != m.producerID)
		if (t.producerEpoch != m.producerEpoch && !bump) || len(t.partitions) != 0 || t.startMs != -1 {
			return bad("not an epoch bump")
		}
		m.timeoutMs, m.producerEpoch, m.lastProducerEpoch = t.timeoutMs, t.producerEpoch, t.lastProducerEpoch
		m.producerID, m.lastProducerID = t.producerID, t.lastProducerID
		m.startMs = t.startMs
	case Ongoing:
		if !sameProducer || t.timeoutMs != m.timeoutMs {
			return bad("producer or timeout changed")
		}
		for tp := range m.partitions {
			if _, ok := slices.BinarySearchFunc(t.partitions, tp, compareTP); !ok {
				return bad("partitions removed")
			}
		}
		m.startMs = t.startMs
		for _, tp := range t.partitions {
			m.partitions[tp] = struct{}{}
		}
	case PrepareCommit, PrepareAbort:
		if !sameProducer || t.timeoutMs != m.timeoutMs || t.startMs != m.startMs || len(t.partitions) != len(m.partitions) {
			return bad("producer, timeout, start or partitions changed")
		}
		for _, tp := range t.partitions {
			if _, ok := m.partitions[tp]; !ok {
				return bad("partitions changed")
			}
		}
	case CompleteCommit, CompleteAbort:
		if !sameProducer || t.timeoutMs != m.timeoutMs || t.startMs == -1 {
			return bad("producer or timeout changed")
		}
		m.startMs = t.startMs
		clear(m.partitions)
	default:
		// PrepareEpochFence becomes a PrepareAbort before it is written;
		// Dead is a tombstone, after which the id is forgotten.
		return bad("never completed")
	}
	m.updateMs = t.updateMs
	m.pending = noState
	m.state = t.state
	return nil
}

// removePartition drops a partition whose marker is written.
func (m *txnMeta) removePartition(tp TopicPartition) error {
	if m.state != PrepareCommit && m.state != PrepareAbort {
		return fmt.Errorf("%w: removing %s in %s", errIllegal, tp, m.state)
	}
	delete(m.partitions, tp)
	return nil
}
