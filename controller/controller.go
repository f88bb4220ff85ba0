package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/internal/apierr"
	"samsa/kclient"
	"samsa/metadata/kafkazk"
	"samsa/metadata/kafkazk/zkdata"
)

// Config configures a Controller.
type Config struct {
	BrokerID int32
	// ZK is the metadata store: a *kafkazk.Client in production.
	ZK     Store
	Logger *slog.Logger
	// Dial opens the connection to a broker at addr (its endpoint on
	// Listener); nil is kclient.New.
	Dial func(broker int32, addr string) Conn
	// Listener is the listener name brokers reach each other on: the
	// LeaderAndIsr live leaders are named at their endpoint on it.
	Listener string
	// ControlListener is the listener this controller's requests go to
	// (control.plane.listener.name); "" is Listener.
	ControlListener string
	// UncleanLeaderElection is the broker default of
	// unclean.leader.election.enable; a topic's config overrides it.
	UncleanLeaderElection bool
	// DeleteTopicEnable is delete.topic.enable.
	DeleteTopicEnable bool
	// AutoLeaderRebalance is auto.leader.rebalance.enable, checked every
	// RebalanceInterval for brokers whose share of partitions led by
	// another than their preferred leader passes ImbalancePercent.
	AutoLeaderRebalance bool
	RebalanceInterval   time.Duration
	ImbalancePercent    int
	// RequestTimeout bounds one request to a broker
	// (controller.socket.timeout.ms).
	RequestTimeout time.Duration
	// OnControllerChange is told the controller's broker ID whenever it
	// changes (-1: none); it runs on the controller's goroutine.
	OnControllerChange func(id int32)
}

// Controller is one broker's controller: a candidate always, active when
// elected.
type Controller struct {
	cfg Config
	zk  Store
	log *slog.Logger

	controllerID atomic.Int32 // the elected controller, -1 none: any goroutine reads it
	withdrawn    atomic.Bool  // the broker is stopping: do not run for election
	stopped      atomic.Bool

	qmu   sync.Mutex
	queue []event
	wake  chan struct{}
	stop  chan struct{}
	done  chan struct{}

	ctlWatch    *kafkazk.Watcher
	dropSession func()

	// Owned by the event loop.
	active   bool
	token    kafkazk.ControllerEpoch
	s        *clusterState
	watchers []*kafkazk.Watcher
	topicW   map[string]*kafkazk.Watcher
	// brokerW watches each broker's registration: a broker that restarts
	// between two reads of /brokers/ids leaves its children unchanged, and
	// only its registration's czxid tells the new incarnation.
	brokerW  map[int32]*kafkazk.Watcher
	channels map[int32]*channel
	rebal    *time.Ticker
	rebalC   <-chan time.Time
	// znodeReassign: partitions /admin/reassign_partitions asked to move.
	znodeReassign map[tpKey]bool
	// activeSince counts activations, so that events queued by an earlier
	// activation (a StopReplica answer) are recognized as stale.
	activation int
}

// event is one unit of the controller's work.
type event interface{}

type (
	evElect          struct{}
	evControllerData struct{}
	evBrokers        struct{ ids []string }
	evTopics         struct{ names []string }
	evTopicData      struct{ topic string }
	evDeletions      struct{ names []string }
	evStopDone       struct {
		activation int
		broker     int32
		topic      string
		ok         bool
	}
	evCall struct {
		fn   func() // runs on the loop
		err  *error // fn's outcome
		done chan struct{}
	}
	evRebalance struct{}
)

