package replica

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/config"
	"samsa/internal/apierr"
	"samsa/logfile"
	"samsa/logfile/vfs"
	"samsa/metadata"
	"samsa/producerstate"
	"samsa/replica/fetcher"
	"samsa/replica/fetchsession"
)

// Manager is the set of partitions this broker hosts, by topic (Kafka's
// ReplicaManager). A Topic is replaced, never mutated, when its partitions
// or configuration change, so readers may keep one after Topic returns.
type Manager struct {
	id       int32 // this broker
	cache    *metadata.Cache
	log      *slog.Logger
	dir      *logfile.Dir
	defaults config.TopicConfig
	counters func(topic string) *TopicCounters
	drop     func(topic string)

	// Sessions is the fetch session cache (KIP-227).
	Sessions *fetchsession.Cache
	// Purgatory parks fetches until an append or their deadline;
	// produceWait, acks=all produces until the high watermark passes them.
	Purgatory   *Purgatory
	produceWait *Purgatory

	// mu guards topics.
	mu     sync.RWMutex
	topics map[string]*Topic

	// Replication (ZooKeeper mode).
	alterISR  func(ctx context.Context, reqs []AlterISR) ([]AlterISRResult, error)
	isrSender *isrSender // nil without alterISR
	lagMax    time.Duration
	fetchers  *fetcher.Manager
	metrics   *Metrics
	stop      chan struct{}
	wg        sync.WaitGroup

	// verifier answers KIP-890's verification of transactional produces.
	verifier atomic.Pointer[TxnVerifier]

	// stateMu serializes changes of leadership (LeaderAndIsr, StopReplica)
	// and guards controllerEpoch, the newest controller epoch seen: a
	// request from an older controller is refused (a zombie controller).
	stateMu         sync.Mutex
	controllerEpoch int32
}

// Options configure a Manager.
type Options struct {
	// BrokerID is this broker's ID.
	BrokerID int32
	// Cache is the cluster's metadata, to tell a partition this broker
	// does not host from one that does not exist.
	Cache  *metadata.Cache
	Logger *slog.Logger
	// Defaults are the broker-level defaults of topic configs.
	Defaults config.TopicConfig
	// FetchSessionSlots is max.incremental.fetch.session.cache.slots.
	FetchSessionSlots int
	// Counters returns a topic's traffic counters; nil counts nothing.
	Counters func(topic string) *TopicCounters
	// FetchWaiting is told when a fetch parks (+1) and leaves (-1).
	FetchWaiting func(delta int)
	// DropCounters forgets a deleted topic's counters.
	DropCounters func(topic string)
	// Metrics counts ISR changes, fetched bytes, parked produces.
	Metrics *Metrics

	// Replication, ZooKeeper mode only: AlterISR sends ISR changes to the
	// controller in one AlterPartition and returns each one's outcome, in
	// order, or an error for all (nil: a standalone broker, which has no
	// followers); ReplicaLagTimeMax is replica.lag.time.max.ms; Fetcher
	// configures the follower side.
	AlterISR          func(ctx context.Context, reqs []AlterISR) ([]AlterISRResult, error)
	ReplicaLagTimeMax time.Duration
	Fetcher           FetcherConfig

	// TxnVerifier verifies transactional produces with the transaction
	// coordinator (KIP-890); nil: AlwaysVerified until SetTxnVerifier.
	TxnVerifier TxnVerifier
}

// Topic is a topic as this broker serves it.
type Topic struct {
	Meta   metadata.Topic
	Config config.TopicConfig
	// Parts holds the hosted partitions by index; nil where this broker
	// hosts no replica of the partition (cluster mode).
	Parts []*Partition
	C     *TopicCounters
}

// Hosted calls fn for each partition of the topic this broker hosts.
func (t *Topic) Hosted(fn func(p *Partition)) {
	for _, p := range t.Parts {
		if p != nil {
			fn(p)
		}
	}
}

