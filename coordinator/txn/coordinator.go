package txn

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/coordinator/group"
	"samsa/internal/apierr"
	"samsa/metadata"
)

// Topic is the internal topic holding the coordinator's state.
const Topic = "__transaction_state"

// Config configures a Coordinator. Zero durations take Kafka's defaults.
type Config struct {
	// Partitions is the number of partitions of __transaction_state
	// (transaction.state.log.num.partitions, or the existing topic's count).
	Partitions int32
	// MaxTimeout is transaction.max.timeout.ms (15 min): a producer asking
	// for more gets INVALID_TRANSACTION_TIMEOUT.
	MaxTimeout time.Duration
	// IDExpiration is transactional.id.expiration.ms (7 days): an id idle
	// that long outside a transaction is forgotten.
	IDExpiration time.Duration
	// AbortInterval is
	// transaction.abort.timed.out.transaction.cleanup.interval.ms (10 s):
	// how often transactions open past their timeout are aborted.
	AbortInterval time.Duration
	// RemoveInterval is
	// transaction.remove.expired.transaction.cleanup.interval.ms (1 h).
	RemoveInterval time.Duration
	// RequestTimeout bounds one WriteTxnMarkers round trip
	// (request.timeout.ms: 30 s).
	RequestTimeout time.Duration
	// RetryBackoff is how long markers wait before they are sent again
	// after an error, and a completion before it is written again
	// (retry.backoff.ms: 100 ms).
	RetryBackoff time.Duration
	// ProducerIDs hands out producer ids never used before (the broker's
	// producer-id blocks). Required.
	ProducerIDs func() (int64, error)
	// Cache is the metadata cache: where each partition of a transaction
	// is led, for its markers. Required.
	Cache *metadata.Cache
	// Markers sends WriteTxnMarkers to partition leaders. Required.
	Markers MarkerSender
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

func (c *Config) fill() {
	if c.Partitions <= 0 {
		c.Partitions = 50
	}
	defaults := []struct {
		d   *time.Duration
		def time.Duration
	}{
		{&c.MaxTimeout, 15 * time.Minute},
		{&c.IDExpiration, 7 * 24 * time.Hour},
		{&c.AbortInterval, 10 * time.Second},
		{&c.RemoveInterval, time.Hour},
		{&c.RequestTimeout, 30 * time.Second},
		{&c.RetryBackoff, 100 * time.Millisecond},
	}
	for _, d := range defaults {
		if *d.d <= 0 {
			*d.d = d.def
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Log is one partition of __transaction_state as the coordinator uses it.
type Log interface {
	// Append writes one record batch (base offset 0: the log assigns
	// offsets) and returns once the in-sync replicas have it, as Kafka's
	// coordinator appends with acks=all. An error is a Kafka error
	// (internal/apierr) or not; either way nothing is applied.
	Append(batch []byte) error
	// Replay calls fn with the batches from the log start to the log end
	// as of the call, in order, in chunks of whole batches.
	Replay(fn func(batches []byte) error) error
}

// Coordinator is the transaction coordinator for the partitions of
// __transaction_state this broker leads: Kafka's TransactionCoordinator
// and TransactionStateManager, with the marker channel (markers.go).
type Coordinator struct {
	cfg     Config
	log     *slog.Logger
	markers *markerChannel

	loadMu sync.Mutex // serializes Load and Unload; taken before mu

	mu     sync.RWMutex // guards parts, closed and loads
	parts  map[int32]*partition
	closed bool
	loads  LoadStats

	stop chan struct{}
	bg   sync.WaitGroup
}

// partition is one partition of __transaction_state this broker leads,
// at one leader epoch: the coordinator epoch of everything it writes.
type partition struct {
	id, epoch int32
	log       Log
	loaded    chan struct{} // closed when loading ends

	// appendMu is read-held by every transition across its check, append
	// and apply, and write-held by unload, which so waits for the appends
	// in flight: nothing is written for a partition after it is given up,
	// and a reload replays every append of the leadership before it.
	appendMu sync.RWMutex

	// mu guards loading, unloaded and txns; taken after appendMu.
	mu       sync.Mutex
	loading  bool
	unloaded bool
	txns     map[string]*txnMeta
}

// New returns a coordinator owning no partition yet; it aborts timed-out
// transactions and expires idle ids in the background until Close.
func New(cfg Config) *Coordinator {
	cfg.fill()
	c := &Coordinator{cfg: cfg, log: cfg.Logger, parts: map[int32]*partition{}, stop: make(chan struct{})}
	c.markers = newMarkerChannel(c)
	c.bg.Add(2)
	go c.every(cfg.AbortInterval, c.AbortTimedOut)
	go c.every(cfg.RemoveInterval, c.ExpireIDs)
	return c
}

func (c *Coordinator) every(d time.Duration, fn func()) {
	defer c.bg.Done()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			fn()
		}
	}
}

func nowMs() int64 { return time.Now().UnixMilli() }

// Partitions is the number of partitions of __transaction_state.
func (c *Coordinator) Partitions() int32 { return c.cfg.Partitions }

// PartitionFor is the partition of __transaction_state holding a
// transactional id: Kafka's Utils.abs(transactionalId.hashCode) %
// partitions, the same rule as for groups.
func (c *Coordinator) PartitionFor(id string) int32 { return group.PartitionFor(id, c.cfg.Partitions) }

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
	return !part.unloaded, part.loading
}

// Load takes over partition p at leader epoch epoch, the coordinator epoch
// of its markers: its records are replayed in the background and, until
// that ends, requests for its ids get COORDINATOR_LOAD_IN_PROGRESS.
// Transactions found in PrepareCommit or PrepareAbort are completed: their
// markers are sent again. A partition owned at an older epoch is unloaded
// first (its appends in flight end before the replay starts). The channel
// is closed when loading ends.
func (c *Coordinator) Load(p, epoch int32, log Log) <-chan struct{} {
	c.loadMu.Lock()
	defer c.loadMu.Unlock()
	c.mu.Lock()
	old := c.parts[p]
	if c.closed || (old != nil && old.epoch >= epoch) {
		c.mu.Unlock()
		if old != nil {
			return old.loaded
		}
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	part := &partition{id: p, epoch: epoch, log: log, loaded: make(chan struct{}), loading: true, txns: map[string]*txnMeta{}}
	c.parts[p] = part
	c.mu.Unlock()
	if old != nil {
		c.unload(old)
	}
	c.bg.Add(1)
	go c.load(part)
	return part.loaded
}

func (c *Coordinator) load(p *partition) {
	defer c.bg.Done()
	defer close(p.loaded)
	start := time.Now()
	txns, records, err := c.replay(p)
	if err != nil {
		c.log.Error("loading __transaction_state partition failed; its transactions are those read before the error", "partition", p.id, "err", err)
	}
	type completion struct {
		tm *txnMeta
		t  transit
	}
	var todo []completion
	p.mu.Lock()
	if p.unloaded {
		p.mu.Unlock()
		return
	}
	now := nowMs()
	for _, id := range slices.Sorted(maps.Keys(txns)) {
		tm := txns[id]
		if tm.state != PrepareCommit && tm.state != PrepareAbort {
			continue
		}
		tm.mu.Lock()
		t, err := tm.prepareComplete(now)
		tm.mu.Unlock()
		if err != nil {
			c.log.Error("cannot complete a loaded transaction", "transactional.id", id, "err", err)
			continue
		}
		todo = append(todo, completion{tm, t})
	}
	p.txns = txns
	p.loading = false
	p.mu.Unlock()
	took := time.Since(start)
	c.mu.Lock()
	c.loads.Loads++
	c.loads.Total += took
	c.loads.Max = max(c.loads.Max, took)
	c.mu.Unlock()
	level := slog.LevelDebug
	if records > 0 {
		level = slog.LevelInfo // empty ones would be 50 lines at start
	}
	c.log.Log(context.Background(), level, "loaded __transaction_state partition", "partition", p.id, "coordinator.epoch", p.epoch,
		"records", records, "transactional.ids", len(txns), "completing", len(todo), "took", took)
	for _, x := range todo {
		c.markers.add(p, x.tm, x.t)
	}
}

// replay rebuilds a partition's transactions from its records: the last
// record of an id wins and a tombstone forgets the id. Unreadable records
// are skipped, so an id keeps what the log said before them.
func (c *Coordinator) replay(p *partition) (map[string]*txnMeta, int, error) {
	txns := map[string]*txnMeta{}
	n := 0
	skip := func(err error) {
		c.log.Warn("skipping a record of __transaction_state", "partition", p.id, "err", err)
	}
	err := p.log.Replay(func(batches []byte) error {
		return decodeBatches(batches, func(key, value []byte) {
			n++
			id, err := decodeKey(key)
			if err != nil {
				skip(err)
				return
			}
			if value == nil {
				delete(txns, id)
				return
			}
			t, err := decodeValue(value)
			if err != nil {
				skip(err)
				return
			}
			if t.state == Dead || t.state == PrepareEpochFence {
				skip(errors.Join(ErrCorrupt, errors.New("a state Kafka never writes: "+t.state.String())))
				return
			}
			tm := newTxnMeta(id, t.producerID, t.producerEpoch, t.timeoutMs, t.updateMs)
			tm.state, tm.startMs = t.state, t.startMs
			for _, tp := range t.partitions {
				tm.partitions[tp] = struct{}{}
			}
			txns[id] = tm
		}, func(codec int) {
			c.log.Warn("skipping a compressed batch of __transaction_state", "partition", p.id, "codec", codec)
		})
	})
	return txns, n, err
}

// Unload gives up partition p: its transactions are forgotten once the
// appends in flight end, and its markers not yet sent are dropped (the
// next coordinator sends them from the log).
func (c *Coordinator) Unload(p int32) {
	c.loadMu.Lock()
	defer c.loadMu.Unlock()
	c.mu.Lock()
	part := c.parts[p]
	delete(c.parts, p)
	c.mu.Unlock()
	if part != nil {
		c.unload(part)
	}
}

func (c *Coordinator) unload(p *partition) {
	p.appendMu.Lock()
	p.mu.Lock()
	p.unloaded = true
	p.txns = nil
	p.mu.Unlock()
	p.appendMu.Unlock()
	c.markers.removePartition(p)
}

// Close unloads every partition and stops background work, waiting for
// it; the logs are not touched afterwards.
func (c *Coordinator) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	ids := slices.Collect(maps.Keys(c.parts))
	c.mu.Unlock()
	close(c.stop)
	c.markers.close()
	for _, id := range ids {
		c.Unload(id)
	}
	c.bg.Wait()
	c.markers.wait()
}

// acquire returns the loaded partition holding id, read-locked for a
// transition (release it), or the error to answer: NOT_COORDINATOR, or
// COORDINATOR_LOAD_IN_PROGRESS while it loads.
func (c *Coordinator) acquire(id string) (*partition, *kerr.Error) {
	c.mu.RLock()
	p := c.parts[c.PartitionFor(id)]
	c.mu.RUnlock()
	if p == nil {
		return nil, kerr.NotCoordinator
	}
	p.appendMu.RLock()
	p.mu.Lock()
	unloaded, loading := p.unloaded, p.loading
	p.mu.Unlock()
	switch {
	case unloaded:
		p.appendMu.RUnlock()
		return nil, kerr.NotCoordinator
	case loading:
		p.appendMu.RUnlock()
		return nil, kerr.CoordinatorLoadInProgress
	}
	return p, nil
}

func (p *partition) release() { p.appendMu.RUnlock() }

// get returns an id's state, or nil.
func (p *partition) get(id string) *txnMeta {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.txns[id]
}

// putIfAbsent adds tm unless the id has a state already, which it returns.
func (p *partition) putIfAbsent(tm *txnMeta) *txnMeta {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cur := p.txns[tm.id]; cur != nil {
		return cur
	}
	p.txns[tm.id] = tm
	return tm
}

// write appends t, a transit of tm prepared under tm.mu, to p's log (the
// caller holds p from acquire) and applies it. On an error the pending
// state is cleared, but with keepPending for COORDINATOR_NOT_AVAILABLE:
// the caller writes it again.
func (c *Coordinator) write(p *partition, tm *txnMeta, t transit, keepPending bool) *kerr.Error {
	batch := encodeBatch(nowMs(), [2][]byte{encodeKey(tm.id), encodeValue(t)})
	err := p.log.Append(batch)
	tm.mu.Lock()
	defer tm.mu.Unlock()
	if err != nil {
		code := appendError(err)
		if !keepPending || code != kerr.CoordinatorNotAvailable {
			tm.pending = noState
		}
		c.log.Info("writing a transaction state failed", "transactional.id", tm.id, "state", t.state, "err", err, "answer", code.Message)
		return code
	}
	if err := tm.complete(t); err != nil {
		tm.pending = noState
		c.log.Error("applying a written transaction state failed", "transactional.id", tm.id, "err", err)
		return kerr.UnknownServerError
	}
	return nil
}

// appendError is the coordinator's answer for a failed append, Kafka's
// mapping: retriable errors of the log become COORDINATOR_NOT_AVAILABLE,
// a lost leadership NOT_COORDINATOR.
func appendError(err error) *kerr.Error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return kerr.CoordinatorNotAvailable
	}
	code := kerr.ErrorForCode(apierr.Code(err))
	switch code {
	case kerr.UnknownTopicOrPartition, kerr.NotEnoughReplicas, kerr.NotEnoughReplicasAfterAppend, kerr.RequestTimedOut:
		return kerr.CoordinatorNotAvailable
	case kerr.NotLeaderForPartition, kerr.KafkaStorageError:
		return kerr.NotCoordinator
	case kerr.MessageTooLarge, kerr.RecordListTooLarge:
		return kerr.UnknownServerError
	}
	if ke, ok := code.(*kerr.Error); ok {
		return ke
	}
	return kerr.UnknownServerError
}