// New returns a Controller; Start makes it a candidate.
func New(cfg Config) *Controller {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.RebalanceInterval <= 0 {
		cfg.RebalanceInterval = 300 * time.Second
	}
	if cfg.Dial == nil {
		clientID := "samsa-controller-" + strconv.Itoa(int(cfg.BrokerID))
		cfg.Dial = func(_ int32, addr string) Conn { return kclient.New(addr, clientID) }
	}
	c := &Controller{cfg: cfg, zk: cfg.ZK, log: cfg.Logger.With("component", "controller"),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	c.controllerID.Store(-1)
	return c
}

// Start runs the candidate: it watches /controller, takes part in every
// election, and acts while elected.
func (c *Controller) Start() {
	go c.loop()
	c.ctlWatch = c.zk.WatchData(zkdata.ControllerPath, func([]byte, *kafkazk.Stat) { c.post(evControllerData{}) })
	c.dropSession = c.zk.OnNewSession(func(int64) {
		// Our ephemerals are gone with the old session: elect resigns a
		// term whose /controller went with it. It keeps a term already
		// won in the new session (the /controller watch may have fired
		// first): resigning that would cost a needless election.
		c.post(evElect{})
	})
}

// Stop resigns (if active) and ends the candidate. It may be called more
// than once.
func (c *Controller) Stop() {
	if !c.stopped.CompareAndSwap(false, true) {
		return
	}
	if c.dropSession != nil {
		c.dropSession()
	}
	if c.ctlWatch != nil {
		c.ctlWatch.Stop()
	}
	close(c.stop)
	<-c.done
}

// Withdraw stops this candidate from running in later elections (the broker
// is shutting down and should not take the controller role on its way out).
// An active controller stays active until Stop.
func (c *Controller) Withdraw() { c.withdrawn.Store(true) }

// ControllerID is the broker ZooKeeper names as controller, -1 if none.
func (c *Controller) ControllerID() int32 { return c.controllerID.Load() }

// IsActive reports whether this broker is the controller.
func (c *Controller) IsActive() bool { return c.controllerID.Load() == c.cfg.BrokerID }

func (c *Controller) post(e event) {
	c.qmu.Lock()
	c.queue = append(c.queue, e)
	c.qmu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// call runs fn on the event loop and waits for it, or for ctx. fn leaves
// its outcome in *err: a write that another controller's election fenced
// makes this one resign, and the caller is told NOT_CONTROLLER so that the
// broker asking looks for the new controller (Kafka's
// ControllerMovedException).
func (c *Controller) call(ctx context.Context, err *error, fn func()) error {
	done := make(chan struct{})
	ran := false
	c.post(evCall{fn: func() { fn(); ran = true }, err: err, done: done})
	select {
	case <-done:
		if !ran {
			return errors.New("controller: internal error (logged); the controller resigned")
		}
		if errors.Is(*err, kafkazk.ErrControllerMoved) {
			*err = apierr.Errorf(kerr.NotController, "broker %d is no longer the controller: %v", c.cfg.BrokerID, *err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return errors.New("controller: stopped")
	}
}

func (c *Controller) loop() {
	defer close(c.done)
	for {
		select {
		case <-c.stop:
			c.resign("broker stopping")
			return
		case <-c.wake:
		case <-c.rebalC:
			c.post(evRebalance{})
			continue
		}
		for {
			c.qmu.Lock()
			if len(c.queue) == 0 {
				c.qmu.Unlock()
				break
			}
			e := c.queue[0]
			c.queue = c.queue[1:]
			c.qmu.Unlock()
			c.handle(e)
		}
	}
}

func (c *Controller) handle(e event) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("controller event panicked; resigning", "event", fmt.Sprintf("%T", e), "panic", r, "stack", string(debug.Stack()))
			c.resign("internal error")
			c.post(evElect{})
		}
	}()
	switch e := e.(type) {
	case evElect, evControllerData:
		c.elect()
	case evCall:
		c.handleCall(e)
	default:
		if !c.active {
			return // a watch of a term that ended
		}
		err := c.handleActive(e)
		if errors.Is(err, kafkazk.ErrControllerMoved) {
			c.resign("another controller was elected")
			c.elect()
		} else if err != nil {
			// The event's work is half done (a broker's failover forgotten
			// with its registration) and no later event redoes it: a new
			// term reads the cluster again and decides afresh, as Kafka's
			// controller does when its ZooKeeper session is lost.
			c.log.Error("controller event failed; resigning", "event", fmt.Sprintf("%T", e), "err", err)
			c.resign("an event failed")
			c.elect()
		}
	}
}

// handleCall runs a broker's request. Its caller is answered before a
// resignation the request caused, and also when fn panics (call then
// reports the failure).
func (c *Controller) handleCall(e evCall) {
	answered := false
	defer func() {
		if !answered {
			close(e.done)
		}
	}()
	e.fn()
	moved := errors.Is(*e.err, kafkazk.ErrControllerMoved)
	answered = true
	close(e.done)
	if moved {
		c.resign("another controller was elected")
		c.elect()
	}
}

func (c *Controller) handleActive(e event) error {
	switch e := e.(type) {
	case evBrokers:
		return c.onBrokersChange(e.ids)
	case evTopics:
		return c.onTopicsChange(e.names)
	case evTopicData:
		return c.onTopicData(e.topic)
	case evDeletions:
		return c.onDeletions(e.names)
	case evStopDone:
		if e.activation == c.activation {
			return c.onStopReplicaDone(e.broker, e.topic, e.ok)
		}
	case evRebalance:
		return c.rebalance()
	case evReassignZnode:
		return c.onReassignZnode()
	}
	return nil
}

func (c *Controller) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.cfg.RequestTimeout)
}

