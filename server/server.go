package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/admin"
	"samsa/config"
	"samsa/coordinator/group"
	"samsa/coordinator/txn"
	"samsa/kafkaapi"
	// Their inits register the administrative and group APIs with kafkaapi.
	_ "samsa/kafkaapi/adminapi"
	_ "samsa/kafkaapi/groupapi"
	_ "samsa/kafkaapi/txnapi"
	"samsa/kclient"
	"samsa/logfile"
	"samsa/logfile/vfs"
	"samsa/metadata"
	"samsa/netpoll"
	"samsa/replica"
	"samsa/security"
	"samsa/security/sasl"
)

// Server is one running broker.
type Server struct {
	cfg         *config.Config
	log         *slog.Logger
	meta        metadata.Store
	cache       *metadata.Cache
	dir         *logfile.Dir
	rm          *replica.Manager
	api         *kafkaapi.Handler
	groups      *group.Coordinator
	txns        *txn.Coordinator
	markerConns *txn.Conns // the transaction coordinator's connections to other brokers
	verifyConns *txn.Conns // the verifier's (KIP-890), to other coordinators
	metrics     *metrics
	cl          *cluster // nil standalone
	started     time.Time

	// closing is set when Shutdown begins: readiness fails from then on.
	closing chan struct{}

	srv *netpoll.Server
	ln  net.Listener                   // the first listener's, for Addr
	lns []boundListener                // every listener, in the order of listeners
	tls map[string]*security.ServerTLS // by listener name: the TLS listeners'
	// interDial and controlDial connect to other brokers' inter-broker
	// and control plane listeners (nil: plain TCP).
	interDial, controlDial kclient.DialFunc
	interTLS, controlTLS   clientTLS       // their TLS, when the listeners are TLS ones
	dynamic                *dynamicConfigs // the dynamic broker configs (KIP-226)
	// sasl are the SASL listeners' settings, by listener name; creds
	// stores the SCRAM credentials and scram caches them (sasl.go).
	sasl     map[string]config.SASLListener
	creds    sasl.CredentialStore
	scram    sasl.CredentialCache
	admin    *http.Server
	adminLn  net.Listener
	serveErr chan error
	stopACLs func() // stops following ACL change notifications; nil when not

	shutdown sync.Once
	stop     chan struct{}  // closed by Shutdown: background loops end
	bg       sync.WaitGroup // background loops
}

// New opens the data directory, the metadata and every log, and recovers
// them as needed. It does not listen yet: see Start.
func New(cfg *config.Config, logger *slog.Logger) (*Server, error) {
	return newServer(cfg, logger, vfs.OS)
}

// newServer is New with the file system the logs go through: tests inject
// faults with vfs.Faulty.
func newServer(cfg *config.Config, logger *slog.Logger, logFS vfs.FS) (*Server, error) {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: logger, started: time.Now(), stop: make(chan struct{}), closing: make(chan struct{})}
	s.metrics = newMetrics(s)
	// Keystores load first: a listener that cannot serve stops the broker
	// before it touches ZooKeeper or the logs.
	if err := s.buildSecurity(); err != nil {
		return nil, err
	}
	dataDir := cfg.LogDirs[0]
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	if cfg.ZookeeperConnect != "" {
		if err := s.newCluster(); err != nil {
			return nil, err
		}
	} else {
		store, err := metadata.OpenLocal(dataDir)
		if err != nil {
			return nil, err
		}
		s.meta = store
	}
	store := s.meta
	if err := s.checkMetaProperties(dataDir); err != nil {
		s.closeStore()
		return nil, err
	}
	s.dynamic.load() // the dynamic keystores stored, before any listener serves
	if err := s.openCredentials(); err != nil {
		s.closeStore()
		return nil, err
	}
	var err error
	checkpoints := cfg.FlushCheckpointInterval
	if s.cl != nil {
		// The high watermark checkpoint goes with the others, at
		// replica.high.watermark.checkpoint.interval.ms.
		checkpoints = min(checkpoints, cfg.ReplicaHighWatermarkCheckpoint)
	}
	s.dir, err = logfile.OpenDir(dataDir, logfile.DirOptions{
		FS:                     logFS,
		Logger:                 logger,
		ConfigFor:              replica.LogConfigFor(cfg.TopicDefaults, store, logger),
		RetentionCheckInterval: cfg.RetentionCheckInterval,
		CheckpointInterval:     checkpoints,
		FlushCheckInterval:     cfg.FlushCheckInterval,
		ManualHighWatermark:    s.cl != nil,
		Cleaner:                cfg.Cleaner.Enable,
		CleanerBackoff:         cfg.Cleaner.Backoff,
		CleanerMaxKeys:         cfg.Cleaner.MaxKeys(),
	})
	if err != nil {
		s.closeStore()
		return nil, err
	}
	s.cache = metadata.NewCache(store.ClusterID())
	ropts := replica.Options{
		BrokerID:          cfg.BrokerID,
		Cache:             s.cache,
		Logger:            logger,
		Defaults:          cfg.TopicDefaults,
		FetchSessionSlots: cfg.FetchSessionSlots,
		Counters:          s.metrics.forTopic,
		DropCounters:      s.metrics.dropTopic,
		FetchWaiting:      func(d int) { s.metrics.fetchWaiting.Add(float64(d)) },
		Metrics:           s.metrics.replica,
	}
	if s.cl != nil {
		s.cl.replicaOptions(&ropts)
	}
	s.rm = replica.NewManager(s.dir, ropts)
	if s.cl == nil {
		// Standalone: this broker is its own controller and leads every
		// partition. In cluster mode the controller's LeaderAndIsr says.
		if err := s.loadTopics(); err != nil {
			s.dir.Close()
			s.closeStore()
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) closeStore() {
	s.meta.Close()
	if s.cl != nil {
		s.cl.zk.Close()
	}
}

// readMetaProperties reads the data directory's meta.properties.
func readMetaProperties(dir string) (map[string]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "meta.properties"))
	if err != nil {
		return nil, err
	}
	props, _, err := config.ParseProperties(data)
	return props, err
}

