package broker

import (
	"sync"
	"sync/atomic"

	"samsa/producerstate"

	"samsa/logfile"
)

// Partition is one partition this broker leads: its log and the fetches
// waiting for appends to it.
type Partition struct {
	Topic       string
	Index       int32
	Log         *logfile.Log
	LeaderEpoch int32

	// prod is the idempotent producers' state; prod.mu serializes the
	// check, append and update of a produce to this partition.
	prod *producerstate.Producers

	mu      sync.Mutex
	waiters []*waiter
}

// waiter is a fetch waiting for an append to any of the partitions it reads.
type waiter struct {
	ch    chan struct{}
	fired atomic.Bool
}

func newWaiter() *waiter { return &waiter{ch: make(chan struct{})} }

// fire closes the channel once, whichever partition gets there first.
func (w *waiter) fire() {
	if w.fired.CompareAndSwap(false, true) {
		close(w.ch)
	}
}

func (p *Partition) addWaiter(w *waiter) {
	p.mu.Lock()
	p.waiters = append(p.waiters, w)
	p.mu.Unlock()
}

func (p *Partition) removeWaiter(w *waiter) {
	p.mu.Lock()
	for i, x := range p.waiters {
		if x == w {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			break
		}
	}
	p.mu.Unlock()
}

// notify wakes every waiting fetch; with nobody waiting it costs one
// uncontended lock.
func (p *Partition) notify() {
	p.mu.Lock()
	ws := p.waiters
	p.waiters = nil
	p.mu.Unlock()
	for _, w := range ws {
		w.fire()
	}
}