func (c *Controller) setControllerID(id int32) {
	if c.controllerID.Swap(id) != id && c.cfg.OnControllerChange != nil {
		c.cfg.OnControllerChange(id)
	}
}

// elect looks at /controller and runs for election when it is vacant (or
// held by this broker's own session while no controller of this process
// acts on it: a candidate restarted in the same session).
func (c *Controller) elect() {
	ctx, cancel := c.ctx()
	defer cancel()
	info, err := c.zk.Controller(ctx)
	switch {
	case err == nil && info.BrokerID != c.cfg.BrokerID:
		if c.active {
			c.resign("another controller was elected")
		}
		c.setControllerID(info.BrokerID)
		return
	case err == nil && c.active:
		return // still ours
	case err != nil && !errors.Is(err, kafkazk.ErrNotFound):
		c.log.Warn("reading /controller", "err", err)
		c.setControllerID(-1)
		return
	}
	if c.active {
		c.resign("/controller vanished")
	}
	if c.withdrawn.Load() {
		c.setControllerID(-1)
		return
	}
	el, err := c.zk.ElectController(ctx, c.cfg.BrokerID)
	if err != nil {
		c.log.Warn("controller election failed", "err", err)
		c.setControllerID(-1)
		return
	}
	if !el.Won {
		c.setControllerID(el.ControllerID)
		return
	}
	c.token = el.Token
	c.log.Info("elected controller", "epoch", el.Token.Epoch)
	c.setControllerID(c.cfg.BrokerID)
	if err := c.activate(); err != nil {
		c.log.Error("controller failover failed; resigning", "err", err)
		c.resign("failover failed")
	}
}

// resign stops acting as controller: watches, channels and timers end.
func (c *Controller) resign(reason string) {
	if !c.active {
		return
	}
	c.log.Info("resigning as controller", "reason", reason, "epoch", c.token.Epoch)
	c.active = false
	c.activation++
	for _, w := range c.watchers {
		w.Stop()
	}
	for _, w := range c.topicW {
		w.Stop()
	}
	for _, w := range c.brokerW {
		w.Stop()
	}
	c.watchers, c.topicW, c.brokerW = nil, nil, nil
	for _, ch := range c.channels {
		ch.close()
	}
	c.channels = nil
	if c.rebal != nil {
		c.rebal.Stop()
		c.rebal, c.rebalC = nil, nil
	}
	c.s = nil
	// Give /controller up, so that another broker (or this one, again)
	// can be elected; a deposed controller's token deletes nothing.
	ctx, cancel := c.ctx()
	if err := c.zk.Resign(ctx, c.token); err != nil && !errors.Is(err, kafkazk.ErrControllerMoved) {
		c.log.Warn("giving up /controller", "err", err)
	}
	cancel()
	if c.controllerID.Load() == c.cfg.BrokerID {
		c.setControllerID(-1)
	}
}

