package server

// ZooKeeper mode: the broker's part of the cluster. At start it connects to
// ZooKeeper, checks the cluster ID against meta.properties, registers under
// /brokers/ids (again, with a new broker epoch, after every session expiry)
// and runs a controller candidate. Partitions are not opened from the store:
// the controller's LeaderAndIsr tells the broker which it leads or follows,
// and UpdateMetadata fills its metadata cache. Topic config changes reach it
// through /config/changes. At stop it asks the controller to move its
// leaderships away first (controlled shutdown).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/config"
	"samsa/controller"
	"samsa/internal/apierr"
	"samsa/kafkaapi"
	"samsa/kclient"
	"samsa/metadata"
	"samsa/metadata/kafkazk"
	"samsa/metadata/kafkazk/zkdata"
	"samsa/metadata/zkstore"
	"samsa/replica"
)

// cluster is a broker's part of ZooKeeper mode; it is the kafkaapi.Cluster.
type cluster struct {
	s   *Server
	zk  *kafkazk.Client
	ctl *controller.Controller
	log *slog.Logger

	epoch atomic.Int64 // broker epoch: the czxid of our registration; 0 until registered

	ctlStarted bool // ctl runs (start got past registration): stop must stop it

	regMu       sync.Mutex // serializes registrations
	dropSession func()
	configW     *kafkazk.Watcher
	configMu    sync.Mutex
	lastChange  int64 // the newest config change applied; -1 none (the first is config_change_0000000000)

	ctlConnMu sync.Mutex
	ctlConn   *kclient.Conn // to the controller, for AlterPartition
}

var _ kafkaapi.Cluster = (*cluster)(nil)

func (cl *cluster) BrokerEpoch() int64  { return cl.epoch.Load() }
func (cl *cluster) ControllerID() int32 { return cl.ctl.ControllerID() }

func (cl *cluster) Controller() kafkaapi.Controller {
	if cl.ctl != nil && cl.ctl.IsActive() {
		return cl.ctl
	}
	return nil
}

// connectZK connects to ZooKeeper, creates Kafka's top-level paths and
// returns the cluster ID, creating it on the first broker's start. The
// connection is secured as the zookeeper.* keys say (TLS, the JAAS
// file's digest credentials, secure ACLs); a zookeeper.set.acl without an
// identity is refused before any connection, as Kafka refuses it.
func connectZK(cfg *config.Config, logger *slog.Logger) (*kafkazk.Client, string, error) {
	sec, err := cfg.ZookeeperClient()
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ZookeeperConnectionTimeout+cfg.ZookeeperSessionTimeout)
	defer cancel()
	zk, err := kafkazk.Connect(ctx, kafkazk.Config{
		Connect:           cfg.ZookeeperConnect,
		SessionTimeout:    cfg.ZookeeperSessionTimeout,
		ConnectionTimeout: cfg.ZookeeperConnectionTimeout,
		Logger:            logger,
		SecureACLs:        sec.SecureACLs,
		Digest:            sec.Digest,
		TLS:               sec.TLS,
	})
	if err != nil {
		return nil, "", fmt.Errorf("connect to ZooKeeper at %s: %w", cfg.ZookeeperConnect, err)
	}
	if err := zk.CreateTopLevelPaths(ctx); err != nil {
		zk.Close()
		return nil, "", err
	}
	logger.Info("connected to ZooKeeper", "zookeeper.connect", cfg.ZookeeperConnect, "tls", sec.TLS != nil,
		"digest.authenticated", sec.Digest != "", "zookeeper.set.acl", sec.SecureACLs)
	id, err := zk.GetOrCreateClusterID(ctx)
	if err != nil {
		zk.Close()
		return nil, "", err
	}
	return zk, id, nil
}

// newCluster opens ZooKeeper mode for a server being built: the store is
// ZooKeeper's.
func (s *Server) newCluster() error {
	zk, clusterID, err := connectZK(s.cfg, s.log)
	if err != nil {
		return err
	}
	if err := s.brokerIDFor(zk); err != nil {
		zk.Close()
		return err
	}
	s.cl = &cluster{s: s, zk: zk, log: s.log.With("component", "cluster"), lastChange: -1}
	s.meta = zkstore.New(zk, s.cfg.BrokerID, clusterID, s.cfg.ZookeeperSessionTimeout)
	return nil
}

