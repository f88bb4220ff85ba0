package replica

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/logfile"
	"samsa/metadata"
)

// ErrStaleController: a request from a controller older than one already
// heard from (STALE_CONTROLLER_EPOCH): a deposed controller that has not
// noticed yet.
var ErrStaleController = errors.New("replica: stale controller epoch")

// Change is one partition whose leadership a LeaderAndIsr changed.
type Change struct {
	Topic     string
	Partition int32
	Leader    bool // this broker now leads it
	Epoch     int32
}

// PartitionUpdate is one partition's new leadership, from the controller.
type PartitionUpdate struct {
	Topic     string
	TopicID   metadata.TopicID
	Partition int32
	State     State
	IsNew     bool
}

// TopicLookup returns a topic's stored metadata (its ID, assignment and
// config overrides), for partitions a LeaderAndIsr asks this broker to host.
type TopicLookup func(topic string) (metadata.Topic, bool)

// ApplyLeaderAndIsr makes this broker leader or follower of the partitions
// a controller's LeaderAndIsr names (Kafka's becomeLeaderOrFollower).
//
// Fencing: the request's controller epoch must not be older than the
// newest seen (ErrStaleController: a zombie controller); the caller checks
// the broker epoch. A partition's state is applied only if its leader
// epoch is newer than the one this broker holds, so a repeated or
// reordered request changes nothing (STALE_CONTROLLER_EPOCH for that
// partition, as Kafka answers). A partition this broker does not host yet
// is opened, its log created if missing; the partitions a request brings
// are opened in parallel (hostParallelism), each topic looked up once.
func (m *Manager) ApplyLeaderAndIsr(controllerEpoch int32, parts []PartitionUpdate, leaders map[int32]string, lookup TopicLookup) (errs map[int]int16, changes []Change, err error) {
	m.stateMu.Lock()
	defer m.stateMu.Unlock()
	if controllerEpoch < m.controllerEpoch {
		return nil, nil, fmt.Errorf("%w: %d, newest seen %d", ErrStaleController, controllerEpoch, m.controllerEpoch)
	}
	m.controllerEpoch = controllerEpoch
	for id, addr := range leaders {
		m.fetchers.SetLeaderAddr(id, addr)
	}
	errs = map[int]int16{}
	hosted := m.hostAll(parts, memoLookup(lookup))
	for i, u := range parts {
		p := m.Partition(u.Topic, u.Partition)
		if err, ok := hosted[i]; ok {
			if err != nil {
				m.log.Error("cannot host partition", "topic", u.Topic, "partition", u.Partition, "err", err)
				errs[i] = kerr.KafkaStorageError.Code
				continue
			}
		} else if p != nil {
			cur := p.State()
			if u.State.LeaderEpoch <= cur.LeaderEpoch && !(u.State.LeaderEpoch == cur.LeaderEpoch && u.State.PartitionEpoch > cur.PartitionEpoch) {
				m.log.Debug("ignoring LeaderAndIsr for a leader epoch already applied", "topic", u.Topic, "partition", u.Partition,
					"epoch", u.State.LeaderEpoch, "current", cur.LeaderEpoch)
				errs[i] = kerr.StaleControllerEpoch.Code
				continue
			}
		}
		st := u.State
		st.IsLeader = st.Leader == m.id
		st.Replicas, st.ISR = slices.Clone(st.Replicas), slices.Clone(st.ISR)
		if st.IsLeader {
			m.makeLeader(p, st)
		} else {
			m.makeFollower(p, st)
		}
		changes = append(changes, Change{Topic: u.Topic, Partition: u.Partition, Leader: st.IsLeader, Epoch: st.LeaderEpoch})
	}
	return errs, changes, nil
}

// makeLeader applies a leadership this broker takes or keeps (Kafka's
// Partition.makeLeader): the new epoch starts at the log end (recorded in
// the epoch cache), followers start over (ISR members counted as caught up
// now), and the high watermark stays where it was until the ISR moves it
// (alone in the ISR, it is the log end).
func (m *Manager) makeLeader(p *Partition, st State) {
	m.fetchers.Remove(m.followed(p))
	now := time.Now()
	p.stateMu.Lock()
	newEpoch := st.LeaderEpoch != p.st.LeaderEpoch || !p.st.IsLeader
	p.st, p.pendingISR = st, nil // the controller's state replaces a proposal in flight
	if newEpoch {
		p.epochStart = p.Log.EndOffset()
		// Written before the epoch's first batch: a LeaderAndIsr naming a
		// thousand partitions writes no file for them.
		p.Log.AssignEpochDeferred(st.LeaderEpoch, p.epochStart)
		p.resetFollowers(st, now)
	}
	p.advanceHW()
	p.stateMu.Unlock()
	p.notify()
	m.log.Info("leading partition", "topic", p.Topic, "partition", p.Index, "epoch", st.LeaderEpoch, "isr", st.ISR)
}