// checkMetaProperties writes meta.properties on first start and refuses a
// data directory that belongs to another broker or cluster, as Kafka does.
func (s *Server) checkMetaProperties(dir string) error {
	path := filepath.Join(dir, "meta.properties")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		content := fmt.Sprintf("#\n#%s\ncluster.id=%s\nversion=0\nbroker.id=%d\n",
			time.Now().UTC().Format(time.UnixDate), s.meta.ClusterID(), s.cfg.BrokerID)
		return vfs.WriteFileAtomic(vfs.OS, path, []byte(content))
	}
	if err != nil {
		return err
	}
	props, _, err := config.ParseProperties(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if id := props["broker.id"]; id != "" && id != strconv.Itoa(int(s.cfg.BrokerID)) {
		return fmt.Errorf("configured broker.id %d does not match broker.id %s stored in %s", s.cfg.BrokerID, id, path)
	}
	if cid := props["cluster.id"]; cid != "" && cid != s.meta.ClusterID() {
		if s.cl != nil {
			// Kafka's words, so that operators find them.
			return fmt.Errorf("The Cluster ID %s doesn't match stored clusterId Some(%s) in meta.properties. The broker is trying to join the wrong cluster. Configured zookeeper.connect may be wrong.", s.meta.ClusterID(), cid)
		}
		return fmt.Errorf("cluster.id %s in %s does not match the cluster's %s", cid, path, s.meta.ClusterID())
	}
	return nil
}

// loadTopics opens the partitions of every topic in the metadata, creating
// missing logs, and adopts partition directories the metadata lacks (a lost
// metadata file) rather than serving or deleting them blindly. The metadata
// cache then shows this broker leading them all.
func (s *Server) loadTopics() error {
	known := map[string]bool{}
	for _, t := range s.meta.Topics() {
		known[t.Name] = true
	}
	strays := map[string]int32{}
	for _, l := range s.dir.Logs() {
		if !known[l.Topic()] {
			strays[l.Topic()] = max(strays[l.Topic()], l.Partition()+1)
		}
	}
	for name, n := range strays {
		t := metadata.Topic{Name: name, ID: replica.ReadPartitionMetadata(s.dir, name), Replicas: make([][]int32, n)}
		for i := range t.Replicas {
			t.Replicas[i] = []int32{s.cfg.BrokerID}
		}
		s.log.Warn("adopting partition directories missing from the metadata", "topic", name, "partitions", n)
		if err := s.meta.CreateTopic(t); err != nil {
			return err
		}
	}
	var infos []*metadata.TopicInfo
	for _, t := range s.meta.Topics() {
		ts, err := s.rm.OpenTopic(t)
		if err != nil {
			return err
		}
		infos = append(infos, admin.TopicInfo(ts))
	}
	s.cache.Update(func(e *metadata.Edit) {
		for _, t := range infos {
			e.PutTopic(t)
		}
	})
	s.log.Info("topics loaded", "topics", len(infos))
	return nil
}

