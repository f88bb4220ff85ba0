// Package broker is the Kafka broker: the protocol handlers (one file per
// API key, api_NN_name.go), the topic and partition manager over logfile,
// configuration, metrics and the admin HTTP listener. Cluster metadata goes
// through metadata.Store: kept in the data directory when standalone.
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"samsa/config"
	"samsa/producerstate"

	"samsa/coordinator/group"
	"samsa/logfile"
	"samsa/logfile/vfs"
	"samsa/metadata"
	"samsa/netpoll"
)

// Broker is one running broker.
type Broker struct {
	cfg     *config.Config
	log     *slog.Logger
	meta    metadata.Store
	dir     *logfile.Dir
	metrics *metrics
	started time.Time

	// mu guards topics; a topic's state is replaced, never mutated, so
	// readers may keep a *topicState after unlocking.
	mu     sync.RWMutex
	topics map[string]*topicState

	// adminMu serializes topic creation, deletion and changes.
	adminMu sync.Mutex

	pids pidAllocator

	groups *group.Coordinator // set by Start (coordinator.go)

	sessions *fetchSessions // fetch sessions (fetchsession.go)

	srv      *netpoll.Server
	ln       net.Listener
	admin    *http.Server
	adminLn  net.Listener
	serveErr chan error

	shutdown sync.Once
	stop     chan struct{}  // closed by Shutdown: background loops end
	bg       sync.WaitGroup // background loops
}

// topicState is a topic as the broker serves it.
type topicState struct {
	meta  metadata.Topic
	cfg   config.TopicConfig
	parts []*Partition
	m     *topicMetrics
}

// New opens the data directory, the metadata and every log, and recovers
// them as needed. It does not listen yet: see Start.
func New(cfg *config.Config, logger *slog.Logger) (*Broker, error) {
	if logger == nil {
		logger = slog.Default()
	}
	if cfg.ZookeeperConnect != "" {
		return nil, &config.Error{Key: "zookeeper.connect", Value: cfg.ZookeeperConnect, Reason: "ZooKeeper mode is not implemented yet; leave it unset for a standalone broker"}
	}
	b := &Broker{cfg: cfg, log: logger, topics: map[string]*topicState{}, started: time.Now(), stop: make(chan struct{}),
		sessions: newFetchSessions(cfg.FetchSessionSlots, fetchSessionEvictionIdle)}
	b.metrics = newMetrics(b)
	dataDir := cfg.LogDirs[0]
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	store, err := metadata.OpenLocal(dataDir)
	if err != nil {
		return nil, err
	}
	b.meta = store
	if err := b.checkMetaProperties(dataDir); err != nil {
		return nil, err
	}
	b.dir, err = logfile.OpenDir(dataDir, logfile.DirOptions{
		Logger:                 logger,
		ConfigFor:              b.logConfigFor,
		RetentionCheckInterval: cfg.RetentionCheckInterval,
		CheckpointInterval:     cfg.FlushCheckpointInterval,
		FlushCheckInterval:     cfg.FlushCheckInterval,
	})
	if err != nil {
		return nil, err
	}
	if err := b.loadTopics(); err != nil {
		b.dir.Close()
		return nil, err
	}
	return b, nil
}

// logConfigFor is the log configuration of a topic found on disk.
func (b *Broker) logConfigFor(topic string) logfile.Config {
	t, ok := b.meta.Topic(topic)
	if !ok {
		return b.cfg.TopicDefaults.LogConfig()
	}
	c, err := b.cfg.TopicDefaults.With(t.Configs)
	if err != nil {
		b.log.Warn("invalid stored topic config; using defaults", "topic", topic, "err", err)
		return b.cfg.TopicDefaults.LogConfig()
	}
	return c.LogConfig()
}

// checkMetaProperties writes meta.properties on first start and refuses a
// data directory that belongs to another broker or cluster, as Kafka does.
func (b *Broker) checkMetaProperties(dir string) error {
	path := filepath.Join(dir, "meta.properties")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		content := fmt.Sprintf("#\n#%s\ncluster.id=%s\nversion=0\nbroker.id=%d\n",
			time.Now().UTC().Format(time.UnixDate), b.meta.ClusterID(), b.cfg.BrokerID)
		return vfs.WriteFileAtomic(vfs.OS, path, []byte(content))
	}
	if err != nil {
		return err
	}
	props, _, err := config.ParseProperties(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if id := props["broker.id"]; id != "" && id != strconv.Itoa(int(b.cfg.BrokerID)) {
		return fmt.Errorf("configured broker.id %d does not match broker.id %s stored in %s", b.cfg.BrokerID, id, path)
	}
	if cid := props["cluster.id"]; cid != "" && cid != b.meta.ClusterID() {
		return fmt.Errorf("cluster.id %s in %s does not match the cluster's %s", cid, path, b.meta.ClusterID())
	}
	return nil
}