// NewManager returns a manager of the logs in dir.
func NewManager(dir *logfile.Dir, opts Options) *Manager {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Counters == nil {
		opts.Counters = func(string) *TopicCounters { return nil }
	}
	if opts.DropCounters == nil {
		opts.DropCounters = func(string) {}
	}
	m := &Manager{
		id: opts.BrokerID, cache: opts.Cache, log: opts.Logger, dir: dir, defaults: opts.Defaults, counters: opts.Counters, drop: opts.DropCounters,
		Sessions:  fetchsession.NewCache(opts.FetchSessionSlots, fetchsession.EvictionIdle),
		Purgatory: &Purgatory{waiting: opts.FetchWaiting}, produceWait: &Purgatory{},
		topics:   map[string]*Topic{},
		alterISR: opts.AlterISR, lagMax: opts.ReplicaLagTimeMax, metrics: opts.Metrics,
		stop: make(chan struct{}),
	}
	if m.lagMax <= 0 {
		m.lagMax = 30 * time.Second
	}
	m.SetTxnVerifier(opts.TxnVerifier)
	m.fetchers = fetcher.New(m.id, opts.Fetcher, m.log)
	if m.alterISR != nil {
		m.isrSender = newISRSender(m.alterISR)
		m.wg.Add(2)
		go func() { defer m.wg.Done(); m.shrinkLoop() }()
		go func() { defer m.wg.Done(); m.isrSender.run(m.stop) }()
	}
	return m
}

// Close stops the replica fetchers and the ISR checks.
func (m *Manager) Close() {
	select {
	case <-m.stop:
		return
	default:
	}
	close(m.stop)
	m.fetchers.Close()
	m.wg.Wait()
}

// Dir returns the log directory.
func (m *Manager) Dir() *logfile.Dir { return m.dir }

// Topic returns a topic's state, or nil.
func (m *Manager) Topic(name string) *Topic {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.topics[name]
}

// Partition returns a hosted partition, or nil.
func (m *Manager) Partition(topic string, p int32) *Partition {
	t := m.Topic(topic)
	if t == nil || p < 0 || int(p) >= len(t.Parts) {
		return nil
	}
	return t.Parts[p]
}

// Lookup returns a topic and one of its partitions that this broker hosts,
// or Kafka's error: NOT_LEADER_OR_FOLLOWER when the cluster has the
// partition but this broker holds no replica of it (the client's metadata
// is stale), UNKNOWN_TOPIC_OR_PARTITION when nobody has it.
func (m *Manager) Lookup(topic string, partition int32) (*Topic, *Partition, error) {
	ts := m.Topic(topic)
	p, err := m.hosted(ts, topic, partition)
	return ts, p, err
}

func (m *Manager) hosted(ts *Topic, topic string, partition int32) (*Partition, error) {
	if ts != nil && partition >= 0 && int(partition) < len(ts.Parts) && ts.Parts[partition] != nil {
		return ts.Parts[partition], nil
	}
	if m.cache != nil {
		if _, ok := m.cache.Load().Partition(topic, partition); ok {
			return nil, apierr.Errorf(kerr.NotLeaderForPartition, "broker %d holds no replica of %s-%d", m.id, topic, partition)
		}
	}
	return nil, apierr.Errorf(kerr.UnknownTopicOrPartition, "This server does not host this topic-partition.")
}

// TopicNames returns the names of the hosted topics, sorted.
func (m *Manager) TopicNames() []string {
	m.mu.RLock()
	names := make([]string, 0, len(m.topics))
	for n := range m.topics {
		names = append(names, n)
	}
	m.mu.RUnlock()
	slices.Sort(names)
	return names
}

// Topics calls fn for every hosted topic, in name order.
func (m *Manager) Topics(fn func(t *Topic)) {
	for _, name := range m.TopicNames() {
		if t := m.Topic(name); t != nil {
			fn(t)
		}
	}
}

