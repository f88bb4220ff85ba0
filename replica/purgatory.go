package replica

import (
	"context"
	"sync/atomic"
	"time"
)

// Purgatory parks operations that cannot complete yet (Kafka's delayed
// fetch and delayed produce) until a partition they watch changes, their
// deadline passes or their context ends. Nothing polls: a change to a
// partition (an append, a high watermark that moves, a leadership change)
// wakes its watchers, which then check their condition again.
type Purgatory struct {
	// waiting is told +1 when an operation parks and -1 when it leaves;
	// the fetch purgatory gauge counts with it.
	waiting func(delta int)
}

// Waiter is one parked operation; it may watch several partitions and is
// woken by the first that changes.
type Waiter struct {
	ch    chan struct{}
	fired atomic.Bool
}

// fire closes the channel once, whichever partition gets there first.
func (w *Waiter) fire() {
	if w.fired.CompareAndSwap(false, true) {
		close(w.ch)
	}
}

// Wait parks until one of parts changes, the deadline, or ctx ends; false
// for the last. changed is checked after the waiter is registered, so that
// a change between the caller's last look and the registration is not
// missed: if it reports true, Wait returns at once.
func (pg *Purgatory) Wait(ctx context.Context, parts []*Partition, changed func() bool, deadline time.Time) bool {
	return pg.park(ctx, parts, changed, deadline) != parkCancelled
}

// parkResult is how a park ended.
type parkResult int

const (
	parkWoken     parkResult = iota // a partition changed (or changed reported so)
	parkDeadline                    // the deadline passed and no partition changed
	parkCancelled                   // ctx ended
)

func (pg *Purgatory) park(ctx context.Context, parts []*Partition, changed func() bool, deadline time.Time) parkResult {
	w := &Waiter{ch: make(chan struct{})}
	for _, p := range parts {
		p.watch(w)
	}
	defer func() {
		for _, p := range parts {
			p.unwatch(w)
		}
	}()
	if changed != nil && changed() {
		return parkWoken
	}
	if pg.waiting != nil {
		pg.waiting(1)
		defer pg.waiting(-1)
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-w.ch:
		return parkWoken
	case <-t.C:
		if w.fired.Load() {
			return parkWoken
		}
		return parkDeadline
	case <-ctx.Done():
		return parkCancelled
	}
}