// loadTopics opens the partitions of every topic in the metadata, creating
// missing logs, and adopts partition directories the metadata lacks (a lost
// metadata file) rather than serving or deleting them blindly.
func (b *Broker) loadTopics() error {
	known := map[string]bool{}
	for _, t := range b.meta.Topics() {
		known[t.Name] = true
	}
	strays := map[string]int32{}
	for _, l := range b.dir.Logs() {
		if !known[l.Topic()] {
			strays[l.Topic()] = max(strays[l.Topic()], l.Partition()+1)
		}
	}
	for name, n := range strays {
		t := metadata.Topic{Name: name, ID: readPartitionMetadata(b.dir, name), Replicas: make([][]int32, n)}
		for i := range t.Replicas {
			t.Replicas[i] = []int32{b.cfg.BrokerID}
		}
		b.log.Warn("adopting partition directories missing from the metadata", "topic", name, "partitions", n)
		if err := b.meta.CreateTopic(t); err != nil {
			return err
		}
	}
	for _, t := range b.meta.Topics() {
		ts, err := b.openTopic(t)
		if err != nil {
			return err
		}
		b.topics[t.Name] = ts
	}
	b.log.Info("topics loaded", "topics", len(b.topics))
	return nil
}

// openTopic opens (or creates) the logs of a topic's partitions.
func (b *Broker) openTopic(t metadata.Topic) (*topicState, error) {
	cfg, err := b.cfg.TopicDefaults.With(t.Configs)
	if err != nil {
		return nil, fmt.Errorf("topic %s: %w", t.Name, err)
	}
	ts := &topicState{meta: t, cfg: cfg, m: b.metrics.forTopic(t.Name)}
	for i := range t.Replicas {
		p, err := b.openPartition(t, int32(i), cfg)
		if err != nil {
			return nil, err
		}
		ts.parts = append(ts.parts, p)
	}
	return ts, nil
}

func (b *Broker) openPartition(t metadata.Topic, i int32, cfg config.TopicConfig) (*Partition, error) {
	tp := logfile.TopicPartition{Topic: t.Name, Partition: i}
	l := b.dir.Get(tp)
	if l == nil {
		var err error
		if l, err = b.dir.Create(tp, cfg.LogConfig()); err != nil {
			return nil, fmt.Errorf("create %s: %w", tp, err)
		}
		if err := writePartitionMetadata(l.Dir(), t.ID); err != nil {
			return nil, err
		}
	} else if err := l.SetConfig(cfg.LogConfig()); err != nil {
		return nil, err
	}
	prod, err := producerstate.Load(l)
	if err != nil {
		return nil, err
	}
	return &Partition{Topic: t.Name, Index: i, Log: l, prod: prod}, nil
}

// partition.metadata holds the topic ID in each partition directory, in
// Kafka's format.
func writePartitionMetadata(dir string, id metadata.TopicID) error {
	return vfs.WriteFileAtomic(vfs.OS, filepath.Join(dir, "partition.metadata"),
		[]byte("version: 0\ntopic_id: "+id.String()+"\n"))
}

func readPartitionMetadata(d *logfile.Dir, topic string) metadata.TopicID {
	data, err := os.ReadFile(filepath.Join(d.Path(), topic+"-0", "partition.metadata"))
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "topic_id: "); ok {
				if id, err := parseTopicID(strings.TrimSpace(v)); err == nil {
					return id
				}
			}
		}
	}
	return metadata.NewTopicID()
}

func parseTopicID(s string) (metadata.TopicID, error) {
	var id metadata.TopicID
	b, err := base64RawURL(s)
	if err != nil || len(b) != 16 {
		return id, fmt.Errorf("bad topic id %q", s)
	}
	copy(id[:], b)
	return id, nil
}

// topic returns a topic's state, or nil.
func (b *Broker) topic(name string) *topicState {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.topics[name]
}

// partition returns a partition, or nil.
func (b *Broker) partition(topic string, p int32) *Partition {
	ts := b.topic(topic)
	if ts == nil || p < 0 || int(p) >= len(ts.parts) {
		return nil
	}
	return ts.parts[p]
}

// topicNames returns the topic names, sorted.
func (b *Broker) topicNames() []string {
	b.mu.RLock()
	names := make([]string, 0, len(b.topics))
	for n := range b.topics {
		names = append(names, n)
	}
	b.mu.RUnlock()
	slices.Sort(names)
	return names
}