// LogConfigFor is the log configuration of a topic found on disk: the
// defaults with the topic's stored overrides. Each topic is looked up once:
// the log directory asks for every partition it opens, and with ZooKeeper
// as the store a lookup is two reads (5,000 partitions took a restarting
// broker 10 s of lookups).
func LogConfigFor(defaults config.TopicConfig, store metadata.Store, log *slog.Logger) func(topic string) logfile.Config {
	var mu sync.Mutex
	seen := map[string]logfile.Config{}
	return func(topic string) logfile.Config {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := seen[topic]; ok {
			return c
		}
		c := logConfigFor(defaults, store, log, topic)
		seen[topic] = c
		return c
	}
}

func logConfigFor(defaults config.TopicConfig, store metadata.Store, log *slog.Logger, topic string) logfile.Config {
	t, ok := store.Topic(topic)
	if !ok {
		return defaults.LogConfig()
	}
	c, err := defaults.With(t.Configs)
	if err != nil {
		log.Warn("invalid stored topic config; using defaults", "topic", topic, "err", err)
		return defaults.LogConfig()
	}
	return c.LogConfig()
}

// OpenTopic opens (or creates) the logs of all of a topic's partitions and
// leads them: a standalone broker is its own controller, at leader epoch 0
// with itself as the only replica.
func (m *Manager) OpenTopic(t metadata.Topic) (*Topic, error) {
	cfg, err := m.defaults.With(t.Configs)
	if err != nil {
		return nil, fmt.Errorf("topic %s: %w", t.Name, err)
	}
	ts := &Topic{Meta: t, Config: cfg, C: m.counters(t.Name)}
	for i := range t.Replicas {
		p, err := m.openPartition(t, int32(i), cfg)
		if err != nil {
			return nil, err
		}
		// Every batch a standalone broker wrote carries epoch 0.
		if p.Log.LatestEpoch() < 0 {
			p.Log.AssignEpochDeferred(0, p.Log.StartOffset())
		}
		ts.Parts = append(ts.Parts, p)
	}
	m.mu.Lock()
	m.topics[t.Name] = ts
	m.mu.Unlock()
	return ts, nil
}

func (m *Manager) openPartition(t metadata.Topic, i int32, cfg config.TopicConfig) (*Partition, error) {
	tp := logfile.TopicPartition{Topic: t.Name, Partition: i}
	l := m.dir.Get(tp)
	if l == nil {
		var err error
		if l, err = m.dir.Create(tp, cfg.LogConfig()); err != nil {
			return nil, fmt.Errorf("create %s: %w", tp, err)
		}
		if err := writePartitionMetadata(m.dir.FS(), l.Dir(), t.ID); err != nil {
			return nil, err
		}
	} else if err := l.SetConfig(cfg.LogConfig()); err != nil {
		return nil, err
	}
	prod, err := producerstate.Load(l)
	if err != nil {
		return nil, err
	}
	l.SetLastStableFunc(prod.LastStable)
	p := &Partition{Topic: t.Name, Index: i, Log: l, prod: prod}
	p.follow = newFollowed(m, p)
	p.st = State{Leader: m.id, IsLeader: true, Replicas: []int32{m.id}, ISR: []int32{m.id}}
	return p, nil
}

// DropTopic stops serving a topic and deletes its logs. It returns false if
// the topic was not served.
func (m *Manager) DropTopic(name string) bool {
	m.mu.Lock()
	ts := m.topics[name]
	delete(m.topics, name)
	m.mu.Unlock()
	if ts == nil {
		// Logs of a failed OpenTopic may exist without a served topic.
		for _, l := range m.dir.Logs() {
			if l.Topic() == name {
				m.dir.Delete(logfile.TopicPartition{Topic: name, Partition: l.Partition()})
			}
		}
		return false
	}
	for _, p := range ts.Parts {
		if p == nil {
			continue
		}
		p.notify()
		if err := m.dir.Delete(logfile.TopicPartition{Topic: name, Partition: p.Index}); err != nil {
			m.log.Error("delete partition", "topic", name, "partition", p.Index, "err", err)
		}
	}
	m.drop(name)
	return true
}