// activate is Kafka's onControllerFailover: read the cluster, watch it,
// tell every broker the full state, and elect leaders where needed.
func (c *Controller) activate() error {
	ctx, cancel := c.ctx()
	defer cancel()
	c.active = true
	c.activation++
	c.s = newClusterState()
	c.channels = map[int32]*channel{}
	c.topicW = map[string]*kafkazk.Watcher{}
	c.brokerW = map[int32]*kafkazk.Watcher{}
	c.znodeReassign = map[tpKey]bool{}
	brokers, err := c.liveBrokers(ctx)
	if err != nil {
		return err
	}
	for _, b := range brokers {
		c.s.brokers[b.ID] = b
		c.openChannel(b)
	}
	names, err := c.zk.Topics(ctx)
	if err != nil {
		return err
	}
	names = c.legalTopics(names)
	for _, t := range names {
		if err := c.loadTopic(ctx, t); err != nil {
			return err
		}
	}
	marked, err := c.zk.TopicsMarkedForDeletion(ctx)
	if err != nil {
		return err
	}
	// Watches deliver their current state at once: new brokers, topics
	// and deletions are then handled as changes against what was read.
	c.watchers = append(c.watchers,
		c.zk.WatchChildren(zkdata.BrokerIDsPath, func(ids []string) { c.post(evBrokers{ids}) }),
		c.zk.WatchChildren(zkdata.TopicsPath, func(ts []string) { c.post(evTopics{ts}) }),
		c.zk.WatchChildren(zkdata.DeleteTopicsPath, func(ts []string) { c.post(evDeletions{ts}) }),
		c.zk.WatchData(zkdata.ReassignPartitionsPath, func(data []byte, _ *kafkazk.Stat) {
			if data != nil {
				c.post(evReassignZnode{})
			}
		}),
	)
	for _, t := range names {
		c.watchTopic(t)
	}
	for _, b := range brokers {
		c.watchBroker(b.ID)
	}
	// Full state to everyone, then the elections that are due.
	all := c.s.allPartitions()
	c.sendUpdateMetadata(c.s.liveIDs(), all)
	c.sendLeaderAndIsr(all, c.s.liveIDs(), true)
	// Brokers that died while no controller watched (this one's
	// predecessor among them) still lead or sit in ISRs: fail them over
	// now, as Kafka's replica state machine does at startup.
	var gone []int32
	for _, k := range all {
		if st := c.s.part(k).state; st != nil {
			for _, r := range append([]int32{st.Leader}, st.ISR...) {
				if r >= 0 && !c.s.alive(r) && !slices.Contains(gone, r) {
					gone = append(gone, r)
				}
			}
		}
	}
	if len(gone) > 0 {
		c.log.Info("brokers gone before this controller started", "brokers", gone)
		if err := c.onBrokerFailure(ctx, gone); err != nil {
			return err
		}
	}
	if err := c.electWhereNeeded(ctx, all); err != nil {
		return err
	}
	if err := c.onDeletions(marked); err != nil {
		return err
	}
	if err := c.resumeReassignments(ctx); err != nil {
		return err
	}
	if c.cfg.AutoLeaderRebalance {
		c.rebal = time.NewTicker(c.cfg.RebalanceInterval)
		c.rebalC = c.rebal.C
	}
	return nil
}