// makeFollower applies a leadership another broker holds (or none): the
// partition is fetched from the leader; its log is truncated only if the
// leader's answers show it diverged (KIP-595's way).
func (m *Manager) makeFollower(p *Partition, st State) {
	m.fetchers.Remove(m.followed(p))
	p.stateMu.Lock()
	p.st = st
	p.followers, p.pendingISR = nil, nil
	p.stateMu.Unlock()
	p.notify()
	if st.Leader >= 0 {
		m.fetchers.Add(m.followed(p), st.Leader, st.LeaderEpoch)
	}
	m.log.Info("following partition", "topic", p.Topic, "partition", p.Index, "leader", st.Leader, "epoch", st.LeaderEpoch)
}

// hostParallelism bounds the partitions opened at once: making a log is
// mostly waiting for file creation and fsyncs, which overlap.
const hostParallelism = 8

// tp names a partition.
type tp struct {
	topic string
	part  int32
}

// hostAll opens the partitions of parts this broker does not host yet, at
// most hostParallelism at once, and returns each one's outcome by its
// index in parts (a partition named twice is opened once).
func (m *Manager) hostAll(parts []PartitionUpdate, lookup TopicLookup) map[int]error {
	out := map[int]error{}
	seen := map[tp]bool{}
	var todo []int
	for i, u := range parts {
		k := tp{u.Topic, u.Partition}
		if seen[k] || m.Partition(u.Topic, u.Partition) != nil {
			continue
		}
		seen[k] = true
		todo = append(todo, i)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, hostParallelism)
	for _, i := range todo {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_, err := m.host(parts[i], lookup)
			mu.Lock()
			out[i] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// memoLookup looks each topic up once (the store may be ZooKeeper: two
// reads a topic).
func memoLookup(lookup TopicLookup) TopicLookup {
	type result struct {
		t  metadata.Topic
		ok bool
	}
	var mu sync.Mutex
	seen := map[string]result{}
	return func(topic string) (metadata.Topic, bool) {
		mu.Lock()
		defer mu.Unlock()
		r, ok := seen[topic]
		if !ok {
			r.t, r.ok = lookup(topic)
			seen[topic] = r
		}
		return r.t, r.ok
	}
}

// host opens (or creates) a partition's log and adds it to the hosted
// partitions, with no leadership yet. Several may run at once.
func (m *Manager) host(u PartitionUpdate, lookup TopicLookup) (*Partition, error) {
	t, ok := lookup(u.Topic)
	if !ok {
		t = metadata.Topic{Name: u.Topic, ID: u.TopicID}
	}
	if u.TopicID != (metadata.TopicID{}) && t.ID != u.TopicID {
		return nil, fmt.Errorf("topic %s: the controller names topic ID %s, the store %s", u.Topic, u.TopicID, t.ID)
	}
	cur := m.Topic(u.Topic)
	cfg := m.defaults
	if cur != nil {
		cfg = cur.Config
	} else if c, err := m.defaults.With(t.Configs); err == nil {
		cfg = c
	} else {
		m.log.Warn("invalid stored topic config; using defaults", "topic", u.Topic, "err", err)
	}
	p, err := m.openPartition(t, u.Partition, cfg)
	if err != nil {
		return nil, err
	}
	p.st = State{Leader: -1, LeaderEpoch: -1, PartitionEpoch: -1}
	m.mu.Lock()
	defer m.mu.Unlock()
	next := &Topic{Meta: t, Config: cfg, C: m.counters(t.Name)}
	if cur = m.topics[u.Topic]; cur != nil {
		next.Config, next.C = cur.Config, cur.C
		next.Parts = slices.Clone(cur.Parts)
	}
	if n := int(u.Partition) + 1; len(next.Parts) < n {
		next.Parts = append(next.Parts, make([]*Partition, n-len(next.Parts))...)
	}
	next.Parts[u.Partition] = p
	m.topics[u.Topic] = next
	return p, nil
}

// StopReplica is one partition a StopReplica names.
type StopReplica struct {
	Topic       string
	Partition   int32
	LeaderEpoch int32 // -1: no check; -2: the topic is being deleted
	Delete      bool
}

// ApplyStopReplica stops hosting partitions (Kafka's stopReplicas): the
// partition stops being served, and its log is deleted when asked (topic
// deletion, reassignment away). Fencing as ApplyLeaderAndIsr: an older
// controller epoch is refused whole, and a partition whose leader epoch is
// newer than the request's is left alone (FENCED_LEADER_EPOCH).
func (m *Manager) ApplyStopReplica(controllerEpoch int32, parts []StopReplica) (map[int]int16, error) {
	m.stateMu.Lock()
	defer m.stateMu.Unlock()
	if controllerEpoch < m.controllerEpoch {
		return nil, fmt.Errorf("%w: %d, newest seen %d", ErrStaleController, controllerEpoch, m.controllerEpoch)
	}
	m.controllerEpoch = controllerEpoch
	errs := map[int]int16{}
	for i, s := range parts {
		p := m.Partition(s.Topic, s.Partition)
		if p != nil && s.LeaderEpoch >= 0 && s.LeaderEpoch < p.LeaderEpoch() {
			errs[i] = kerr.FencedLeaderEpoch.Code
			continue
		}
		m.unhost(s.Topic, s.Partition, p)
		if s.Delete {
			tp := logfile.TopicPartition{Topic: s.Topic, Partition: s.Partition}
			if m.dir.Get(tp) != nil {
				if err := m.dir.Delete(tp); err != nil {
					m.log.Error("delete partition", "topic", s.Topic, "partition", s.Partition, "err", err)
					errs[i] = kerr.KafkaStorageError.Code
					continue
				}
			}
			m.log.Info("partition deleted", "topic", s.Topic, "partition", s.Partition)
		}
	}
	return errs, nil
}

// unhost stops serving a partition (p, if hosted) and drops the topic
// entry once no partition of it is hosted.
func (m *Manager) unhost(topic string, partition int32, p *Partition) {
	if p == nil {
		return
	}
	m.fetchers.Remove(m.followed(p))
	p.setState(State{Leader: -1, LeaderEpoch: p.LeaderEpoch()})
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.topics[topic]
	if cur == nil || int(partition) >= len(cur.Parts) {
		return
	}
	next := *cur
	next.Parts = slices.Clone(cur.Parts)
	next.Parts[partition] = nil
	if slices.IndexFunc(next.Parts, func(p *Partition) bool { return p != nil }) < 0 {
		delete(m.topics, topic)
		m.drop(topic)
		return
	}
	m.topics[topic] = &next
}

// LeaderAndIsrUpdates flattens a LeaderAndIsr request (any version) into
// per-partition updates.
func LeaderAndIsrUpdates(req *kmsg.LeaderAndISRRequest) []PartitionUpdate {
	var out []PartitionUpdate
	add := func(topic string, id [16]byte, ps kmsg.LeaderAndISRRequestTopicPartition) {
		out = append(out, PartitionUpdate{
			Topic: topic, TopicID: metadata.TopicID(id), Partition: ps.Partition, IsNew: ps.IsNew,
			State: State{Leader: ps.Leader, LeaderEpoch: ps.LeaderEpoch, PartitionEpoch: ps.ZKVersion,
				ControllerEpoch: ps.ControllerEpoch, Replicas: ps.Replicas, ISR: ps.ISR},
		})
	}
	for _, ps := range req.PartitionStates {
		add(ps.Topic, [16]byte{}, ps)
	}
	for _, t := range req.TopicStates {
		for _, ps := range t.PartitionStates {
			add(t.Topic, t.TopicID, ps)
		}
	}
	return out
}

// ObserveControllerEpoch fences a controller request that changes no
// partition (UpdateMetadata): ErrStaleController if the epoch is older than
// the newest seen; otherwise it becomes the newest.
func (m *Manager) ObserveControllerEpoch(epoch int32) error {
	m.stateMu.Lock()
	defer m.stateMu.Unlock()
	if epoch < m.controllerEpoch {
		return fmt.Errorf("%w: %d, newest seen %d", ErrStaleController, epoch, m.controllerEpoch)
	}
	m.controllerEpoch = epoch
	return nil
}
