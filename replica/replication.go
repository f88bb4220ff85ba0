package replica

// The leader's side of replication (Kafka's Partition): each follower's log
// end offset as its fetches tell it, the high watermark as the smallest log
// end over the in-sync replicas, and ISR changes proposed to the controller
// with AlterPartition.
//
// Rules, as Kafka's:
//  1. A follower's fetch at offset o says it holds everything below o: its
//     log end offset is o.
//  2. A follower is caught up at time t if its fetch at t reached the
//     leader's log end, or reached the leader's log end at its previous
//     fetch (then it was caught up at that fetch). It stays in the ISR while
//     its log end equals the leader's (nothing was appended since it last
//     fetched, however long ago), or while it was caught up within
//     replica.lag.time.max.ms.
//  3. The high watermark is the smallest log end offset of the maximal ISR:
//     the ISR, joined by the members of a proposed ISR not yet committed by
//     the controller (so a pending expansion cannot let it pass the new
//     member, nor a pending shrink let it pass the leaving one). It never
//     moves back on a leader.
//  4. A follower joins the ISR once its log end reaches the high watermark
//     and the start of the current leader epoch.
//  5. One AlterPartition at a time per partition; its answer applies only
//     if the leader and partition epochs are still those it was sent
//     under. A LeaderAndIsr drops the proposal in flight.

import (
	"errors"
	"slices"
	"time"
)

// follower is the leader's record of one follower.
type follower struct {
	leo           int64 // -1: unknown (no fetch since this leadership began)
	lastCaughtUp  time.Time
	lastFetchLEO  int64 // the leader's log end at the previous fetch
	lastFetchTime time.Time
}

// AlterISR is one ISR change a leader proposes to the controller.
type AlterISR struct {
	Topic          string
	Partition      int32
	LeaderEpoch    int32
	PartitionEpoch int32
	ISR            []int32
}

// AlterISRResult is the controller's answer to one AlterISR: the
// partition's state as committed, or Err (apierr with Kafka's code).
type AlterISRResult struct {
	LeaderEpoch    int32
	PartitionEpoch int32
	ISR            []int32
	Err            error
}

// errNoAnswer: the controller's answer left a proposal out.
var errNoAnswer = errors.New("replica: the controller's answer names no such partition")

// resetFollowers resets the follower records for a new leadership: ISR
// members count as caught up now, others as never. Called with stateMu
// held for writing.
func (p *Partition) resetFollowers(st State, now time.Time) {
	p.followers = map[int32]*follower{}
	for _, r := range st.Replicas {
		if r == st.Leader {
			continue
		}
		f := &follower{leo: -1, lastFetchLEO: -1}
		if slices.Contains(st.ISR, r) {
			f.lastCaughtUp = now
		}
		p.followers[r] = f
	}
	p.pendingISR = nil
}