// liveBrokers reads the registered brokers. A registration that cannot be
// read is logged and its broker taken as not live: garbage under
// /brokers/ids must not stop the controller from seeing the others.
func (c *Controller) liveBrokers(ctx context.Context) ([]kafkazk.RegisteredBroker, error) {
	brokers, err := c.zk.Brokers(ctx)
	if errors.Is(err, kafkazk.ErrCorrupt) {
		c.log.Error("ignoring broker registrations that cannot be read", "err", err)
		err = nil
	}
	return brokers, err
}

func (c *Controller) watchBroker(id int32) {
	if _, ok := c.brokerW[id]; ok {
		return
	}
	c.brokerW[id] = c.zk.WatchData(zkdata.BrokerPath(id), func([]byte, *kafkazk.Stat) { c.post(evBrokers{}) })
}

func (c *Controller) watchTopic(t string) {
	if _, ok := c.topicW[t]; ok {
		return
	}
	c.topicW[t] = c.zk.WatchData(zkdata.TopicPath(t), func([]byte, *kafkazk.Stat) { c.post(evTopicData{t}) })
}

// loadTopic reads a topic's assignment and partition states.
func (c *Controller) loadTopic(ctx context.Context, t string) error {
	a, err := c.zk.TopicAssignment(ctx, t)
	if errors.Is(err, kafkazk.ErrNotFound) {
		return nil
	}
	if err != nil {
		if errors.Is(err, kafkazk.ErrCorrupt) {
			c.log.Error("ignoring a topic whose assignment cannot be read", "topic", t, "err", err)
			return nil
		}
		return err
	}
	tc := c.s.putTopic(a)
	var tps []zkdata.TopicPartition
	for p := range tc.parts {
		tps = append(tps, zkdata.TopicPartition{Topic: t, Partition: p})
	}
	states, err := c.zk.PartitionStates(ctx, tps)
	if errors.Is(err, kafkazk.ErrCorrupt) {
		// Those partitions stay without a state (no leader): the others
		// of the topic are read.
		c.log.Error("ignoring partition states that cannot be read", "topic", t, "err", err)
	} else if err != nil {
		return err
	}
	for tp, st := range states {
		st := st
		tc.parts[tp.Partition].state = &st
	}
	cfg, err := c.zk.TopicConfig(ctx, t)
	if err == nil {
		tc.unclean = parseBoolPtr(cfg["unclean.leader.election.enable"])
	}
	return nil
}

// legalTopics drops names that are no legal topic name (Kafka's: at most
// 249 of [a-zA-Z0-9._-], not "." or ".."): a znode another tool left under
// /brokers/topics or /admin/delete_topics, which the store refuses to
// read. Left in, it would fail every activation.
func (c *Controller) legalTopics(names []string) []string {
	legal := func(t string) bool {
		return t != "" && t != "." && t != ".." && len(t) <= 249 && !strings.ContainsFunc(t, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
		})
	}
	if !slices.ContainsFunc(names, func(t string) bool { return !legal(t) }) {
		return names
	}
	var out []string
	for _, t := range names {
		if legal(t) {
			out = append(out, t)
		} else {
			c.log.Error("ignoring a znode that names no legal topic", "name", t)
		}
	}
	return out
}

func parseBoolPtr(s string) *bool {
	if b, err := strconv.ParseBool(s); err == nil {
		return &b
	}
	return nil
}