// AddPartitions opens the partitions of t (the topic's new metadata) that
// are not served yet.
func (m *Manager) AddPartitions(t metadata.Topic) error {
	cur := m.Topic(t.Name)
	if cur == nil {
		return fmt.Errorf("replica: topic %s is not served", t.Name)
	}
	next := &Topic{Meta: t, Config: cur.Config, Parts: slices.Clone(cur.Parts), C: cur.C}
	for i := int32(len(cur.Parts)); i < int32(len(t.Replicas)); i++ {
		p, err := m.openPartition(t, i, cur.Config)
		if err != nil {
			return err
		}
		next.Parts = append(next.Parts, p)
	}
	m.mu.Lock()
	m.topics[t.Name] = next
	m.mu.Unlock()
	return nil
}

// SetTopicConfig applies a topic's new metadata and configuration (already
// validated) to its logs and serves it.
func (m *Manager) SetTopicConfig(t metadata.Topic, cfg config.TopicConfig) error {
	cur := m.Topic(t.Name)
	if cur == nil {
		return fmt.Errorf("replica: topic %s is not served", t.Name)
	}
	for _, p := range cur.Parts {
		if p == nil {
			continue
		}
		if err := p.Log.SetConfig(cfg.LogConfig()); err != nil {
			return err
		}
	}
	m.mu.Lock()
	m.topics[t.Name] = &Topic{Meta: t, Config: cfg, Parts: cur.Parts, C: cur.C}
	m.mu.Unlock()
	return nil
}

// SnapshotProducers writes every partition's producer state as of its log
// end, so that a clean restart needs no scan. A partition that never had a
// record and has no producer needs none (Kafka takes a snapshot only past
// the last one): a broker of thousands of empty partitions would spend its
// shutdown creating as many files.
func (m *Manager) SnapshotProducers() {
	m.Topics(func(ts *Topic) {
		ts.Hosted(func(p *Partition) {
			p.prod.Mu.Lock()
			if end := p.Log.EndOffset(); end == 0 && p.prod.State.Len() == 0 {
				p.prod.Mu.Unlock()
				return
			}
			if err := p.prod.Snapshot(p.Log.EndOffset()); err != nil {
				m.log.Warn("producer snapshot", "dir", p.Log.Dir(), "err", err)
			}
			p.prod.Mu.Unlock()
		})
	})
}

// ExpireProducers forgets producers idle since before cutoff.
func (m *Manager) ExpireProducers(cutoff time.Time) {
	ms := cutoff.UnixMilli()
	m.Topics(func(ts *Topic) {
		ts.Hosted(func(p *Partition) {
			p.prod.Mu.Lock()
			if n := p.prod.State.Expire(ms); n > 0 {
				m.log.Info("expired idle producers", "topic", ts.Meta.Name, "partition", p.Index, "producers", n)
			}
			p.prod.Mu.Unlock()
		})
	})
}

// partition.metadata holds the topic ID in each partition directory, in
// Kafka's format.
func writePartitionMetadata(fsys vfs.FS, dir string, id metadata.TopicID) error {
	return vfs.WriteFileAtomic(fsys, filepath.Join(dir, "partition.metadata"),
		[]byte("version: 0\ntopic_id: "+id.String()+"\n"))
}

// ReadPartitionMetadata returns the topic ID recorded in the directory of
// a topic's partition 0, or a new ID if there is none.
func ReadPartitionMetadata(d *logfile.Dir, topic string) metadata.TopicID {
	data, err := os.ReadFile(filepath.Join(d.Path(), topic+"-0", "partition.metadata"))
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "topic_id: "); ok {
				if id, err := metadata.ParseTopicID(strings.TrimSpace(v)); err == nil {
					return id
				}
			}
		}
	}
	return metadata.NewTopicID()
}

// Replicated reports whether partitions have followers (ZooKeeper mode):
// acks=all then waits for the high watermark.
func (m *Manager) Replicated() bool { return m.alterISR != nil }
