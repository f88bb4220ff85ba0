package replica

// The follower's side of replication (Kafka's ReplicaFetcherThread): for
// each leader, num.replica.fetchers goroutines fetch the partitions this
// broker follows from it, with Fetch v12 (replica_id = this broker,
// current_leader_epoch, last_fetched_epoch), and append what comes as it
// is (AppendAsFollower: offsets and leader epochs kept). A response that
// names a diverging epoch (KIP-320, KIP-595) makes the follower truncate
// to where its log and the leader's agree, then fetch again. The leader's
// high watermark in each response becomes the follower's (bounded by its
// own log end).
//
// A fetched batch is appended only while this broker still follows that
// leader at that leader epoch: the check and the append hold the
// partition's state lock, which a LeaderAndIsr takes to change it. The
// producer-state lock is taken first, as the produce path does.

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kclient"
	"samsa/logfile"
	"samsa/producerstate"
	"samsa/record"
)

// FetcherConfig configures the replica fetchers, with Kafka's keys.
type FetcherConfig struct {
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

	// dial connects to a leader (nil: kclient); tests answer in-process.
	dial func(addr, clientID string) leaderClient
}

// leaderClient is a fetcher's connection to its leader, as kclient.Conn
// offers it: one request at a time, never retried.
type leaderClient interface {
	Addr() string
	Request(ctx context.Context, req kmsg.Request) (kmsg.Response, error)
	Close() error
}

type fetcherKey struct {
	leader int32
	idx    int
}

type fetchers struct {
	m   *Manager
	cfg FetcherConfig
	log *slog.Logger

	mu       sync.Mutex
	byKey    map[fetcherKey]*fetcher
	assigned map[*Partition]fetcherKey
	addrs    map[int32]string // leaders' addresses as LeaderAndIsr named them
}

func newFetchers(m *Manager, cfg FetcherConfig) *fetchers {
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
	if cfg.dial == nil {
		dial := cfg.Dial
		cfg.dial = func(addr, id string) leaderClient {
			if dial != nil {
				return kclient.New(addr, id, kclient.WithDial(dial))
			}
			return kclient.New(addr, id)
		}
	}
	return &fetchers{m: m, cfg: cfg, log: m.log.With("component", "replica-fetcher"),
		byKey: map[fetcherKey]*fetcher{}, assigned: map[*Partition]fetcherKey{}, addrs: map[int32]string{}}
}

// setLeaderAddr records a leader's address from a LeaderAndIsr.
func (fs *fetchers) setLeaderAddr(id int32, addr string) {
	fs.mu.Lock()
	fs.addrs[id] = addr
	fs.mu.Unlock()
}

func (fs *fetchers) addr(id int32) (string, bool) {
	fs.mu.Lock()
	a, ok := fs.addrs[id]
	fs.mu.Unlock()
	if ok {
		return a, true
	}
	if fs.cfg.Endpoint != nil {
		return fs.cfg.Endpoint(id)
	}
	return "", false
}

// add makes p fetched from leader at leaderEpoch (moving it off any other
// fetcher).
func (fs *fetchers) add(p *Partition, leader, leaderEpoch int32) {
	fs.remove(p)
	h := fnv.New32a()
	h.Write([]byte(p.Topic))
	h.Write([]byte{byte(p.Index >> 24), byte(p.Index >> 16), byte(p.Index >> 8), byte(p.Index)})
	key := fetcherKey{leader, int(h.Sum32() % uint32(fs.cfg.NumFetchers))}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	select {
	case <-fs.m.stop:
		return
	default:
	}
	f := fs.byKey[key]
	if f == nil {
		f = &fetcher{fs: fs, key: key, parts: map[*Partition]*fetchState{},
			wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
		fs.byKey[key] = f
		go f.run()
	}
	f.mu.Lock()
	f.parts[p] = &fetchState{epoch: leaderEpoch}
	f.mu.Unlock()
	fs.assigned[p] = key
	f.poke()
}

// remove stops fetching p; a fetcher left with nothing ends.
func (fs *fetchers) remove(p *Partition) {
	fs.mu.Lock()
	key, ok := fs.assigned[p]
	var idle *fetcher
	if ok {
		delete(fs.assigned, p)
		if f := fs.byKey[key]; f != nil {
			f.mu.Lock()
			delete(f.parts, p)
			if len(f.parts) == 0 {
				delete(fs.byKey, key)
				idle = f
			}
			f.mu.Unlock()
		}
	}
	fs.mu.Unlock()
	if idle != nil {
		idle.close()
	}
}

func (fs *fetchers) closeAll() {
	fs.mu.Lock()
	all := fs.byKey
	fs.byKey = map[fetcherKey]*fetcher{}
	fs.assigned = map[*Partition]fetcherKey{}
	fs.mu.Unlock()
	for _, f := range all {
		f.close()
	}
}

type fetchState struct {
	epoch        int32 // the leader epoch we follow at
	backoffUntil time.Time
}

// fetcher fetches from one leader.
type fetcher struct {
	fs  *fetchers
	key fetcherKey

	mu    sync.Mutex
	parts map[*Partition]*fetchState

	wake chan struct{}
	stop chan struct{}
	done chan struct{}

	conn leaderClient
}

func (f *fetcher) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *fetcher) close() {
	select {
	case <-f.stop:
	default:
		close(f.stop)
	}
	<-f.done
	if f.conn != nil {
		f.conn.Close()
	}
}