// Start listens on every listener and the admin listener and serves in
// the background.
func (s *Server) Start() error {
	for _, l := range s.cfg.Listeners {
		ln, err := net.Listen("tcp", l.Addr())
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("listen %s: %w", l, err)
		}
		s.lns = append(s.lns, boundListener{Listener: l, ln: ln})
		// A port of 0 takes any free port; advertise the one we got.
		if port := ln.Addr().(*net.TCPAddr).Port; l.Port == 0 {
			for i := range s.cfg.AdvertisedListeners {
				if a := &s.cfg.AdvertisedListeners[i]; a.Name == l.Name && a.Port == 0 {
					a.Port = int32(port)
				}
			}
		}
	}
	s.ln = s.lns[0].ln
	self := metadata.Broker{ID: s.cfg.BrokerID, Rack: rackOf(s.cfg), Epoch: -1}
	for _, a := range s.cfg.AdvertisedListeners {
		self.Endpoints = append(self.Endpoints, metadata.Endpoint{Listener: a.Name, Protocol: a.Protocol, Host: a.Host, Port: a.Port})
		if a.Name == s.cfg.InterBrokerListener {
			self.Host, self.Port = a.Host, a.Port
		}
	}
	s.cache.Update(func(e *metadata.Edit) {
		// In cluster mode the controller's UpdateMetadata replaces this.
		e.SetBrokers([]metadata.Broker{self})
		if s.cl == nil {
			e.SetController(s.cfg.BrokerID)
		}
	})
	if err := s.startGroups(); err != nil {
		s.closeListeners()
		return err
	}
	perIP, err := s.cfg.ConnectionsPerIP()
	if err != nil {
		s.closeListeners()
		return err
	}
	apiMetrics := kafkaapi.NewMetrics(s.metrics.reg)
	authz, err := s.startAuthorizer(apiMetrics)
	if err != nil {
		s.closeListeners()
		return err
	}
	started := false
	defer func() {
		if !started && s.stopACLs != nil {
			s.stopACLs()
			s.stopACLs = nil
		}
	}()
	s.startTxns()
	deps := kafkaapi.Deps{
		Config: s.cfg, Logger: s.log, Store: s.meta, Cache: s.cache, Replicas: s.rm, Groups: s.groups, Txns: s.txns,
		Metrics: apiMetrics, Authorizer: authz, BrokerConfigs: s.dynamic,
		Credentials: s.creds, SCRAM: &s.scram,
	}
	if s.cl != nil {
		deps.Cluster = s.cl
	}
	s.api = kafkaapi.New(deps)
	s.api.LoadCoordinatorPartitions()
	// Netpoll closes each listener from here on.
	s.srv = netpoll.NewServer(netpoll.Config{
		MaxRequestBytes:  s.cfg.SocketRequestMaxBytes,
		IdleTimeout:      s.cfg.ConnectionsMaxIdle,
		MaxConnections:   s.cfg.MaxConnections,
		ConnectionsPerIP: perIP,
		Logger:           s.log,

		MaxAuthRequestBytes: s.cfg.SASL.MaxReceiveSize,
		FailedAuthDelay:     s.cfg.SASL.FailedAuthDelay,
	}, s.api)
	s.serveErr = make(chan error, len(s.lns))
	for _, b := range s.lns {
		nl := netpoll.Listener{Name: b.Name, Protocol: b.Protocol, TLS: s.tls[b.Name]}
		if b.Protocol.SASL() {
			nl.NewAuthenticator = s.authenticator(b.Name)
		}
		go func() { s.serveErr <- s.srv.ServeListener(b.ln, nl) }()
	}
	if s.cfg.AdminListener != "" {
		if err := s.startAdmin(); err != nil {
			s.srv.Close()
			return err
		}
	}
	if s.cl != nil {
		if err := s.cl.start(); err != nil {
			s.srv.Close()
			return err
		}
	}
	started = true
	s.bg.Add(1)
	go s.expireProducers()
	admin := "disabled"
	if s.adminLn != nil {
		admin = s.adminLn.Addr().String()
	}
	s.log.Info("broker started", "broker.id", s.cfg.BrokerID, "listeners", s.boundText(),
		"advertised", describeEndpoints(s.cfg.AdvertisedListeners), "inter.broker.listener", s.cfg.InterBrokerListener,
		"admin", admin, "log.dir", s.dir.Path(), "cluster.id", s.meta.ClusterID())
	return nil
}

// startGroups creates the group coordinator (the log cleaner is the log
// directory's, started by logfile.OpenDir).
func (s *Server) startGroups() error {
	gc := s.cfg.Groups
	n := s.cfg.OffsetsTopicNumPartitions
	if ts := s.rm.Topic("__consumer_offsets"); ts != nil {
		n = int32(len(ts.Parts)) // the topic's count wins, as in Kafka
	}
	s.groups = group.New(group.Config{
		Partitions:             n,
		MinSessionTimeout:      gc.MinSessionTimeout,
		MaxSessionTimeout:      gc.MaxSessionTimeout,
		InitialRebalanceDelay:  gc.InitialRebalanceDelay,
		MaxGroupSize:           gc.MaxSize,
		OffsetsRetention:       gc.OffsetsRetention,
		RetentionCheckInterval: gc.OffsetsRetentionCheck,
		MaxMetadataSize:        max(gc.OffsetMetadataMaxBytes, 1),
		PartitionExists: func(t string, p int32) bool {
			// Any partition of the cluster, wherever it is led.
			_, ok := s.cache.Load().Partition(t, p)
			return ok
		},
		Logger: s.log,
	})
	return nil
}

