package fetcher

import (
	"context"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kclient"
	"samsa/replica/fetchsession"
)

// Config configures the replica fetchers, with Kafka's keys.
type Config struct {
	NumFetchers      int           // num.replica.fetchers
	MaxBytes         int32         // replica.fetch.max.bytes, per partition
	ResponseMaxBytes int32         // replica.fetch.response.max.bytes
	MaxWait          time.Duration // replica.fetch.wait.max.ms
	MinBytes         int32         // replica.fetch.min.bytes
	Backoff          time.Duration // replica.fetch.backoff.ms
	Timeout          time.Duration // replica.socket.timeout.ms
	// Endpoint is a broker's host:port, from the metadata cache.
	Endpoint func(id int32) (string, bool)
	// Dial connects to a leader's inter-broker listener (TLS when it is
	// SSL); nil is plain TCP.
	Dial kclient.DialFunc
	// Connect opens a fetcher's connection to a leader; nil is a
	// kclient.Conn over Dial. Tests answer in process.
	Connect func(addr, clientID string) Conn
}

// Conn is a fetcher's connection to its leader, as kclient.Conn offers
// it: one request at a time, never retried.
type Conn interface {
	Addr() string
	// Fetch sends req and decodes the leader's answer into resp, whose
	// slices it may reuse; the answer's record batches and topic names
	// may alias the connection's buffers until its next Fetch. It ends
	// timeout after it starts, or when ctx ends.
	Fetch(ctx context.Context, req *kmsg.FetchRequest, resp *kmsg.FetchResponse, timeout time.Duration) error
	Close() error
}

// Partition is one partition the fetchers feed, as its owner (package
// replica) offers it. Values are map keys: the same partition must always
// be the same (comparable) value.
type Partition interface {
	// Name is the partition's topic and index.
	Name() (topic string, partition int32)
	// Position is where its next fetch starts: its log end and log start
	// offsets and the latest leader epoch of its log (-1: none), read
	// without its locks.
	Position() (end, start int64, lastEpoch int32)
	// Locked calls fn with the partition locked against appends and
	// leadership changes, with its leadership as it stands, and returns
	// fn's error. The Log is valid only during the call.
	Locked(fn func(Leadership, Log) error) error
}

// Leadership is a partition's leadership as its owner last applied it.
type Leadership struct {
	Leader      int32 // -1: none
	LeaderEpoch int32
	IsLeader    bool // this broker leads it
}

// Log is a follower's log, with its producer state, under
// Partition.Locked.
type Log interface {
	StartOffset() int64
	EndOffset() int64
	// EpochEndOffset returns the largest leader epoch of the log not above
	// epoch and the offset where it ends (-1, -1: none).
	EpochEndOffset(epoch int32) (int32, int64)
	// Append appends the leader's batches as they are (offsets and leader
	// epochs kept), with the producer state and transaction index the
	// leader's batches make, after checking their framing and CRCs. The
	// batches are the connection's buffer, as read: valid only during the
	// call.
	Append(batches []byte) error
	// TakeLeaderOffsets takes the leader's high watermark (bounded by the
	// log end) and log start offset (when past ours and below the high
	// watermark), and wakes what waits on the partition.
	TakeLeaderOffsets(hw, logStart int64) error
	// TruncateTo cuts the log at offset, durably, and rebuilds the
	// producer state.
	TruncateTo(offset int64) error
	// TruncateFullyAndStartAt empties the log, which then starts at
	// offset, and rebuilds the producer state.
	TruncateFullyAndStartAt(offset int64) error
}

type key struct {
	leader int32
	idx    int
}

// Manager is the registry of a broker's fetchers (Kafka's
// ReplicaFetcherManager): which fetcher fetches each partition, and the
// leaders' addresses.
type Manager struct {
	id  int32 // this broker: the fetches' replica_id
	cfg Config
	log *slog.Logger

	// mu guards the fields below (invariant 2).
	mu       sync.Mutex
	byKey    map[key]*fetcher
	assigned map[Partition]key
	addrs    map[int32]string // leaders' addresses as LeaderAndIsr named them
	closed   bool             // Close ran: Add starts nothing
}