// brokerIDFor sets broker.id when it is not configured: the one in
// meta.properties, else a new one from /brokers/seqid, as Kafka does with
// broker.id.generation.enable.
func (s *Server) brokerIDFor(zk *kafkazk.Client) error {
	if s.cfg.Explicit("broker.id") || s.cfg.Explicit("node.id") || !s.cfg.BrokerIDGenerationEnable {
		return nil
	}
	if props, err := readMetaProperties(s.cfg.LogDirs[0]); err == nil {
		if id, err := strconv.ParseInt(props["broker.id"], 10, 32); err == nil {
			s.cfg.BrokerID = int32(id)
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ZookeeperSessionTimeout)
	defer cancel()
	id, err := zk.GenerateBrokerID(ctx, s.cfg.ReservedBrokerMaxID)
	if err != nil {
		return fmt.Errorf("generate broker.id: %w", err)
	}
	s.cfg.BrokerID = id
	s.log.Info("generated broker.id", "broker.id", id)
	return nil
}

// start registers the broker, runs the controller candidate and follows
// config changes. The listener is bound: its port is advertised.
func (cl *cluster) start() error {
	s := cl.s
	cl.ctl = controller.New(controller.Config{
		BrokerID:              s.cfg.BrokerID,
		ZK:                    cl.zk,
		Logger:                s.log,
		Listener:              s.cfg.InterBrokerListener,
		ControlListener:       s.cfg.ControlPlaneListener,
		Dial:                  cl.controllerDial(),
		UncleanLeaderElection: s.cfg.TopicDefaults.UncleanLeaderElection,
		DeleteTopicEnable:     s.cfg.DeleteTopicEnable,
		AutoLeaderRebalance:   s.cfg.AutoLeaderRebalanceEnable,
		RebalanceInterval:     s.cfg.LeaderImbalanceCheckInterval,
		ImbalancePercent:      int(s.cfg.LeaderImbalancePerBrokerPercentage),
		RequestTimeout:        s.cfg.ControllerSocketTimeout,
		OnControllerChange: func(id int32) {
			s.cache.Update(func(e *metadata.Edit) { e.SetController(id) })
		},
	})
	if err := cl.register(); err != nil {
		return err
	}
	cl.dropSession = cl.zk.OnNewSession(func(int64) {
		// Our registration went with the old session: register again, with
		// a new broker epoch; the controller sees a bounced broker and
		// resends our state.
		go func() {
			for attempt := 0; ; attempt++ {
				err := cl.register()
				if err == nil || errors.Is(err, kafkazk.ErrClosed) {
					return
				}
				cl.log.Error("re-registering after session expiry", "err", err, "attempt", attempt)
				select {
				case <-s.stop:
					return
				case <-time.After(time.Second):
				}
			}
		}()
	})
	cl.ctl.Start()
	cl.ctlStarted = true
	cl.configW = cl.zk.WatchChildren(zkdata.ConfigChangesPath, func([]string) { cl.applyConfigChanges() })
	return nil
}

// register writes /brokers/ids/<id> and takes the broker epoch it gets.
func (cl *cluster) register() error {
	cl.regMu.Lock()
	defer cl.regMu.Unlock()
	s := cl.s
	info := zkdata.BrokerInfo{ID: s.cfg.BrokerID, Rack: s.cfg.BrokerRack, JMXPort: -1}
	for _, l := range s.cfg.AdvertisedListeners {
		info.Endpoints = append(info.Endpoints, zkdata.Endpoint{Listener: l.Name, SecurityProtocol: l.Protocol.String(), Host: l.Host, Port: l.Port})
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ZookeeperSessionTimeout)
	defer cancel()
	epoch, err := cl.zk.RegisterBroker(ctx, info)
	if err != nil {
		if errors.Is(err, kafkazk.ErrBrokerIDInUse) {
			return fmt.Errorf("broker.id %d is registered in ZooKeeper by another broker: %w", s.cfg.BrokerID, err)
		}
		return fmt.Errorf("register broker %d: %w", s.cfg.BrokerID, err)
	}
	cl.epoch.Store(epoch)
	cl.log.Info("registered in ZooKeeper", "broker.id", s.cfg.BrokerID, "broker.epoch", epoch)
	return nil
}

// applyConfigChanges applies the config changes announced since the last
// one applied: those of the topics this broker hosts, and this broker's
// own dynamic configs.
func (cl *cluster) applyConfigChanges() {
	cl.configMu.Lock()
	defer cl.configMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), cl.s.cfg.ZookeeperSessionTimeout)
	defer cancel()
	changes, err := cl.zk.ConfigChangesSince(ctx, cl.lastChange)
	if err != nil && !errors.Is(err, kafkazk.ErrCorrupt) {
		cl.log.Warn("reading config changes", "err", err)
		return
	}
	for _, ch := range changes {
		if ch.Seq > cl.lastChange {
			cl.lastChange = ch.Seq
		}
		if ch.Err != nil {
			cl.log.Error("ignoring a config change notification that cannot be read", "err", ch.Err)
			continue
		}
		if ch.EntityPath == zkdata.ConfigBrokers+"/"+strconv.Itoa(int(cl.s.cfg.BrokerID)) {
			cl.s.dynamic.load() // this broker's dynamic configs changed
			continue
		}
		if user, ok := zkstore.UserOfEntityPath(ch.EntityPath); ok {
			cl.s.userChanged(user) // SCRAM credentials (or quotas) of a user
			continue
		}
		topic, ok := strings.CutPrefix(ch.EntityPath, "topics/")
		if !ok || cl.s.rm.Topic(topic) == nil {
			continue
		}
		t, ok := cl.s.meta.Topic(topic)
		if !ok {
			continue
		}
		tc, err := cl.s.cfg.TopicDefaults.With(t.Configs)
		if err != nil {
			cl.log.Error("invalid topic config in ZooKeeper; keeping the current one", "topic", topic, "err", err)
			continue
		}
		if err := cl.s.rm.SetTopicConfig(t, tc); err != nil {
			cl.log.Error("applying topic config", "topic", topic, "err", err)
			continue
		}
		cl.log.Info("topic config changed", "topic", topic)
	}
}