// onBrokersChange is Kafka's BrokerChange: brokers gone are failed over,
// new ones (and bounced ones: same id, new epoch) are told their state.
func (c *Controller) onBrokersChange(ids []string) error {
	ctx, cancel := c.ctx()
	defer cancel()
	brokers, err := c.liveBrokers(ctx)
	if err != nil {
		return err
	}
	now := map[int32]kafkazk.RegisteredBroker{}
	for _, b := range brokers {
		now[b.ID] = b
	}
	var dead, born []int32
	for id, old := range c.s.brokers {
		if b, ok := now[id]; !ok || b.Epoch != old.Epoch {
			dead = append(dead, id)
		}
	}
	for id, b := range now {
		if old, ok := c.s.brokers[id]; !ok || old.Epoch != b.Epoch {
			born = append(born, id)
		}
	}
	slices.Sort(dead)
	slices.Sort(born)
	if len(dead) > 0 {
		c.log.Info("brokers failed", "brokers", dead)
		for _, id := range dead {
			delete(c.s.brokers, id)
			delete(c.s.shuttingDown, id)
			if ch := c.channels[id]; ch != nil {
				ch.close()
				delete(c.channels, id)
			}
		}
		if err := c.onBrokerFailure(ctx, dead); err != nil {
			return err
		}
	}
	if len(born) > 0 {
		c.log.Info("brokers started", "brokers", born)
		for _, id := range born {
			c.s.brokers[id] = now[id]
			c.openChannel(now[id])
			c.watchBroker(id)
		}
		if err := c.onBrokerStartup(ctx, born); err != nil {
			return err
		}
	}
	return nil
}

// onBrokerFailure moves leadership off dead brokers and takes them out of
// ISRs (keeping the last member).
func (c *Controller) onBrokerFailure(ctx context.Context, dead []int32) error {
	isDead := func(id int32) bool { return slices.Contains(dead, id) }
	var changed []tpKey
	updates := map[tpKey]zkdata.LeaderAndISR{}
	for _, k := range c.s.allPartitions() {
		pc := c.s.part(k)
		if pc.state == nil {
			continue
		}
		st := *pc.state
		inISR := slices.ContainsFunc(st.ISR, isDead)
		leaderDead := st.Leader >= 0 && isDead(st.Leader)
		if !inISR && !leaderDead {
			continue
		}
		next := st
		if leaderDead {
			next = c.electOffline(k, pc, st)
		} else {
			next.ISR = withoutLast(st.ISR, isDead)
			next.LeaderEpoch++
		}
		updates[k] = next
		changed = append(changed, k)
	}
	if err := c.writeStates(ctx, updates); err != nil {
		return err
	}
	live := c.s.liveIDs()
	c.sendLeaderAndIsr(changed, live, false)
	c.sendUpdateMetadata(live, c.s.allPartitions())
	return c.retryDeletions()
}

// withoutLast removes members from an ISR but never its last one.
func withoutLast(isr []int32, drop func(int32) bool) []int32 {
	out := slices.DeleteFunc(slices.Clone(isr), drop)
	if len(out) == 0 && len(isr) > 0 {
		return isr[:1:1]
	}
	return out
}

// onBrokerStartup tells new brokers everything, tells the others about
// them, and elects leaders for partitions that were waiting for them.
func (c *Controller) onBrokerStartup(ctx context.Context, born []int32) error {
	all := c.s.allPartitions()
	live := c.s.liveIDs()
	c.sendUpdateMetadata(live, all)
	var theirs []tpKey
	for _, k := range all {
		pc := c.s.part(k)
		if slices.ContainsFunc(pc.replicas, func(r int32) bool { return slices.Contains(born, r) }) {
			theirs = append(theirs, k)
		}
	}
	c.sendLeaderAndIsr(theirs, born, true)
	if err := c.electWhereNeeded(ctx, all); err != nil {
		return err
	}
	if err := c.resumeReassignments(ctx); err != nil {
		return err
	}
	return c.retryDeletions()
}

