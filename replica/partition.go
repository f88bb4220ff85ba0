package replica

import (
	"sync"

	"samsa/logfile"
	"samsa/producerstate"
)

// Partition is one partition this broker hosts: its log, its producers'
// state, and the operations parked until it changes.
type Partition struct {
	Topic       string
	Index       int32
	Log         *logfile.Log
	LeaderEpoch int32

	// prod is the idempotent producers' state; prod.Mu serializes the
	// check, append and update of a produce to this partition.
	prod *producerstate.Producers

	// mu guards watchers.
	mu       sync.Mutex
	watchers []*Waiter
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

// Notify wakes the operations watching the partition: call it after a
// write that did not go through Append (the group coordinator's).
func (p *Partition) Notify() { p.notify() }

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

// AppendInternal appends batches the broker itself built (the group
// coordinator's), stamped with the leader epoch, and wakes the watchers.
func (p *Partition) AppendInternal(batch []byte) error {
	logfile.SetLeaderEpoch(batch, p.LeaderEpoch)
	if _, err := p.Log.Append(batch); err != nil {
		return err
	}
	p.notify()
	return nil
}