// controlledShutdown asks the controller to move this broker's leaderships
// away, retrying controlled.shutdown.max.retries times, as Kafka does; the
// broker keeps serving meanwhile so that it hears the controller's
// LeaderAndIsr. It gives up early once ctx ends.
func (cl *cluster) controlledShutdown(ctx context.Context) {
	s := cl.s
	if !cl.ctlStarted {
		return // never registered: nothing to move
	}
	cl.ctl.Withdraw()
	if !s.cfg.ControlledShutdownEnable {
		return
	}
	for attempt := int32(0); attempt <= s.cfg.ControlledShutdownMaxRetries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(s.cfg.ControlledShutdownRetryBackoff):
			}
		}
		remaining, err := cl.askController(ctx)
		if err == nil && remaining == 0 {
			cl.log.Info("controlled shutdown done: no partition led here")
			return
		}
		if err != nil {
			cl.log.Warn("controlled shutdown attempt failed", "attempt", attempt+1, "err", err)
		} else {
			cl.log.Info("controlled shutdown: partitions still led here", "partitions", remaining, "attempt", attempt+1)
			if remaining > 0 && cl.onlySingleReplicas() {
				return // nowhere to move them: as Kafka, stop anyway
			}
		}
	}
	cl.log.Warn("controlled shutdown did not finish; stopping anyway")
}

// onlySingleReplicas reports whether every partition this broker leads
// has no other replica (leadership cannot move).
func (cl *cluster) onlySingleReplicas() bool {
	only := true
	snap := cl.s.cache.Load()
	for _, name := range snap.TopicNames() {
		for _, p := range snap.Topic(name).Partitions {
			if p.Leader == cl.s.cfg.BrokerID && len(p.Replicas) > 1 {
				only = false
			}
		}
	}
	return only
}

func (cl *cluster) askController(ctx context.Context) (int, error) {
	s := cl.s
	id := cl.ctl.ControllerID()
	if id < 0 {
		return -1, errors.New("no controller")
	}
	addr := ""
	if b, ok := s.cache.Load().Broker(id); ok {
		addr = net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
	} else {
		zctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		rb, err := cl.zk.Broker(zctx, id)
		cancel()
		if err != nil {
			return -1, err
		}
		for _, e := range rb.Endpoints {
			if e.Listener == s.cfg.InterBrokerListener {
				addr = net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port)))
			}
		}
		if addr == "" {
			return -1, fmt.Errorf("controller %d has no %s listener", id, s.cfg.InterBrokerListener)
		}
	}
	conn := cl.dial(addr)
	defer conn.Close()
	req := kmsg.NewPtrControlledShutdownRequest()
	req.BrokerID, req.BrokerEpoch = s.cfg.BrokerID, cl.epoch.Load()
	rctx, cancel := context.WithTimeout(ctx, s.cfg.ControllerSocketTimeout)
	defer cancel()
	resp, err := conn.Request(rctx, req)
	if err != nil {
		return -1, err
	}
	r := resp.(*kmsg.ControlledShutdownResponse)
	if r.ErrorCode != 0 {
		return -1, fmt.Errorf("controller %d answered error %d", id, r.ErrorCode)
	}
	return len(r.PartitionsRemaining), nil
}

// stop ends the controller candidate and the ZooKeeper session: the
// registration vanishes and the controller fails the broker's partitions
// over.
func (cl *cluster) stop() {
	if cl.configW != nil {
		cl.configW.Stop()
	}
	if cl.dropSession != nil {
		cl.dropSession()
	}
	if cl.ctlStarted {
		cl.ctl.Stop() // waits for its loop, which only Start runs
	}
	cl.zk.Close()
}

