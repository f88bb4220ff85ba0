package group

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Config configures a Coordinator. Zero durations take Kafka's defaults.
type Config struct {
	// Partitions is the number of partitions of __consumer_offsets
	// (offsets.topic.num.partitions, or the existing topic's count).
	Partitions int32
	// MinSessionTimeout and MaxSessionTimeout bound the session timeouts
	// members may ask for (group.min/max.session.timeout.ms: 6 s, 30 min).
	MinSessionTimeout, MaxSessionTimeout time.Duration
	// InitialRebalanceDelay is group.initial.rebalance.delay.ms: how long
	// the first rebalance of an empty group waits for more members. Zero
	// is zero (Kafka's default, 3 s, is set by the broker's config).
	InitialRebalanceDelay time.Duration
	// MaxGroupSize is group.max.size (0: no limit).
	MaxGroupSize int
	// OffsetsRetention is offsets.retention.minutes (7 days).
	OffsetsRetention time.Duration
	// RetentionCheckInterval is offsets.retention.check.interval.ms (10 min).
	RetentionCheckInterval time.Duration
	// MaxMetadataSize is offset.metadata.max.bytes (4096).
	MaxMetadataSize int
	// PartitionExists reports whether a topic partition exists; commits to
	// others are UNKNOWN_TOPIC_OR_PARTITION. Nil: every partition exists.
	PartitionExists func(topic string, partition int32) bool
	// Now defaults to time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

func (c *Config) fill() {
	if c.Partitions <= 0 {
		c.Partitions = 50
	}
	if c.MinSessionTimeout <= 0 {
		c.MinSessionTimeout = 6 * time.Second
	}
	if c.MaxSessionTimeout <= 0 {
		c.MaxSessionTimeout = 30 * time.Minute
	}
	if c.OffsetsRetention <= 0 {
		c.OffsetsRetention = 7 * 24 * time.Hour
	}
	if c.RetentionCheckInterval <= 0 {
		c.RetentionCheckInterval = 10 * time.Minute
	}
	if c.MaxMetadataSize <= 0 {
		c.MaxMetadataSize = 4096
	}
	if c.PartitionExists == nil {
		c.PartitionExists = func(string, int32) bool { return true }
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Log is one partition of __consumer_offsets as the coordinator uses it.
type Log interface {
	// Append writes one record batch (base offset 0: the log assigns
	// offsets) and returns once it is in the log as an acknowledged
	// produce would be.
	Append(batch []byte) error
	// AppendTxn is Append for the transactional batch of a TxnOffsetCommit
	// whose transaction was verified with guard (TxnCommit.Verified): it
	// fails with INVALID_TXN_STATE, writing nothing, when the producer's
	// transaction is not open on the partition and a marker came since
	// the verification began (KIP-890 part 1).
	AppendTxn(batch []byte, guard uint64) error
	// Replay calls fn with the batches from the log start to the log end
	// as of the call, in order, in chunks of whole batches.
	Replay(fn func(batches []byte) error) error
}

// Coordinator is the group coordinator for the partitions of
// __consumer_offsets this broker leads. It is keyed by partition so that
// partitions can move between brokers: Load takes one over, Unload gives
// it up.
type Coordinator struct {
	cfg Config
	log *slog.Logger

	mu     sync.RWMutex // guards parts, closed and loads
	parts  map[int32]*partition
	closed bool
	// loads sums the partitions loading at the same time, for one log
	// line per batch (every partition at start, or those a LeaderAndIsr
	// hands over); each partition's own line is at debug level.
	loads loadBatch

	stop chan struct{}
	done chan struct{}
}

// partition is one partition of __consumer_offsets and its groups.
type partition struct {
	c   *Coordinator
	id  int32
	log Log

	// mu guards loading and groups; lock order: partition.mu, then group.mu.
	mu      sync.Mutex
	loading bool
	groups  map[string]*group
	loaded  chan struct{} // closed when loading ends
	// lateTxns are transactions that ended while the partition loaded,
	// applied to its groups once loaded (txn.go).
	lateTxns []lateTxn
}

// New returns a coordinator owning no partition yet; it runs offset
// expiration in the background until Close.
func New(cfg Config) *Coordinator {
	cfg.fill()
	c := &Coordinator{cfg: cfg, log: cfg.Logger, parts: map[int32]*partition{}, stop: make(chan struct{}), done: make(chan struct{})}
	go c.expireLoop()
	return c
}

func (c *Coordinator) now() time.Time { return c.cfg.Now() }

// Partitions is the number of partitions of __consumer_offsets.
func (c *Coordinator) Partitions() int32 { return c.cfg.Partitions }

// PartitionFor is the partition of __consumer_offsets holding a group.
func (c *Coordinator) PartitionFor(group string) int32 { return PartitionFor(group, c.cfg.Partitions) }

// Owns reports whether this coordinator leads partition p, and whether it
// is still loading it.
func (c *Coordinator) Owns(p int32) (owned, loading bool) {
	c.mu.RLock()
	part := c.parts[p]
	c.mu.RUnlock()
	if part == nil {
		return false, false
	}
	part.mu.Lock()
	defer part.mu.Unlock()
	return true, part.loading
}

// Load takes over partition p: its records are replayed in the background
// and, until that ends, requests for its groups are answered with
// COORDINATOR_LOAD_IN_PROGRESS. The returned channel is closed when the
// partition is loaded. Loading a partition already owned does nothing.
func (c *Coordinator) Load(p int32, log Log) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if part := c.parts[p]; part != nil || c.closed {
		if part == nil {
			ch := make(chan struct{})
			close(ch)
			return ch
		}
		return part.loaded
	}
	part := &partition{c: c, id: p, log: log, loading: true, groups: map[string]*group{}, loaded: make(chan struct{})}
	c.parts[p] = part
	if !c.loads.open {
		c.loads = loadBatch{start: c.now(), open: true, seq: c.loads.seq}
	}
	c.loads.pending++
	c.loads.seq++
	go c.load(part)
	return part.loaded
}

func (c *Coordinator) load(p *partition) {
	start := c.now()
	groups, records, err := c.replay(p)
	if err != nil {
		c.log.Error("loading __consumer_offsets partition failed; its groups start empty", "partition", p.id, "err", err)
	}
	p.mu.Lock()
	for name, g := range groups {
		g.mu.Lock()
		if len(g.members) > 0 {
			// Members keep their generation across a coordinator move; they
			// must heartbeat within their session from now.
			g.state = stateStable
			for _, m := range g.members {
				g.heartbeat(m)
			}
		}
		g.mu.Unlock()
		p.groups[name] = g
	}
	for _, t := range p.lateTxns {
		for _, g := range p.groups {
			g.mu.Lock()
			g.completeTxn(t.pid, t.commit)
			g.mu.Unlock()
		}
	}
	p.lateTxns = nil
	p.loading = false
	p.mu.Unlock()
	close(p.loaded)
	c.log.Debug("loaded __consumer_offsets partition", "partition", p.id, "records", records, "groups", len(groups), "took", c.now().Sub(start))
	c.loadDone(records, len(groups), err != nil)
}

// loadBatch is partitions loaded together: each load that starts before
// the others have ended, or within loadQuiet of their end, joins the batch
// (the loads of all partitions at start, or of those a LeaderAndIsr
// hands over, though an empty partition loads in microseconds).
type loadBatch struct {
	open                           bool
	pending                        int       // loads started and not ended
	parts, records, groups, failed int       // of the ended ones
	start, end                     time.Time // first load's start, last load's end
	seq                            uint64    // counts loads started: a summary is for the seq it was scheduled at
}

// loadQuiet is how long a batch stays open after its loads have ended.
const loadQuiet = 200 * time.Millisecond

// loadDone ends one partition's load; once none is pending, the batch's
// summary is logged after loadQuiet unless another load joins it.
func (c *Coordinator) loadDone(records, groups int, failed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := &c.loads
	b.pending--
	b.parts++
	b.records += records
	b.groups += groups
	b.end = c.now()
	if failed {
		b.failed++
	}
	if b.pending == 0 {
		seq := b.seq
		time.AfterFunc(loadQuiet, func() { c.logLoads(seq) })
	}
}

func (c *Coordinator) logLoads(seq uint64) {
	c.mu.Lock()
	b := c.loads
	if !b.open || b.pending > 0 || b.seq != seq {
		c.mu.Unlock()
		return // a later load joined the batch: its end logs it
	}
	c.loads.open = false
	c.mu.Unlock()
	args := []any{"partitions", b.parts, "records", b.records, "groups", b.groups, "took", b.end.Sub(b.start)}
	if b.failed > 0 {
		args = append(args, "failed", b.failed)
	}
	c.log.Info("loaded __consumer_offsets partitions", args...)
}

// replay rebuilds a partition's groups from its records: the last record
// of a key wins and a tombstone removes the key.
func (c *Coordinator) replay(p *partition) (map[string]*group, int, error) {
	groups := map[string]*group{}
	hasMeta := map[string]bool{}
	get := func(name string) *group {
		g := groups[name]
		if g == nil {
			g = newGroup(c, p, name)
			groups[name] = g
		}
		return g
	}
	n := 0
	skipped := func(codec int) {
		c.log.Warn("skipping a compressed batch in __consumer_offsets", "partition", p.id, "codec", codec)
	}
	marker := func(pid int64, commit bool) {
		for _, g := range groups {
			g.completeTxn(pid, commit)
		}
	}
	err := p.log.Replay(func(batches []byte) error {
		return decodeBatchesTxn(batches, func(pid int64, key, value []byte) error {
			n++
			replay := c.replayRecord
			if pid >= 0 {
				replay = func(key, value []byte, get func(string) *group, hasMeta map[string]bool) error {
					return c.replayTxnRecord(pid, key, value, get, hasMeta)
				}
			}
			if err := replay(key, value, get, hasMeta); err != nil {
				c.log.Warn("skipping an unreadable record of __consumer_offsets", "partition", p.id, "err", err)
			}
			return nil
		}, marker, skipped)
	})
	for name, g := range groups {
		if !hasMeta[name] && len(g.offsets) == 0 && len(g.pendingTxn) == 0 {
			delete(groups, name)
		}
	}
	return groups, n, err
}

func (c *Coordinator) replayRecord(key, value []byte, get func(string) *group, hasMeta map[string]bool) error {
	if len(key) < 2 {
		return errors.New("key shorter than its version")
	}
	switch v := int16(binary.BigEndian.Uint16(key)); v {
	case 0, 1:
		var k kmsg.OffsetCommitKey
		if err := k.ReadFrom(key); err != nil {
			return fmt.Errorf("offset commit key: %w", err)
		}
		tp := topicPartition{k.Topic, k.Partition}
		if value == nil {
			delete(get(k.Group).offsets, tp)
			return nil
		}
		var val kmsg.OffsetCommitValue
		if err := val.ReadFrom(value); err != nil {
			return fmt.Errorf("offset commit value: %w", err)
		}
		o := offset{offset: val.Offset, leaderEpoch: -1, metadata: val.Metadata, commitMs: val.CommitTimestamp, expireMs: -1}
		if val.Version >= 3 {
			o.leaderEpoch = val.LeaderEpoch
		}
		if val.Version == 1 {
			o.expireMs = val.ExpireTimestamp
		}
		get(k.Group).offsets[tp] = o
	case 2:
		var k kmsg.GroupMetadataKey
		if err := k.ReadFrom(key); err != nil {
			return fmt.Errorf("group metadata key: %w", err)
		}
		g := get(k.Group)
		if value == nil {
			hasMeta[k.Group] = false
			g.protocolType, g.protocolName, g.generation, g.leader = nil, nil, 0, ""
			clear(g.members)
			clear(g.static)
			return nil
		}
		var val kmsg.GroupMetadataValue
		if err := val.ReadFrom(value); err != nil {
			return fmt.Errorf("group metadata value: %w", err)
		}
		hasMeta[k.Group] = true
		g.protocolType = nil
		if val.ProtocolType != "" {
			pt := val.ProtocolType
			g.protocolType = &pt
		}
		g.generation = val.Generation
		g.protocolName = val.Protocol
		g.leader = ""
		if val.Leader != nil {
			g.leader = *val.Leader
		}
		g.state = stateEmpty
		g.stateTime = c.now()
		if val.Version >= 2 && val.CurrentStateTimestamp >= 0 {
			g.stateTime = time.UnixMilli(val.CurrentStateTimestamp)
		}
		clear(g.members)
		clear(g.static)
		for _, vm := range val.Members {
			m := &member{
				id: vm.MemberID, instanceID: vm.InstanceID, clientID: vm.ClientID, clientHost: vm.ClientHost,
				sessionTimeout:   time.Duration(vm.SessionTimeoutMillis) * time.Millisecond,
				rebalanceTimeout: time.Duration(vm.RebalanceTimeoutMillis) * time.Millisecond,
				assignment:       vm.Assignment,
			}
			if m.rebalanceTimeout <= 0 {
				m.rebalanceTimeout = m.sessionTimeout
			}
			if g.protocolType != nil {
				m.protocolType = *g.protocolType
			}
			if g.protocolName != nil {
				m.protocols = []protocol{{name: *g.protocolName, metadata: vm.Subscription}}
			}
			g.members[m.id] = m
			if m.instanceID != nil {
				g.static[*m.instanceID] = m.id
			}
		}
	default:
		return fmt.Errorf("unknown key version %d", v)
	}
	return nil
}

// Unload gives up partition p: its groups are dropped from memory, and
// requests waiting in JoinGroup or SyncGroup are answered NOT_COORDINATOR.
func (c *Coordinator) Unload(p int32) {
	c.mu.Lock()
	part := c.parts[p]
	delete(c.parts, p)
	c.mu.Unlock()
	if part == nil {
		return
	}
	<-part.loaded
	part.mu.Lock()
	defer part.mu.Unlock()
	for _, g := range part.groups {
		g.mu.Lock()
		g.unload()
		g.mu.Unlock()
	}
	clear(part.groups)
}

// unload stops the group's timers and answers its waiting requests.
func (g *group) unload() {
	g.stopTimers()
	for _, m := range g.members {
		g.answerJoin(m, joinResult{err: kerr.NotCoordinator, memberID: m.id})
		g.answerSync(m, syncResult{err: kerr.NotCoordinator})
		if m.timer != nil {
			m.timer.Stop()
		}
	}
	for id := range g.pending {
		g.removePending(id)
	}
	g.transition(stateDead)
}

// Close unloads every partition and stops background work. The logs are
// not touched afterwards.
func (c *Coordinator) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	ids := make([]int32, 0, len(c.parts))
	for id := range c.parts {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	close(c.stop)
	<-c.done
	for _, id := range ids {
		c.Unload(id)
	}
}

// partitionOf returns the loaded partition holding a group, or the error
// to answer with: NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS.
func (c *Coordinator) partitionOf(group string) (*partition, *kerr.Error) {
	c.mu.RLock()
	p := c.parts[c.PartitionFor(group)]
	c.mu.RUnlock()
	if p == nil {
		return nil, kerr.NotCoordinator
	}
	p.mu.Lock()
	loading := p.loading
	p.mu.Unlock()
	if loading {
		return nil, kerr.CoordinatorLoadInProgress
	}
	return p, nil
}

// loadedPartitions returns the owned partitions in order, and whether any
// is still loading.
func (c *Coordinator) loadedPartitions() (parts []*partition, loading bool) {
	c.mu.RLock()
	for _, p := range c.parts {
		parts = append(parts, p)
	}
	c.mu.RUnlock()
	sort.Slice(parts, func(i, j int) bool { return parts[i].id < parts[j].id })
	out := parts[:0]
	for _, p := range parts {
		p.mu.Lock()
		l := p.loading
		p.mu.Unlock()
		if l {
			loading = true
			continue
		}
		out = append(out, p)
	}
	return out, loading
}

// get returns a live group, or nil.
func (p *partition) get(name string) *group {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.groups[name]
}

// getOrCreate returns the group, making a new empty one if there is none
// (or only a dead one).
func (p *partition) getOrCreate(name string) *group {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.groups[name]
	if g != nil {
		g.mu.Lock()
		dead := g.is(stateDead)
		g.mu.Unlock()
		if !dead {
			return g
		}
	}
	g = newGroup(p.c, p, name)
	p.groups[name] = g
	return g
}

// groupsSnapshot lists the partition's groups.
func (p *partition) groupsSnapshot() []*group {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*group, 0, len(p.groups))
	for _, g := range p.groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// dropIfDead removes a group from the partition once it is dead.
func (p *partition) dropIfDead(g *group) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.groups[g.name] == g {
		g.mu.Lock()
		dead := g.is(stateDead)
		g.mu.Unlock()
		if dead {
			delete(p.groups, g.name)
		}
	}
}

// append writes records to the partition's log as one batch.
func (p *partition) append(recs []rec) error {
	if len(recs) == 0 {
		return nil
	}
	return p.log.Append(encodeBatch(recs, p.c.now().UnixMilli()))
}
