package kafkazk

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/go-zookeeper/zk"
)

// A ZooKeeper watch fires once, and only for the session that set it. A
// Watcher keeps one armed: after every event (and after a new session
// replaced an expired one) it reads the znode again, sets a new watch with
// the same read, and calls fn with what it read if that differs from what fn
// saw last. Events that arrive while fn runs are folded into the next read,
// so fn sees the latest state, not every state.
type Watcher struct {
	stop chan struct{}
	done chan struct{}
}

// Stop stops the watcher and waits until fn has returned. It must not be
// called from fn.
func (w *Watcher) Stop() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// NewWatcher returns a Watcher running run on its own goroutine; Stop
// closes stop and waits for run to return. It is for stores that keep this
// package's watch semantics without ZooKeeper (the controller's tests).
func NewWatcher(run func(stop <-chan struct{})) *Watcher {
	w := &Watcher{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		run(w.stop)
	}()
	return w
}

// WatchChildren calls fn with the sorted children of path (relative to the
// chroot) now and whenever they change; with nil while path does not exist.
// E.g. /brokers/ids for live brokers, /brokers/topics for topics,
// /admin/delete_topics for deletions. fn runs on the watcher's goroutine.
func (c *Client) WatchChildren(path string, fn func(children []string)) *Watcher {
	var last []string
	first := true
	return c.watch(func() (<-chan zk.Event, error) {
		kids, _, ch, err := c.conn.ChildrenW(c.abs(path))
		if err == nil && kids == nil {
			kids = []string{} // exists, no children: not the same as absent
		}
		if errors.Is(err, zk.ErrNoNode) {
			var exists bool
			exists, _, ch, err = c.conn.ExistsW(c.abs(path))
			if err == nil && exists {
				return nil, nil // created meanwhile: read again
			}
			kids = nil
		}
		if err != nil {
			return nil, err
		}
		sort.Strings(kids)
		if first || !slices.Equal(kids, last) || (kids == nil) != (last == nil) {
			first, last = false, kids
			fn(slices.Clone(kids))
		}
		return ch, nil
	})
}

// WatchData calls fn with path's data and stat now and whenever they change;
// with (nil, nil) while path does not exist. E.g. /controller for elections,
// /brokers/topics/<t> for partition changes, /admin/reassign_partitions.
func (c *Client) WatchData(path string, fn func(data []byte, st *Stat)) *Watcher {
	var lastData []byte
	var lastStat *Stat
	first := true
	return c.watch(func() (<-chan zk.Event, error) {
		data, zst, ch, err := c.conn.GetW(c.abs(path))
		var st *Stat
		if errors.Is(err, zk.ErrNoNode) {
			var exists bool
			exists, _, ch, err = c.conn.ExistsW(c.abs(path))
			if err == nil && exists {
				return nil, nil
			}
			data = nil
		} else if err == nil {
			s := toStat(zst)
			st = &s
		}
		if err != nil {
			return nil, err
		}
		changed := first || (st == nil) != (lastStat == nil) ||
			st != nil && (st.Czxid != lastStat.Czxid || st.Mzxid != lastStat.Mzxid || !bytes.Equal(data, lastData))
		if changed {
			first, lastData, lastStat = false, data, st
			var stCopy *Stat
			if st != nil {
				s := *st
				stCopy = &s
			}
			fn(bytes.Clone(data), stCopy)
		}
		return ch, nil
	})
}

// watch runs arm (read, deliver, set the next watch) until stopped: again
// after each event, and again after connection trouble once there is a
// session.
func (c *Client) watch(arm func() (<-chan zk.Event, error)) *Watcher {
	w := &Watcher{stop: make(chan struct{}), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-w.stop:
		case <-w.done:
		}
		cancel()
	}()
	go func() {
		defer close(w.done)
		defer cancel()
		backoff := 10 * time.Millisecond
		for {
			select {
			case <-w.stop:
				return
			case <-c.quit:
				return
			default:
			}
			ch, err := arm()
			if err != nil {
				if errors.Is(err, zk.ErrClosing) {
					return
				}
				if !connLoss(err) {
					c.log.Warn("kafkazk: watch failed; retrying", "err", err)
				}
				if werr := c.waitSession(ctx); errors.Is(werr, ErrClosed) {
					return
				}
				select {
				case <-time.After(backoff): // pace retries of a failing read
				case <-w.stop:
					return
				}
				backoff = min(2*backoff, time.Second)
				continue
			}
			backoff = 10 * time.Millisecond
			if ch == nil {
				continue
			}
			select {
			case <-ch: // any event, including "not watching" after expiry: re-arm
			case <-w.stop:
				return
			case <-c.quit:
				return
			}
		}
	}()
	return w
}