// electWhereNeeded is Kafka's triggerOnlinePartitionStateChange: new
// partitions get their first state, offline ones a leader if one can be
// had.
func (c *Controller) electWhereNeeded(ctx context.Context, keys []tpKey) error {
	creates := map[tpKey]zkdata.LeaderAndISR{}
	updates := map[tpKey]zkdata.LeaderAndISR{}
	for _, k := range keys {
		pc := c.s.part(k)
		if pc == nil || c.s.deleting[k.topic] {
			continue
		}
		if pc.state == nil {
			live := slices.DeleteFunc(slices.Clone(pc.replicas), func(r int32) bool { return !c.s.alive(r) })
			if len(live) == 0 {
				continue // stays New until a replica is live
			}
			creates[k] = zkdata.LeaderAndISR{Leader: live[0], LeaderEpoch: 0, ISR: live, ControllerEpoch: c.token.Epoch}
			continue
		}
		if st := *pc.state; st.Leader < 0 || !c.s.alive(st.Leader) {
			// A leader that died while no controller watched goes too
			// (leader -1) when nobody can replace it: otherwise it would
			// lead again on its return in the same epoch.
			if next := c.electOffline(k, pc, st); next.LeaderEpoch != st.LeaderEpoch {
				updates[k] = next
			}
		}
	}
	if len(creates) > 0 {
		if err := c.createStates(ctx, creates); err != nil {
			return err
		}
	}
	if err := c.writeStates(ctx, updates); err != nil {
		return err
	}
	changed := append(keysOf(creates), keysOf(updates)...)
	if len(changed) > 0 {
		live := c.s.liveIDs()
		c.sendLeaderAndIsr(changed, live, false)
		c.sendUpdateMetadata(live, changed)
	}
	return nil
}

// electOffline chooses a new leader for a partition whose leader is gone:
// the first replica in assignment order that is alive, in the ISR and not
// shutting down; failing that, with unclean election enabled, the first
// live replica; failing that, no leader. The leader epoch grows in every
// case, so brokers learn the change.
func (c *Controller) electOffline(k tpKey, pc *partCtx, st zkdata.LeaderAndISR) zkdata.LeaderAndISR {
	next := st
	next.LeaderEpoch++
	next.ControllerEpoch = c.token.Epoch
	usable := func(r int32) bool { return c.s.alive(r) && !c.s.shuttingDown[r] }
	for _, r := range pc.replicas {
		if usable(r) && slices.Contains(st.ISR, r) {
			next.Leader = r
			next.ISR = slices.DeleteFunc(slices.Clone(st.ISR), func(x int32) bool { return !c.s.alive(x) })
			return next
		}
	}
	if c.unclean(k.topic) {
		for _, r := range pc.replicas {
			if usable(r) {
				c.log.Warn("unclean leader election: a replica out of sync leads; records it lacks are lost", "topic", k.topic, "partition", k.part, "leader", r)
				next.Leader, next.ISR = r, []int32{r}
				return next
			}
		}
	}
	next.Leader = zkdata.NoLeader
	next.ISR = withoutLast(st.ISR, func(x int32) bool { return !c.s.alive(x) })
	if st.Leader == zkdata.NoLeader && slices.Equal(next.ISR, st.ISR) {
		return st // no change worth a write
	}
	return next
}

func (c *Controller) unclean(topic string) bool {
	if tc := c.s.topics[topic]; tc != nil && tc.unclean != nil {
		return *tc.unclean
	}
	return c.cfg.UncleanLeaderElection
}

func keysOf(m map[tpKey]zkdata.LeaderAndISR) []tpKey {
	out := make([]tpKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, cmpKey)
	return out
}

// createStates writes the first state of new partitions.
func (c *Controller) createStates(ctx context.Context, states map[tpKey]zkdata.LeaderAndISR) error {
	in := map[zkdata.TopicPartition]zkdata.LeaderAndISR{}
	for k, st := range states {
		in[k.zk()] = st
	}
	res, err := c.zk.CreatePartitionStates(ctx, c.token, in)
	if err != nil {
		return err
	}
	for tp, r := range res {
		k := keyOf(tp)
		switch {
		case r.Err == nil:
			st := r.State
			c.s.part(k).state = &st
		case errors.Is(r.Err, kafkazk.ErrExists):
			// Written by an earlier controller: read it.
			got, err := c.zk.PartitionStates(ctx, []zkdata.TopicPartition{tp})
			if err == nil {
				if st, ok := got[tp]; ok {
					c.s.part(k).state = &st
				}
			}
			delete(states, k)
		default:
			c.log.Warn("creating partition state failed", "partition", tp, "err", r.Err)
			delete(states, k)
		}
	}
	return nil
}