func (f *fetcher) run() {
	defer close(f.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-f.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		select {
		case <-f.stop:
			return
		default:
		}
		parts, wait := f.ready(time.Now())
		if len(parts) == 0 {
			t := time.NewTimer(wait)
			select {
			case <-f.stop:
				t.Stop()
				return
			case <-f.wake:
			case <-t.C:
			}
			t.Stop()
			continue
		}
		if err := f.fetchOnce(ctx, parts); err != nil {
			if ctx.Err() != nil {
				return
			}
			f.fs.log.Warn("replica fetch failed", "leader", f.key.leader, "err", err, "retry.in", f.fs.cfg.Backoff)
			select {
			case <-f.stop:
				return
			case <-time.After(f.fs.cfg.Backoff):
			}
		}
	}
}

// ready returns the partitions not backing off, or how long until one is.
func (f *fetcher) ready(now time.Time) (map[*Partition]int32, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[*Partition]int32{}
	wait := time.Hour
	for p, st := range f.parts {
		if now.Before(st.backoffUntil) {
			wait = min(wait, st.backoffUntil.Sub(now))
			continue
		}
		out[p] = st.epoch
	}
	return out, wait
}

func (f *fetcher) backoff(p *Partition) {
	f.mu.Lock()
	if st := f.parts[p]; st != nil {
		st.backoffUntil = time.Now().Add(f.fs.cfg.Backoff)
	}
	f.mu.Unlock()
}

