package replica

import (
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/internal/apierr"
	"samsa/logfile"
	"samsa/producerstate"
	"samsa/record"
)

// Partition is one partition this broker hosts, as leader or follower: its
// log, its producers' state, its leadership as the controller last told
// it, and the operations parked until it changes.
type Partition struct {
	Topic string
	Index int32
	Log   *logfile.Log

	// prod is the idempotent producers' state; prod.Mu serializes the
	// check, append and update of a produce to this partition.
	prod *producerstate.Producers
	// follow is the partition as the replica fetchers see it, made with
	// it and never changed.
	follow *followed

	// stateMu guards st. Appends read the leader epoch under it (read
	// lock), so that a batch is stamped with the epoch of the leadership
	// that accepted it.
	stateMu sync.RWMutex
	st      State
	// Leader only (replication.go): the followers as their fetches tell
	// them, the ISR proposed to the controller and not yet answered (nil:
	// none), and the log end when this leadership began (the start of the
	// leader epoch).
	followers  map[int32]*follower
	pendingISR []int32
	epochStart int64

	// mu guards watchers.
	mu       sync.Mutex
	watchers []*Waiter
}

// State is a partition's leadership as this broker applies it: from the
// controller's LeaderAndIsr in cluster mode; a standalone broker leads at
// epoch 0 with itself as the only replica.
type State struct {
	Leader      int32 // -1: none
	LeaderEpoch int32
	// PartitionEpoch is the version of the partition's state znode: it
	// orders ISR changes within one leader epoch.
	PartitionEpoch  int32
	ControllerEpoch int32
	Replicas        []int32
	ISR             []int32
	// IsLeader: this broker leads the partition.
	IsLeader bool
}

// State returns a copy of the partition's leadership.
func (p *Partition) State() State {
	p.stateMu.RLock()
	defer p.stateMu.RUnlock()
	st := p.st
	st.Replicas, st.ISR = slices.Clone(st.Replicas), slices.Clone(st.ISR)
	return st
}

// LeaderEpoch returns the current leader epoch.
func (p *Partition) LeaderEpoch() int32 {
	p.stateMu.RLock()
	defer p.stateMu.RUnlock()
	return p.st.LeaderEpoch
}

// IsLeader reports whether this broker leads the partition.
func (p *Partition) IsLeader() bool {
	p.stateMu.RLock()
	defer p.stateMu.RUnlock()
	return p.st.IsLeader
}

func (p *Partition) setState(st State) {
	p.stateMu.Lock()
	p.st = st
	p.stateMu.Unlock()
	p.notify() // parked fetches and produces re-check their leadership
}

// CheckLeader answers whether a request for this partition may be served
// by this broker as leader, with Kafka's errors: NOT_LEADER_OR_FOLLOWER
// when it does not lead; for a current leader epoch the client sent
// (KIP-320, -1 for none) FENCED_LEADER_EPOCH when it is older than ours and
// UNKNOWN_LEADER_EPOCH when it is newer (the client knows of a leadership
// this broker has not learned yet).
func (p *Partition) CheckLeader(currentLeaderEpoch int32) error {
	p.stateMu.RLock()
	st := p.st
	p.stateMu.RUnlock()
	if err := checkEpoch(currentLeaderEpoch, st.LeaderEpoch); err != nil {
		return err
	}
	if !st.IsLeader {
		return apierr.Errorf(kerr.NotLeaderForPartition, "broker is not the leader of %s-%d (leader %d, epoch %d)", p.Topic, p.Index, st.Leader, st.LeaderEpoch)
	}
	return nil
}

// checkEpoch is KIP-320's fencing of a request's current leader epoch.
func checkEpoch(requested, ours int32) error {
	switch {
	case requested < 0:
		return nil
	case requested < ours:
		return apierr.Errorf(kerr.FencedLeaderEpoch, "leader epoch %d is older than the current %d", requested, ours)
	case requested > ours:
		return apierr.Errorf(kerr.UnknownLeaderEpoch, "leader epoch %d is newer than the current %d", requested, ours)
	}
	return nil
}