// New returns the fetchers of broker id, with Kafka's defaults for the
// settings cfg leaves zero.
func New(id int32, cfg Config, log *slog.Logger) *Manager {
	if cfg.NumFetchers < 1 {
		cfg.NumFetchers = 1
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 1 << 20
	}
	if cfg.ResponseMaxBytes <= 0 {
		cfg.ResponseMaxBytes = 10 << 20
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 500 * time.Millisecond
	}
	if cfg.MinBytes <= 0 {
		cfg.MinBytes = 1
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Connect == nil {
		dial := cfg.Dial
		cfg.Connect = func(addr, id string) Conn {
			if dial != nil {
				return kclient.New(addr, id, kclient.WithDial(dial))
			}
			return kclient.New(addr, id)
		}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Manager{id: id, cfg: cfg, log: log.With("component", "replica-fetcher"),
		byKey: map[key]*fetcher{}, assigned: map[Partition]key{}, addrs: map[int32]string{}}
}

// SetLeaderAddr records a leader's address from a LeaderAndIsr.
func (m *Manager) SetLeaderAddr(id int32, addr string) {
	m.mu.Lock()
	m.addrs[id] = addr
	m.mu.Unlock()
}

// addr is a leader's address: as a LeaderAndIsr named it, or else as the
// metadata cache has it.
func (m *Manager) addr(id int32) (string, bool) {
	m.mu.Lock()
	a, ok := m.addrs[id]
	m.mu.Unlock()
	if ok {
		return a, true
	}
	if m.cfg.Endpoint != nil {
		return m.cfg.Endpoint(id)
	}
	return "", false
}

// Add makes p fetched from leader at leaderEpoch, moving it off any other
// fetcher.
func (m *Manager) Add(p Partition, leader, leaderEpoch int32) {
	m.Remove(p)
	topic, index := p.Name()
	h := fnv.New32a()
	h.Write([]byte(topic))
	h.Write([]byte{byte(index >> 24), byte(index >> 16), byte(index >> 8), byte(index)})
	k := key{leader, int(h.Sum32() % uint32(m.cfg.NumFetchers))}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	f := m.byKey[k]
	if f == nil {
		f = &fetcher{m: m, key: k, parts: map[Partition]*fetchState{},
			wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
		m.byKey[k] = f
		go f.run()
	}
	f.mu.Lock()
	f.parts[p] = &fetchState{epoch: leaderEpoch}
	f.mu.Unlock()
	m.assigned[p] = k
	f.poke()
}

// Remove stops fetching p; a fetcher left with nothing ends, and Remove
// waits for it.
func (m *Manager) Remove(p Partition) {
	m.mu.Lock()
	k, ok := m.assigned[p]
	var idle *fetcher
	if ok {
		delete(m.assigned, p)
		if f := m.byKey[k]; f != nil {
			f.mu.Lock()
			delete(f.parts, p)
			if len(f.parts) == 0 {
				delete(m.byKey, k)
				idle = f
			}
			f.mu.Unlock()
		}
	}
	m.mu.Unlock()
	if idle != nil {
		idle.close()
	}
}

// Following reports the leader and leader epoch p is fetched at; ok is
// false when no fetcher has it.
func (m *Manager) Following(p Partition) (leader, leaderEpoch int32, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.assigned[p]
	if !ok {
		return -1, -1, false
	}
	f := m.byKey[k]
	f.mu.Lock()
	defer f.mu.Unlock()
	return k.leader, f.parts[p].epoch, true
}

// Close stops every fetcher and waits for them; Add starts none after it.
func (m *Manager) Close() {
	m.mu.Lock()
	all := m.byKey
	m.byKey, m.assigned, m.closed = map[key]*fetcher{}, map[Partition]key{}, true
	m.mu.Unlock()
	for _, f := range all {
		f.close()
	}
}

// fetchState is a partition as its fetcher holds it.
type fetchState struct {
	epoch        int32 // the leader epoch it is followed at
	backoffUntil time.Time
}

// fetcher fetches from one leader; run is its goroutine.
type fetcher struct {
	m   *Manager
	key key

	// mu guards parts.
	mu    sync.Mutex
	parts map[Partition]*fetchState

	wake chan struct{} // Add's poke, buffered one deep
	stop chan struct{} // closed once, by close
	done chan struct{} // closed when run returns

	// Used by the fetcher's goroutine only (and by close once it ended),
	// each reused from one fetch to the next.
	conn  Conn
	sess  fetchsession.Follower[Partition] // with the leader at conn's address
	resp  kmsg.FetchResponse               // the last answer: its batches alias conn's buffer
	apply applying
	ready map[Partition]int32
	index map[tp]Partition
}

// tp names a partition in a fetch response.
type tp struct {
	topic string
	part  int32
}