// replicaOptions sets what the replica layer needs in cluster mode: ISR
// changes go to the controller with AlterPartition; followers fetch with
// replica.fetch.* from leaders found in the metadata cache.
func (cl *cluster) replicaOptions(o *replica.Options) {
	cfg := cl.s.cfg
	o.AlterISR = cl.alterISR
	o.ReplicaLagTimeMax = cfg.ReplicaLagTimeMax
	o.Fetcher = replica.FetcherConfig{
		NumFetchers:      int(cfg.NumReplicaFetchers),
		MaxBytes:         cfg.ReplicaFetchMaxBytes,
		ResponseMaxBytes: cfg.ReplicaFetchResponseMaxBytes,
		MaxWait:          cfg.ReplicaFetchWaitMax,
		MinBytes:         cfg.ReplicaFetchMinBytes,
		Backoff:          cfg.ReplicaFetchBackoff,
		Timeout:          cfg.ReplicaSocketTimeout,
		Dial:             cl.s.interDial,
		Endpoint: func(id int32) (string, bool) {
			b, ok := cl.s.cache.Load().Broker(id)
			return net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port))), ok
		},
	}
}

// dial returns a connection to another broker's inter-broker listener
// (TLS when it is SSL).
func (cl *cluster) dial(addr string) *kclient.Conn {
	id := "samsa-broker-" + strconv.Itoa(int(cl.s.cfg.BrokerID))
	if cl.s.interDial != nil {
		return kclient.New(addr, id, kclient.WithDial(cl.s.interDial))
	}
	return kclient.New(addr, id)
}

// controllerDial is how this broker's controller reaches brokers: their
// control plane listener, else their inter-broker one, with its TLS.
func (cl *cluster) controllerDial() func(int32, string) controller.Conn {
	dial := cl.s.controlDial
	clientID := "samsa-controller-" + strconv.Itoa(int(cl.s.cfg.BrokerID))
	return func(_ int32, addr string) controller.Conn {
		if dial != nil {
			return kclient.New(addr, clientID, kclient.WithDial(dial))
		}
		return kclient.New(addr, clientID)
	}
}

// alterISR sends leaders' ISR changes to the controller in one
// AlterPartition (v1) and returns the state it committed for each, or the
// error it answered.
func (cl *cluster) alterISR(ctx context.Context, as []replica.AlterISR) ([]replica.AlterISRResult, error) {
	s := cl.s
	id := cl.ctl.ControllerID()
	var addr string
	if b, ok := s.cache.Load().Broker(id); ok && id >= 0 {
		addr = net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
	} else {
		return nil, apierr.Errorf(kerr.NotController, "no controller known")
	}
	cl.ctlConnMu.Lock()
	if cl.ctlConn == nil || cl.ctlConn.Addr() != addr {
		if cl.ctlConn != nil {
			cl.ctlConn.Close()
		}
		cl.ctlConn = cl.dial(addr)
	}
	conn := cl.ctlConn
	cl.ctlConnMu.Unlock()
	req := kmsg.NewPtrAlterPartitionRequest()
	req.BrokerID, req.BrokerEpoch = s.cfg.BrokerID, cl.epoch.Load()
	byTopic := map[string]int{}
	for _, a := range as {
		i, ok := byTopic[a.Topic]
		if !ok {
			t := kmsg.NewAlterPartitionRequestTopic()
			t.Topic = a.Topic
			req.Topics = append(req.Topics, t)
			i = len(req.Topics) - 1
			byTopic[a.Topic] = i
		}
		p := kmsg.NewAlterPartitionRequestTopicPartition()
		p.Partition, p.LeaderEpoch, p.PartitionEpoch, p.NewISR = a.Partition, a.LeaderEpoch, a.PartitionEpoch, a.ISR
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, p)
	}
	resp, err := conn.Request(ctx, req)
	if err != nil {
		return nil, err
	}
	r := resp.(*kmsg.AlterPartitionResponse)
	if r.ErrorCode != 0 {
		return nil, apierr.Errorf(kerr.ErrorForCode(r.ErrorCode).(*kerr.Error), "controller %d refused the ISR changes", id)
	}
	type key struct {
		topic string
		part  int32
	}
	got := map[key]replica.AlterISRResult{}
	for _, rt := range r.Topics {
		for _, rp := range rt.Partitions {
			res := replica.AlterISRResult{LeaderEpoch: rp.LeaderEpoch, PartitionEpoch: rp.PartitionEpoch, ISR: rp.ISR}
			if rp.ErrorCode != 0 {
				res = replica.AlterISRResult{Err: apierr.Errorf(kerr.ErrorForCode(rp.ErrorCode).(*kerr.Error), "controller %d refused the ISR change", id)}
			}
			got[key{rt.Topic, rp.Partition}] = res
		}
	}
	out := make([]replica.AlterISRResult, len(as))
	for i, a := range as {
		res, ok := got[key{a.Topic, a.Partition}]
		if !ok {
			res.Err = errors.New("the controller's answer names no such partition")
		}
		out[i] = res
	}
	return out, nil
}