// startTxns creates the transaction coordinator. Its producer ids are the
// handler's blocks, and its markers for partitions this broker leads go
// to the handler's WriteTxnMarkers in process (the handler is made next,
// before any request is served), those for other brokers over kclient to
// their inter-broker listeners; the replica layer verifies transactional
// produces with it (KIP-890).
func (s *Server) startTxns() {
	tc := s.cfg.Txn
	n := tc.NumPartitions
	if ts := s.rm.Topic(txn.Topic); ts != nil {
		n = int32(len(ts.Parts)) // the topic's count wins, as in Kafka
	}
	clientID := "samsa-broker-" + strconv.Itoa(int(s.cfg.BrokerID))
	s.markerConns = &txn.Conns{Cache: s.cache, ClientID: clientID, Dial: s.interDial}
	s.verifyConns = &txn.Conns{Cache: s.cache, ClientID: clientID, Dial: s.interDial}
	s.txns = txn.New(txn.Config{
		Partitions: n, MaxTimeout: tc.MaxTimeout, IDExpiration: tc.IDExpiration,
		AbortInterval: tc.AbortInterval, RemoveInterval: tc.RemoveInterval,
		ProducerIDs: func() (int64, error) { return s.api.NextProducerID() },
		Cache:       s.cache,
		Markers: txn.Route{
			Self: s.cfg.BrokerID,
			Local: txn.MarkerFunc(func(ctx context.Context, _ int32, req *kmsg.WriteTxnMarkersRequest) (*kmsg.WriteTxnMarkersResponse, error) {
				return s.api.WriteTxnMarkers(ctx, req), nil
			}),
			Remote: s.markerConns,
		},
		Logger: s.log,
	})
	// KIP-890: the leaders of this broker verify transactional produces
	// with the coordinators.
	if s.cfg.Txn.PartitionVerification {
		s.rm.SetTxnVerifier(&txn.Verifier{Coordinator: s.txns, Cache: s.cache, Self: s.cfg.BrokerID, Conns: s.verifyConns})
	}
}

// Addr returns the address the first Kafka listener is bound to.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// ListenerAddr returns the address the named listener is bound to, or nil.
func (s *Server) ListenerAddr(name string) net.Addr {
	for _, b := range s.lns {
		if b.Name == name {
			return b.ln.Addr()
		}
	}
	return nil
}

// AdminAddr returns the admin listener's address, or nil.
func (s *Server) AdminAddr() net.Addr {
	if s.adminLn == nil {
		return nil
	}
	return s.adminLn.Addr()
}

// Shutdown stops accepting, lets in-flight requests finish (bounded by
// ctx), flushes every log, writes the checkpoints and the clean-shutdown
// marker.
func (s *Server) Shutdown(ctx context.Context) error {
	err := errors.New("server: already shut down")
	s.shutdown.Do(func() { err = s.shutdownOnce(ctx) })
	return err
}

func (s *Server) shutdownOnce(ctx context.Context) error {
	close(s.closing)
	if s.cl != nil && s.srv != nil {
		s.cl.controlledShutdown(ctx)
	}
	var errs []error
	if s.srv != nil {
		if err := s.srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if s.admin != nil {
		if err := s.admin.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if s.txns != nil {
		s.txns.Close()
		s.markerConns.Close()
		s.verifyConns.Close()
	}
	if s.groups != nil {
		s.groups.Close()
	}
	if s.stopACLs != nil {
		s.stopACLs()
	}
	close(s.stop)
	s.bg.Wait()
	s.rm.Close()
	s.rm.SnapshotProducers()
	if err := s.dir.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := s.meta.Close(); err != nil {
		errs = append(errs, err)
	}
	if s.cl != nil {
		s.cl.stop()
	}
	s.log.Info("broker stopped", "clean", len(errs) == 0)
	return errors.Join(errs...)
}

// expireProducers forgets producers idle for producer.id.expiration.ms,
// checking every producer.id.expiration.check.interval.ms.
func (s *Server) expireProducers() {
	defer s.bg.Done()
	t := time.NewTicker(s.cfg.ProducerIDExpirationCheck)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.rm.ExpireProducers(time.Now().Add(-s.cfg.ProducerIDExpiration))
	}
}

// Metrics returns the broker's metrics, as /metrics serves them.
func (s *Server) Metrics() prometheus.Gatherer { return s.metrics.reg }

func rackOf(cfg *config.Config) *string {
	if cfg.BrokerRack == "" {
		return nil
	}
	r := cfg.BrokerRack
	return &r
}
