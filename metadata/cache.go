package metadata

import (
	"slices"
	"sync"
	"sync/atomic"

	"samsa/security"
)

// Broker is a live broker as the cluster knows it.
type Broker struct {
	ID int32
	// Host and Port are the broker's address on the inter-broker
	// listener: where followers fetch from and AlterPartition goes.
	Host string
	Port int32
	Rack *string
	// Epoch is the broker epoch: the czxid of its registration znode in
	// ZooKeeper mode, -1 standalone.
	Epoch int64
	// Endpoints are the broker's advertised listeners. Clients are
	// answered with the endpoint of the listener they came in on (On). A
	// broker known without endpoints is at Host:Port on every listener.
	Endpoints []Endpoint
}

// Endpoint is one advertised listener of a broker.
type Endpoint struct {
	Listener string
	Protocol security.Protocol
	Host     string
	Port     int32
}

// On returns the broker as a client of listener must see it: Host and
// Port its endpoint on that listener. A broker without that listener is
// not there (false), as Kafka leaves it out of Metadata.
func (b Broker) On(listener string) (Broker, bool) {
	if len(b.Endpoints) == 0 {
		return b, true
	}
	for _, e := range b.Endpoints {
		if e.Listener == listener {
			b.Host, b.Port = e.Host, e.Port
			return b, true
		}
	}
	return Broker{}, false
}

// PartitionState is a partition's leadership as the controller decided it
// (the state znode's content in ZooKeeper mode).
type PartitionState struct {
	Leader      int32 // -1: none (offline)
	LeaderEpoch int32
	Replicas    []int32
	ISR         []int32
	Offline     []int32
	// PartitionEpoch is the version of the state znode (0 standalone);
	// it orders changes to ISR that keep the leader epoch.
	PartitionEpoch int32
}

// TopicInfo is a topic as the metadata cache serves it.
type TopicInfo struct {
	Name       string
	ID         TopicID
	Internal   bool
	Partitions []PartitionState
}

// Snapshot is the cluster as one broker knows it at one moment. It is
// immutable once published: Cache.Update copies what it changes.
type Snapshot struct {
	ClusterID    string
	ControllerID int32    // -1: none known
	Brokers      []Broker // live brokers, sorted by ID
	Topics       map[string]*TopicInfo
	byID         map[TopicID]*TopicInfo
}

// Broker returns a live broker.
func (s *Snapshot) Broker(id int32) (Broker, bool) {
	i, ok := slices.BinarySearchFunc(s.Brokers, id, func(b Broker, id int32) int { return int(b.ID) - int(id) })
	if !ok {
		return Broker{}, false
	}
	return s.Brokers[i], true
}

// BrokersOn returns the live brokers a client of listener sees: each at
// its endpoint on that listener, those without it left out (Kafka's
// MetadataCache.getAliveBrokerNodes).
func (s *Snapshot) BrokersOn(listener string) []Broker {
	out := make([]Broker, 0, len(s.Brokers))
	for _, b := range s.Brokers {
		if on, ok := b.On(listener); ok {
			out = append(out, on)
		}
	}
	return out
}

// BrokerOn returns a live broker at its endpoint on listener.
func (s *Snapshot) BrokerOn(id int32, listener string) (Broker, bool) {
	b, ok := s.Broker(id)
	if !ok {
		return Broker{}, false
	}
	return b.On(listener)
}

// Alive reports whether a broker is live.
func (s *Snapshot) Alive(id int32) bool {
	_, ok := s.Broker(id)
	return ok
}

// Topic returns a topic, or nil.
func (s *Snapshot) Topic(name string) *TopicInfo { return s.Topics[name] }

// TopicByID returns a topic, or nil.
func (s *Snapshot) TopicByID(id TopicID) *TopicInfo { return s.byID[id] }

// Partition returns a partition's state.
func (s *Snapshot) Partition(topic string, p int32) (PartitionState, bool) {
	t := s.Topics[topic]
	if t == nil || p < 0 || int(p) >= len(t.Partitions) {
		return PartitionState{}, false
	}
	return t.Partitions[p], true
}

// TopicNames returns the topic names, sorted.
func (s *Snapshot) TopicNames() []string {
	names := make([]string, 0, len(s.Topics))
	for n := range s.Topics {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Cache is the metadata cache every handler reads (Kafka's MetadataCache):
// a published Snapshot, replaced whole by each update, so that a reader
// sees one consistent moment without locks.
type Cache struct {
	snap atomic.Pointer[Snapshot]
	mu   sync.Mutex // serializes writers
	// changed is closed (and replaced) by every Update: waiters for a
	// state of the cache wake on it. Guarded by mu.
	changed chan struct{}
}

// NewCache returns a cache of an empty cluster.
func NewCache(clusterID string) *Cache {
	c := &Cache{changed: make(chan struct{})}
	c.snap.Store(&Snapshot{ClusterID: clusterID, ControllerID: -1, Topics: map[string]*TopicInfo{}, byID: map[TopicID]*TopicInfo{}})
	return c
}

// Load returns the current snapshot. Callers must not modify it.
func (c *Cache) Load() *Snapshot { return c.snap.Load() }

// Changed returns a channel closed by the next Update. Take it before
// Load to miss no update: Changed, Load, check, wait.
func (c *Cache) Changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// Edit is a writer's copy of a snapshot.
type Edit struct{ s *Snapshot }

// Update applies fn to a copy of the current snapshot and publishes it.
func (c *Cache) Update(fn func(e *Edit)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.snap.Load()
	next := *cur
	next.Brokers = slices.Clone(cur.Brokers)
	next.Topics = make(map[string]*TopicInfo, len(cur.Topics))
	for k, v := range cur.Topics {
		next.Topics[k] = v
	}
	e := &Edit{s: &next}
	fn(e)
	next.byID = make(map[TopicID]*TopicInfo, len(next.Topics))
	for _, t := range next.Topics {
		next.byID[t.ID] = t
	}
	c.snap.Store(&next)
	close(c.changed)
	c.changed = make(chan struct{})
}

// SetController sets the controller's ID (-1: none).
func (e *Edit) SetController(id int32) { e.s.ControllerID = id }

// SetBrokers replaces the live brokers.
func (e *Edit) SetBrokers(bs []Broker) {
	e.s.Brokers = slices.Clone(bs)
	slices.SortFunc(e.s.Brokers, func(a, b Broker) int { return int(a.ID) - int(b.ID) })
}

// PutTopic adds or replaces a topic; t must not be modified afterwards.
func (e *Edit) PutTopic(t *TopicInfo) { e.s.Topics[t.Name] = t }

// DeleteTopic removes a topic.
func (e *Edit) DeleteTopic(name string) { delete(e.s.Topics, name) }

// SetPartition sets one partition's state, growing the topic's partition
// list as needed; it copies the topic, never changing a published one.
func (e *Edit) SetPartition(topic string, p int32, st PartitionState) bool {
	t := e.s.Topics[topic]
	if t == nil || p < 0 {
		return false
	}
	nt := *t
	n := max(len(t.Partitions), int(p)+1)
	nt.Partitions = make([]PartitionState, n)
	copy(nt.Partitions, t.Partitions)
	nt.Partitions[p] = st
	e.s.Topics[topic] = &nt
	return true
}