func (f *fetcher) fetchOnce(ctx context.Context, parts map[*Partition]int32) error {
	addr, ok := f.fs.addr(f.key.leader)
	if !ok {
		return errors.New("leader's address unknown")
	}
	if f.conn == nil || f.conn.Addr() != addr {
		if f.conn != nil {
			f.conn.Close()
		}
		f.conn = f.fs.cfg.dial(addr, "samsa-replica-fetcher-"+strconv.Itoa(int(f.fs.m.id)))
	}
	cfg := f.fs.cfg
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = f.fs.m.id
	req.MaxWaitMillis = int32(cfg.MaxWait / time.Millisecond)
	req.MinBytes = cfg.MinBytes
	req.MaxBytes = cfg.ResponseMaxBytes
	req.SessionEpoch = -1
	byName := map[string]int{}
	index := map[[2]any]*Partition{}
	for p, epoch := range parts {
		i, ok := byName[p.Topic]
		if !ok {
			t := kmsg.NewFetchRequestTopic()
			t.Topic = p.Topic
			req.Topics = append(req.Topics, t)
			i = len(req.Topics) - 1
			byName[p.Topic] = i
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.CurrentLeaderEpoch = p.Index, epoch
		rp.FetchOffset, rp.LastFetchedEpoch = p.Log.EndOffset(), p.Log.LatestEpoch()
		rp.LogStartOffset, rp.PartitionMaxBytes = p.Log.StartOffset(), cfg.MaxBytes
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
		index[[2]any{p.Topic, p.Index}] = p
	}
	rctx, cancel := context.WithTimeout(ctx, cfg.MaxWait+cfg.Timeout)
	defer cancel()
	resp, err := f.conn.Request(rctx, req)
	if err != nil {
		return err
	}
	r := resp.(*kmsg.FetchResponse)
	if r.ErrorCode != 0 {
		return kerr.ErrorForCode(r.ErrorCode)
	}
	for _, t := range r.Topics {
		for i := range t.Partitions {
			rp := &t.Partitions[i]
			p := index[[2]any{t.Topic, rp.Partition}]
			if p == nil {
				continue
			}
			if err := f.handle(p, parts[p], rp); err != nil {
				level := slog.LevelWarn
				switch {
				case errors.Is(err, kerr.NotLeaderForPartition), errors.Is(err, kerr.UnknownTopicOrPartition),
					errors.Is(err, kerr.FencedLeaderEpoch), errors.Is(err, kerr.UnknownLeaderEpoch):
					// The leader has not heard of the change yet, or we
					// have not: the controller's next request settles it.
					level = slog.LevelDebug
				}
				f.fs.log.Log(context.Background(), level, "replica fetch of a partition failed", "topic", p.Topic, "partition", p.Index, "leader", f.key.leader, "err", err)
				f.backoff(p)
			}
		}
	}
	return nil
}

// handle applies one partition's part of a fetch response.
func (f *fetcher) handle(p *Partition, epoch int32, rp *kmsg.FetchResponseTopicPartition) error {
	switch rp.ErrorCode {
	case 0:
	case kerr.OffsetOutOfRange.Code:
		return f.outOfRange(p, epoch, rp)
	default:
		// Fenced, not the leader, unknown: the controller will tell us.
		return kerr.ErrorForCode(rp.ErrorCode)
	}
	p.prod.Mu.Lock()
	defer p.prod.Mu.Unlock()
	p.stateMu.RLock()
	defer p.stateMu.RUnlock()
	if p.st.IsLeader || p.st.Leader != f.key.leader || p.st.LeaderEpoch != epoch {
		return nil // leadership moved while we fetched
	}
	l := p.Log
	if rp.DivergingEpoch.EndOffset >= 0 && rp.DivergingEpoch.Epoch >= 0 {
		return f.truncateDiverged(p, rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset)
	}
	if len(rp.RecordBatches) > 0 {
		// A follower that started over at the leader's log start gets
		// the batch holding it whole when DeleteRecords moved the start
		// inside a batch: its log starts at that batch instead, as in
		// Kafka, rather than refusing it on every fetch.
		if h, err := record.ParseHeader(rp.RecordBatches); err == nil && l.StartOffset() == l.EndOffset() &&
			h.BaseOffset < l.EndOffset() && h.LastOffset() >= l.EndOffset() {
			if err := l.TruncateFullyAndStartAt(h.BaseOffset); err != nil {
				return err
			}
		}
		// The same producer state and transaction index as the leader's:
		// the plan writes the index entries of the aborts with the
		// batches, the state applies them after.
		info, err := l.AppendAsFollowerTxn(rp.RecordBatches, p.prod.State.PlanAborts)
		if err == nil {
			now := time.Now().UnixMilli()
			for pos := 0; pos < len(rp.RecordBatches); {
				b := rp.RecordBatches[pos:]
				h, _ := record.ParseHeader(b)
				if h.ProducerID >= 0 {
					// A control batch holds no marker only if the leader
					// wrote it so: it changes nothing there either.
					_, _, _ = p.prod.State.Apply(&h, b[:h.Size()], now)
				}
				pos += int(h.Size())
			}
			f.fs.m.maybeSnapshot(p)
		}
		if err != nil {
			return err
		}
		f.fs.m.metrics.fetched(len(rp.RecordBatches))
		_ = info
	}
	l.SetHighWatermark(min(rp.HighWatermark, l.EndOffset()))
	p.prod.Publish(l.HighWatermark())
	if lso := rp.LogStartOffset; lso > l.StartOffset() && lso <= l.HighWatermark() {
		if _, err := l.DeleteRecordsBefore(lso); err != nil && !errors.Is(err, logfile.ErrOffsetOutOfRange) {
			return err
		}
	}
	p.notify()
	return nil
}

// truncateDiverged cuts the log back to where it agrees with the leader's:
// the leader's log for epoch ends at endOffset; ours for the largest epoch
// not above it ends at ours. Called with p.prod.Mu held and p.stateMu
// read-held.
func (f *fetcher) truncateDiverged(p *Partition, epoch int32, endOffset int64) error {
	l := p.Log
	localEpoch, localEnd := l.EpochEndOffset(epoch)
	to := endOffset
	if localEpoch >= 0 && localEnd >= 0 {
		to = min(to, localEnd)
	}
	to = min(to, l.EndOffset())
	f.fs.log.Info("follower log diverged from the leader's; truncating", "topic", p.Topic, "partition", p.Index,
		"leader.epoch", epoch, "leader.end", endOffset, "local.epoch", localEpoch, "local.end", localEnd, "to", to)
	return f.fs.m.truncateLocked(p, to)
}

// outOfRange handles OFFSET_OUT_OF_RANGE: the leader's log starts past
// our end (retention moved it): start over at its log start; or ours ends
// past the leader's (should not happen with epochs): cut to its high
// watermark.
func (f *fetcher) outOfRange(p *Partition, epoch int32, rp *kmsg.FetchResponseTopicPartition) error {
	p.prod.Mu.Lock()
	defer p.prod.Mu.Unlock()
	p.stateMu.RLock()
	defer p.stateMu.RUnlock()
	if p.st.IsLeader || p.st.LeaderEpoch != epoch {
		return nil
	}
	l := p.Log
	if rp.LogStartOffset > l.EndOffset() {
		f.fs.log.Info("follower behind the leader's log start; starting over there", "topic", p.Topic, "partition", p.Index, "start", rp.LogStartOffset)
		if err := l.TruncateFullyAndStartAt(rp.LogStartOffset); err != nil {
			return err
		}
		return f.fs.m.reloadProducers(p)
	}
	return f.fs.m.truncateLocked(p, max(rp.HighWatermark, l.StartOffset()))
}

// truncateLocked cuts a follower's log at offset and rebuilds its producer
// state. Called with p.prod.Mu held.
func (m *Manager) truncateLocked(p *Partition, offset int64) error {
	if err := p.Log.TruncateTo(offset); err != nil {
		return err
	}
	return m.reloadProducers(p)
}

// reloadProducers rebuilds producer state after a truncation. Called with
// p.prod.Mu held.
func (m *Manager) reloadProducers(p *Partition) error {
	prod, err := producerstate.Load(p.Log)
	if err != nil {
		return err
	}
	p.prod.Replace(prod, p.Log.HighWatermark())
	return nil
}