// Start listens on the listener and the admin listener and serves in the
// background.
func (b *Broker) Start() error {
	l := b.cfg.Listeners[0]
	ln, err := net.Listen("tcp", l.Addr())
	if err != nil {
		return fmt.Errorf("listen %s: %w", l, err)
	}
	b.ln = ln
	// A port of 0 takes any free port; advertise the one we got.
	if port := ln.Addr().(*net.TCPAddr).Port; l.Port == 0 {
		for i := range b.cfg.AdvertisedListeners {
			if b.cfg.AdvertisedListeners[i].Port == 0 {
				b.cfg.AdvertisedListeners[i].Port = int32(port)
			}
		}
	}
	if err := b.startGroups(); err != nil {
		ln.Close()
		return err
	}
	perIP, err := b.cfg.ConnectionsPerIP()
	if err != nil {
		ln.Close()
		return err
	}
	b.srv = netpoll.NewServer(netpoll.Config{
		MaxRequestBytes:  b.cfg.SocketRequestMaxBytes,
		IdleTimeout:      b.cfg.ConnectionsMaxIdle,
		MaxConnections:   b.cfg.MaxConnections,
		ConnectionsPerIP: perIP,
		Logger:           b.log,
	}, b)
	b.serveErr = make(chan error, 1)
	go func() { b.serveErr <- b.srv.Serve(ln) }()
	if b.cfg.AdminListener != "" {
		if err := b.startAdmin(); err != nil {
			b.srv.Close()
			return err
		}
	}
	b.bg.Add(1)
	go b.expireProducers()
	b.log.Info("broker started", "broker.id", b.cfg.BrokerID, "listener", ln.Addr().String(),
		"advertised", b.cfg.AdvertisedListeners[0].String(), "log.dir", b.dir.Path(), "cluster.id", b.meta.ClusterID())
	return nil
}

// Addr returns the address the Kafka listener is bound to.
func (b *Broker) Addr() net.Addr { return b.ln.Addr() }

// AdminAddr returns the admin listener's address, or nil.
func (b *Broker) AdminAddr() net.Addr {
	if b.adminLn == nil {
		return nil
	}
	return b.adminLn.Addr()
}

// Shutdown stops accepting, lets in-flight requests finish (bounded by
// ctx), flushes every log, writes the checkpoints and the clean-shutdown
// marker.
func (b *Broker) Shutdown(ctx context.Context) error {
	err := errors.New("broker: already shut down")
	b.shutdown.Do(func() { err = b.shutdownOnce(ctx) })
	return err
}

func (b *Broker) shutdownOnce(ctx context.Context) error {
	var errs []error
	if b.srv != nil {
		if err := b.srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if b.admin != nil {
		if err := b.admin.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if b.groups != nil {
		b.groups.Close()
	}
	close(b.stop)
	b.bg.Wait()
	b.snapshotProducers()
	if err := b.dir.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := b.meta.Close(); err != nil {
		errs = append(errs, err)
	}
	b.log.Info("broker stopped", "clean", len(errs) == 0)
	return errors.Join(errs...)
}

// snapshotProducers writes every partition's producer state as of its log
// end, so that a clean restart needs no scan.
func (b *Broker) snapshotProducers() {
	for _, name := range b.topicNames() {
		ts := b.topic(name)
		if ts == nil {
			continue
		}
		for _, p := range ts.parts {
			p.prod.Mu.Lock()
			if err := p.prod.Snapshot(p.Log.EndOffset()); err != nil {
				b.log.Warn("producer snapshot", "dir", p.Log.Dir(), "err", err)
			}
			p.prod.Mu.Unlock()
		}
	}
}

// expireProducers forgets producers idle for producer.id.expiration.ms,
// checking every producer.id.expiration.check.interval.ms.
func (b *Broker) expireProducers() {
	defer b.bg.Done()
	t := time.NewTicker(b.cfg.ProducerIDExpirationCheck)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
		cutoff := time.Now().Add(-b.cfg.ProducerIDExpiration).UnixMilli()
		for _, name := range b.topicNames() {
			if ts := b.topic(name); ts != nil {
				for _, p := range ts.parts {
					p.prod.Mu.Lock()
					if n := p.prod.State.Expire(cutoff); n > 0 {
						b.log.Info("expired idle producers", "topic", name, "partition", p.Index, "producers", n)
					}
					p.prod.Mu.Unlock()
				}
			}
		}
	}
}