// writeStates writes changed partition states conditionally on their
// partition epoch; a partition whose epoch moved is re-read and left for
// the next event to decide again.
func (c *Controller) writeStates(ctx context.Context, states map[tpKey]zkdata.LeaderAndISR) error {
	if len(states) == 0 {
		return nil
	}
	in := map[zkdata.TopicPartition]zkdata.LeaderAndISR{}
	for k, st := range states {
		st.ControllerEpoch = c.token.Epoch
		in[k.zk()] = st
	}
	res, err := c.zk.UpdatePartitionStates(ctx, c.token, in)
	if err != nil {
		return err
	}
	for tp, r := range res {
		k := keyOf(tp)
		if r.Err == nil {
			st := r.State
			c.s.part(k).state = &st
			continue
		}
		c.log.Warn("partition state write failed; re-reading", "partition", tp, "err", r.Err)
		delete(states, k)
		if got, err := c.zk.PartitionStates(ctx, []zkdata.TopicPartition{tp}); err == nil {
			if st, ok := got[tp]; ok {
				c.s.part(k).state = &st
			}
		}
	}
	return nil
}

// onTopicsChange handles topics created (deleted ones leave through
// onDeletions).
func (c *Controller) onTopicsChange(names []string) error {
	ctx, cancel := c.ctx()
	defer cancel()
	names = c.legalTopics(names)
	var added []string
	for _, t := range names {
		if _, ok := c.s.topics[t]; !ok {
			added = append(added, t)
		}
	}
	for t := range c.s.topics {
		if !slices.Contains(names, t) && !c.s.deletingTopic(t) {
			c.forgetTopic(t) // removed behind our back
		}
	}
	var keys []tpKey
	for _, t := range added {
		if err := c.loadTopic(ctx, t); err != nil {
			return err
		}
		c.watchTopic(t)
		if tc := c.s.topics[t]; tc != nil {
			keys = append(keys, c.s.topicPartitions(t)...)
			c.log.Info("new topic", "topic", t, "partitions", len(tc.parts))
		}
	}
	if len(keys) == 0 {
		return nil
	}
	// Brokers learn the topic with its first states.
	return c.electWhereNeeded(ctx, keys)
}

// onTopicData handles a changed assignment: partitions added.
func (c *Controller) onTopicData(t string) error {
	ctx, cancel := c.ctx()
	defer cancel()
	tc := c.s.topics[t]
	if tc == nil || c.s.deletingTopic(t) {
		return nil
	}
	a, err := c.zk.TopicAssignment(ctx, t)
	if err != nil {
		if errors.Is(err, kafkazk.ErrNotFound) {
			return nil
		}
		return err
	}
	var added []tpKey
	for p, pa := range a.Partitions {
		if pc, ok := tc.parts[p]; ok {
			pc.replicas, pc.adding, pc.removing = pa.Replicas, pa.AddingReplicas, pa.RemovingReplicas
			continue
		}
		tc.parts[p] = &partCtx{replicas: pa.Replicas, adding: pa.AddingReplicas, removing: pa.RemovingReplicas}
		added = append(added, tpKey{t, p})
	}
	if len(added) == 0 {
		return nil
	}
	slices.SortFunc(added, cmpKey)
	c.log.Info("partitions added", "topic", t, "partitions", len(added))
	return c.electWhereNeeded(ctx, added)
}

func (c *Controller) forgetTopic(t string) {
	if w := c.topicW[t]; w != nil {
		w.Stop()
		delete(c.topicW, t)
	}
	delete(c.s.topics, t)
	delete(c.s.deleting, t)
}