// maximalISR is rule 3's set. Called with stateMu held.
func (p *Partition) maximalISR() []int32 {
	if p.pendingISR == nil {
		return p.st.ISR
	}
	out := slices.Clone(p.st.ISR)
	for _, r := range p.pendingISR {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// advanceHW moves the high watermark to the smallest log end offset of the
// maximal ISR if that is higher (rule 3). Called with stateMu held for
// writing; it reports whether it moved, for the caller to notify watchers
// once the lock is released.
func (p *Partition) advanceHW() bool {
	if !p.st.IsLeader {
		return false
	}
	hw := p.Log.EndOffset()
	for _, r := range p.maximalISR() {
		if r == p.st.Leader {
			continue
		}
		f := p.followers[r]
		if f == nil || f.leo < 0 {
			return false // an in-sync follower not heard from yet holds it
		}
		hw = min(hw, f.leo)
	}
	if hw <= p.Log.HighWatermark() {
		return false
	}
	p.Log.SetHighWatermark(hw)
	return true
}

// AdvanceHW re-evaluates the high watermark (after a leader append) and
// wakes the parked operations if it moved.
func (p *Partition) AdvanceHW() {
	p.stateMu.Lock()
	moved := p.advanceHW()
	p.stateMu.Unlock()
	if moved {
		p.notify()
	}
}

// followerFetched records a follower's fetch at offset (rule 1, 2) and
// returns the ISR to propose when the follower qualifies to join (rule 4),
// or nil.
func (p *Partition) followerFetched(id int32, offset int64, now time.Time) (propose []int32, moved bool) {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	f := p.followers[id]
	if f == nil || !p.st.IsLeader {
		return nil, false
	}
	leo := p.Log.EndOffset()
	switch {
	case offset >= leo:
		f.lastCaughtUp = maxTime(f.lastCaughtUp, now)
	case f.lastFetchLEO >= 0 && offset >= f.lastFetchLEO:
		f.lastCaughtUp = maxTime(f.lastCaughtUp, f.lastFetchTime)
	}
	idle := f.leo == offset && f.lastFetchLEO == leo // neither log end moved since its last fetch
	f.lastFetchLEO, f.lastFetchTime = leo, now
	f.leo = offset
	if idle && slices.Contains(p.st.ISR, id) {
		return nil, false // the high watermark cannot have moved, nor the ISR grown
	}
	moved = p.advanceHW()
	if p.pendingISR == nil && !slices.Contains(p.st.ISR, id) &&
		offset >= p.Log.HighWatermark() && offset >= p.epochStart {
		propose = append(slices.Clone(p.st.ISR), id)
	}
	return propose, moved
}

// laggingISR returns the ISR without the followers not caught up within
// lag (rule 2), or nil when none lag or a change is pending.
func (p *Partition) laggingISR(now time.Time, lag time.Duration) []int32 {
	p.stateMu.RLock()
	defer p.stateMu.RUnlock()
	if !p.st.IsLeader || p.pendingISR != nil {
		return nil
	}
	var out []int32
	dropped := false
	leo := p.Log.EndOffset()
	for _, r := range p.st.ISR {
		if f := p.followers[r]; f != nil && f.leo != leo && now.Sub(f.lastCaughtUp) > lag {
			dropped = true
			continue
		}
		out = append(out, r)
	}
	if !dropped {
		return nil
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// proposeISR sends one ISR change to the controller (rule 5), with the
// others pending (alterisr.go), and applies the answer.
func (m *Manager) proposeISR(p *Partition, isr []int32) {
	if m.isrSender == nil {
		return
	}
	p.stateMu.Lock()
	if !p.st.IsLeader || p.pendingISR != nil {
		p.stateMu.Unlock()
		return
	}
	req := AlterISR{Topic: p.Topic, Partition: p.Index, LeaderEpoch: p.st.LeaderEpoch, PartitionEpoch: p.st.PartitionEpoch, ISR: slices.Clone(isr)}
	p.pendingISR = req.ISR
	p.stateMu.Unlock()
	grow := len(isr) > len(p.State().ISR)
	m.isrSender.submit(req, func(res AlterISRResult, err error) {
		p.stateMu.Lock()
		if !p.st.IsLeader || p.st.LeaderEpoch != req.LeaderEpoch || p.st.PartitionEpoch != req.PartitionEpoch {
			// A LeaderAndIsr replaced the state this proposal was made
			// against, and dropped it: the controller's newer word stands,
			// and a proposal of the new state may be in flight.
			p.stateMu.Unlock()
			return
		}
		p.pendingISR = nil
		if err != nil {
			p.stateMu.Unlock()
			m.log.Warn("ISR change refused", "topic", p.Topic, "partition", p.Index, "isr", req.ISR, "err", err)
			return
		}
		applied := res.LeaderEpoch == p.st.LeaderEpoch
		if applied {
			p.st.ISR, p.st.PartitionEpoch = slices.Clone(res.ISR), res.PartitionEpoch
		}
		moved := p.advanceHW()
		p.stateMu.Unlock()
		if moved {
			p.notify()
		}
		if !applied {
			return
		}
		if grow {
			m.metrics.isrExpand()
		} else {
			m.metrics.isrShrink()
		}
		m.log.Info("ISR changed", "topic", p.Topic, "partition", p.Index, "isr", res.ISR, "partition.epoch", res.PartitionEpoch)
	})
}

// shrinkLoop proposes ISRs without lagging followers, every half of
// replica.lag.time.max.ms.
func (m *Manager) shrinkLoop() {
	t := time.NewTicker(max(m.lagMax/2, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		now := time.Now()
		m.Topics(func(ts *Topic) {
			ts.Hosted(func(p *Partition) {
				if isr := p.laggingISR(now, m.lagMax); isr != nil {
					m.proposeISR(p, isr)
				}
			})
		})
	}
}

// ReplicationStats is what metrics report of one partition this broker
// leads or follows.
type ReplicationStats struct {
	Leader         bool
	Replicas, ISR  int
	MinISR         int
	FollowerLagMax int64 // the leader's log end minus its slowest follower's (leader only)
}

// Stats reads a partition's replication state.
func (p *Partition) Stats() ReplicationStats {
	p.stateMu.RLock()
	defer p.stateMu.RUnlock()
	s := ReplicationStats{Leader: p.st.IsLeader, Replicas: len(p.st.Replicas), ISR: len(p.st.ISR)}
	if p.st.IsLeader {
		leo := p.Log.EndOffset()
		for _, f := range p.followers {
			if f.leo >= 0 {
				s.FollowerLagMax = max(s.FollowerLagMax, leo-f.leo)
			} else {
				s.FollowerLagMax = max(s.FollowerLagMax, leo)
			}
		}
	}
	return s
}

// isReplica reports whether broker id holds a replica of p, as the
// controller assigned it.
func (p *Partition) isReplica(id int32) bool {
	p.stateMu.RLock()
	defer p.stateMu.RUnlock()
	return slices.Contains(p.st.Replicas, id)
}

// followerFetched applies a follower's fetch at offset: its log end, the
// high watermark, and the ISR expansion it may earn.
func (m *Manager) followerFetched(p *Partition, id int32, offset int64) {
	propose, moved := p.followerFetched(id, offset, time.Now())
	if moved {
		p.notify()
	}
	if propose != nil {
		m.proposeISR(p, propose)
	}
}