// notify wakes every operation watching the partition; with nobody
// watching it costs one uncontended lock.
func (p *Partition) notify() {
	p.mu.Lock()
	ws := p.watchers
	p.watchers = nil
	p.mu.Unlock()
	for _, w := range ws {
		w.fire()
	}
}

func (p *Partition) watch(w *Waiter) {
	p.mu.Lock()
	p.watchers = append(p.watchers, w)
	p.mu.Unlock()
}

func (p *Partition) unwatch(w *Waiter) {
	p.mu.Lock()
	for i, x := range p.watchers {
		if x == w {
			p.watchers = append(p.watchers[:i], p.watchers[i+1:]...)
			break
		}
	}
	p.mu.Unlock()
}

// appendInternal appends batches the broker itself built (the group
// coordinator's), stamped with the leader epoch, and wakes the watchers.
// It refuses when this broker no longer leads. Batches of a producer (a
// coordinator's transactional writes) go through the producer state, as
// Kafka's appends of origin coordinator do. It returns the last offset
// written.
func (p *Partition) appendInternal(batch []byte) (int64, error) {
	return p.appendInternalGuarded(batch, nil)
}

// appendInternalGuarded is appendInternal checking, when guard is not
// nil, that a transactional batch of a producer whose transaction is not
// open here was verified with *guard and no marker came since (KIP-890
// part 1, the verification guard of Kafka's coordinator appends):
// INVALID_TXN_STATE otherwise, and nothing is written.
func (p *Partition) appendInternalGuarded(batch []byte, guard *uint64) (int64, error) {
	bs, err := record.ValidateProduce(batch, p.Log.Config().MaxMessageBytes, false)
	if err != nil {
		return -1, err
	}
	producers := false
	for h := range bs.All() {
		producers = producers || h.ProducerID >= 0
	}
	p.prod.Mu.Lock()
	defer p.prod.Mu.Unlock()
	p.stateMu.RLock()
	defer p.stateMu.RUnlock()
	if !p.st.IsLeader {
		return -1, apierr.Errorf(kerr.NotLeaderForPartition, "broker is not the leader of %s-%d", p.Topic, p.Index)
	}
	bs.SetLeaderEpoch(p.st.LeaderEpoch)
	if !producers {
		info, err := p.Log.AppendValidated(&bs)
		if err != nil {
			return -1, err
		}
		p.notify()
		return info.LastOffset, nil
	}
	for h := range bs.All() {
		if h.ProducerID < 0 {
			continue
		}
		// Verification before the epoch, as Kafka's
		// analyzeAndValidateProducerState checks them.
		if guard != nil && h.IsTransactional() && !h.IsControl() && !p.prod.State.Verified(h.ProducerID, *guard) {
			return -1, apierr.Errorf(kerr.InvalidTxnState, "Record was not part of an ongoing transaction")
		}
		if err := p.prod.State.CheckEpoch(h.ProducerID, h.ProducerEpoch); err != nil {
			return -1, apierr.Errorf(kerr.InvalidProducerEpoch, "%v", err)
		}
	}
	for h := range bs.All() {
		if h.IsTransactional() && !h.IsControl() && !p.prod.State.HasOpenTxn(h.ProducerID) {
			p.prod.Opening(h.ProducerID, p.Log.EndOffset())
		}
	}
	info, err := p.Log.AppendValidatedTxn(&bs, p.prod.State.PlanAborts)
	if err != nil {
		p.prod.Publish(p.Log.HighWatermark())
		return -1, err
	}
	now := time.Now().UnixMilli()
	for h, b := range bs.All() {
		if h.ProducerID >= 0 {
			_, _, _ = p.prod.State.Apply(h, b, now)
		}
	}
	p.prod.Publish(p.Log.HighWatermark())
	p.notify()
	return info.LastOffset, nil
}