// LoadStats are the loads of partitions since the coordinator started.
type LoadStats struct {
	Loads      int
	Total, Max time.Duration
}

// Stats is what the coordinator holds now: transactional ids by state
// (pending transitions count in the state they leave), the transactions
// sending markers, and the loads.
type Stats struct {
	States         map[State]int
	PendingMarkers int
	Loads          LoadStats
}

// Stats counts the transactional ids of the loaded partitions.
func (c *Coordinator) Stats() Stats {
	st := Stats{States: map[State]int{}, PendingMarkers: c.markers.pendingCount()}
	c.mu.RLock()
	st.Loads = c.loads
	parts := slices.Collect(maps.Values(c.parts))
	c.mu.RUnlock()
	for _, p := range parts {
		p.mu.Lock()
		for _, tm := range p.txns {
			tm.mu.Lock()
			st.States[tm.state]++
			tm.mu.Unlock()
		}
		p.mu.Unlock()
	}
	return st
}

// loadedPartitions returns the owned partitions in order, and whether any
// is still loading.
func (c *Coordinator) loadedPartitions() (parts []*partition, loading bool) {
	c.mu.RLock()
	all := slices.Collect(maps.Values(c.parts))
	c.mu.RUnlock()
	slices.SortFunc(all, func(a, b *partition) int { return cmp.Compare(a.id, b.id) })
	for _, p := range all {
		p.mu.Lock()
		l, u := p.loading, p.unloaded
		p.mu.Unlock()
		switch {
		case u:
		case l:
			loading = true
		default:
			parts = append(parts, p)
		}
	}
	return parts, loading
}
