package controller

// memStore is ZooKeeper as the controller sees it, in memory, with the
// semantics of package kafkazk that the controller relies on (Store's
// invariants): znodes with czxid, mzxid and version; ephemerals owned by a
// session and gone when it expires; /controller_epoch fencing every write
// that takes a token; partition states written on condition of their
// version; watches that deliver the latest state, once per change, on their
// own goroutine. Each broker of a test holds a memSession, as each broker
// holds a kafkazk.Client.
//
// Everything runs inside a testing/synctest bubble: synctest.Wait returns
// once every watch has delivered and every controller has handled what it
// was told.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"samsa/metadata/kafkazk"
	"samsa/metadata/kafkazk/zkdata"
)

type znode struct {
	val          any // the decoded content; nil for a znode without data
	czxid, mzxid int64
	version      int32
	owner        int64 // the session of an ephemeral, else 0
}

// corruptData is the value of a znode holding bytes its path must not hold.
type corruptData struct{}

type memStore struct {
	mu          sync.Mutex
	zxid        int64
	nodes       map[string]*znode
	changed     chan struct{} // closed and replaced at every change: wakes watchers
	lastSession int64
	// failures are errors the named Store methods return once each, in order.
	failures map[string][]error
	// fenced counts writes refused by the controller-epoch check.
	fenced int
	// lastEpoch is the epoch of each broker's latest registration, live
	// or not.
	lastEpoch map[int32]int64
	// afterDeleteTopic, if set, runs (with mu held) right after a
	// DeleteTopic: another client's write that no watch can see apart.
	afterDeleteTopic func(topic string)
}

func newMemStore() *memStore {
	s := &memStore{nodes: map[string]*znode{}, changed: make(chan struct{}), failures: map[string][]error{}, lastEpoch: map[int32]int64{}}
	for _, p := range []string{zkdata.BrokerIDsPath, zkdata.TopicsPath, zkdata.DeleteTopicsPath, zkdata.ConfigPath + "/" + zkdata.ConfigTopics} {
		s.createLocked(p, nil, 0)
	}
	return s
}

// ---- znodes; called with mu held ----

func (s *memStore) tick() int64 {
	s.zxid++
	return s.zxid
}

// notifyLocked wakes every watcher to look again.
func (s *memStore) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *memStore) createLocked(path string, val any, owner int64) error {
	if s.nodes[path] != nil {
		return fmt.Errorf("%w (znode %s)", kafkazk.ErrExists, path)
	}
	z := s.tick()
	s.nodes[path] = &znode{val: val, czxid: z, mzxid: z, owner: owner}
	s.notifyLocked()
	return nil
}

// setLocked writes path if its version is version (-1: any).
func (s *memStore) setLocked(path string, val any, version int32) (*znode, error) {
	n := s.nodes[path]
	switch {
	case n == nil:
		return nil, fmt.Errorf("%w (znode %s)", kafkazk.ErrNotFound, path)
	case version >= 0 && n.version != version:
		return nil, fmt.Errorf("%w (znode %s at %d, not %d)", kafkazk.ErrBadVersion, path, n.version, version)
	}
	n.val, n.mzxid = val, s.tick()
	n.version++
	s.notifyLocked()
	return n, nil
}

// deleteTreeLocked deletes path and everything under it; missing is fine.
func (s *memStore) deleteTreeLocked(path string) {
	for p := range s.nodes {
		if p == path || strings.HasPrefix(p, path+"/") {
			delete(s.nodes, p)
		}
	}
	s.tick()
	s.notifyLocked()
}

// childrenLocked lists path's children, sorted; nil if path does not exist.
func (s *memStore) childrenLocked(path string) []string {
	if s.nodes[path] == nil {
		return nil
	}
	kids := []string{}
	for p := range s.nodes {
		if rest, ok := strings.CutPrefix(p, path+"/"); ok && !strings.Contains(rest, "/") {
			kids = append(kids, rest)
		}
	}
	slices.Sort(kids)
	return kids
}

// errPanic, injected with fail, makes the method panic.
var errPanic = errors.New("memstore: injected panic")

// failure pops the next injected error of method.
func (s *memStore) failure(method string) error {
	errs := s.failures[method]
	if len(errs) == 0 {
		return nil
	}
	s.failures[method] = errs[1:]
	if errs[0] == errPanic {
		panic(fmt.Sprintf("memstore: %s panicked as the test asked", method))
	}
	return errs[0]
}

// fenceLocked is kafkazk's controller-epoch check of a write.
func (s *memStore) fenceLocked(token kafkazk.ControllerEpoch) error {
	ep := s.nodes[zkdata.ControllerEpochPath]
	if token.Epoch <= 0 || token.ZkVersion < 0 || ep == nil || ep.version != token.ZkVersion {
		s.fenced++
		return fmt.Errorf("%w: token %+v", kafkazk.ErrControllerMoved, token)
	}
	return nil
}

// validTopic is kafkazk's check of a topic name, which its methods make
// before touching a topic's znodes.
func validTopic(t string) error {
	if t == "" || t == "." || t == ".." || len(t) > 249 || strings.ContainsFunc(t, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
	}) {
		return fmt.Errorf("kafkazk: invalid topic name %q", t)
	}
	return nil
}

func cloneState(st zkdata.LeaderAndISR) zkdata.LeaderAndISR {
	st.ISR = slices.Clone(st.ISR)
	return st
}

func cloneAssignment(a zkdata.TopicAssignment) zkdata.TopicAssignment {
	parts := map[int32]zkdata.PartitionAssignment{}
	for p, pa := range a.Partitions {
		parts[p] = zkdata.PartitionAssignment{Replicas: slices.Clone(pa.Replicas),
			AddingReplicas: slices.Clone(pa.AddingReplicas), RemovingReplicas: slices.Clone(pa.RemovingReplicas)}
	}
	a.Partitions = parts
	return a
}

func cloneReassignment(r map[zkdata.TopicPartition][]int32) map[zkdata.TopicPartition][]int32 {
	out := map[zkdata.TopicPartition][]int32{}
	for tp, rs := range r {
		out[tp] = slices.Clone(rs)
	}
	return out
}

// ---- what tests do as other ZooKeeper clients (brokers, admin tools) ----

// fail makes the next calls of method return errs, one each.
func (s *memStore) fail(method string, errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = append(s.failures[method], errs...)
}

func (s *memStore) fencedWrites() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fenced
}

// session opens a client session.
func (s *memStore) session() *memSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastSession++
	return &memSession{s: s, id: s.lastSession, hooks: map[int]func(int64){}}
}

// register writes /brokers/ids/<id> for the session and returns the broker
// epoch (its czxid).
func (s *memStore) register(ss *memSession, id int32) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := zkdata.BrokerPath(id)
	info := zkdata.BrokerInfo{ID: id, JMXPort: -1, Endpoints: []zkdata.Endpoint{
		{Listener: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: "b" + strconv.Itoa(int(id)), Port: 9092}}}
	if n := s.nodes[path]; n != nil {
		panic(fmt.Sprintf("broker %d is registered already", id)) // a mistake of the test
	}
	s.createLocked(path, info, ss.id)
	s.lastEpoch[id] = s.nodes[path].czxid
	return s.nodes[path].czxid
}

// corruptRegistration writes garbage under /brokers/ids.
func (s *memStore) corruptRegistration(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.createLocked(zkdata.BrokerIDsPath+"/"+name, corruptData{}, 0)
}

// latestEpoch is the epoch of broker id's latest registration, even if
// it is gone.
func (s *memStore) latestEpoch(id int32) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastEpoch[id]
}

func (s *memStore) brokerEpoch(id int32) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.nodes[zkdata.BrokerPath(id)]; n != nil {
		return n.czxid
	}
	return -1
}

// createTopic is kafkazk's CreateTopic: config first, then the assignment.
func (s *memStore) createTopic(name string, config map[string]string, replicas ...[]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.createTopicLocked(name, config, replicas...)
}

func (s *memStore) createTopicLocked(name string, config map[string]string, replicas ...[]int32) {
	a := zkdata.TopicAssignment{Topic: name, TopicID: zkdata.RandomUuid(), Partitions: map[int32]zkdata.PartitionAssignment{}}
	for p, r := range replicas {
		a.Partitions[int32(p)] = zkdata.PartitionAssignment{Replicas: r}
	}
	if config == nil {
		config = map[string]string{}
	}
	s.createLocked(zkdata.TopicConfigPath(name), maps.Clone(config), 0)
	if err := s.createLocked(zkdata.TopicPath(name), a, 0); err != nil {
		panic(err)
	}
}

// addPartitions is kafkazk's AddPartitions.
func (s *memStore) addPartitions(topic string, replicas ...[]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nodes[zkdata.TopicPath(topic)]
	a := cloneAssignment(n.val.(zkdata.TopicAssignment))
	for _, r := range replicas {
		a.Partitions[int32(len(a.Partitions))] = zkdata.PartitionAssignment{Replicas: r}
	}
	s.setLocked(zkdata.TopicPath(topic), a, -1)
}

func (s *memStore) markForDeletion(topic string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.createLocked(zkdata.DeleteTopicPath(topic), nil, 0)
}

// createReassignment is kafka-reassign-partitions through ZooKeeper.
func (s *memStore) createReassignment(r map[zkdata.TopicPartition][]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.createLocked(zkdata.ReassignPartitionsPath, cloneReassignment(r), 0); err != nil {
		panic(err)
	}
}

// writeState writes a partition state as another controller would have
// (no fencing), creating it if need be; the state's PartitionEpoch is
// ignored.
func (s *memStore) writeState(topic string, p int32, st zkdata.LeaderAndISR) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := zkdata.PartitionStatePath(zkdata.TopicPartition{Topic: topic, Partition: p})
	if s.nodes[path] == nil {
		s.createLocked(path, cloneState(st), 0)
		return
	}
	s.setLocked(path, cloneState(st), -1)
}

// state reads a partition state; ok false if it has none.
func (s *memStore) state(topic string, p int32) (zkdata.LeaderAndISR, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stateLocked(zkdata.TopicPartition{Topic: topic, Partition: p})
}

func (s *memStore) stateLocked(tp zkdata.TopicPartition) (zkdata.LeaderAndISR, bool) {
	n := s.nodes[zkdata.PartitionStatePath(tp)]
	if n == nil {
		return zkdata.LeaderAndISR{}, false
	}
	st := cloneState(n.val.(zkdata.LeaderAndISR))
	st.PartitionEpoch = n.version
	return st, true
}

func (s *memStore) assignment(topic string) (zkdata.TopicAssignment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nodes[zkdata.TopicPath(topic)]
	if n == nil {
		return zkdata.TopicAssignment{}, false
	}
	return cloneAssignment(n.val.(zkdata.TopicAssignment)), true
}

func (s *memStore) exists(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nodes[path] != nil
}

// paths lists the znodes under prefix, sorted.
func (s *memStore) paths(prefix string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for p := range s.nodes {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// controllerEpoch reads /controller_epoch: the epoch and the znode version.
func (s *memStore) controllerEpoch() (int32, int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nodes[zkdata.ControllerEpochPath]
	if n == nil {
		return 0, -1
	}
	return n.val.(int32), n.version
}

// controllerID reads /controller, -1 if absent.
func (s *memStore) controllerID() int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.nodes[zkdata.ControllerPath]; n != nil {
		return n.val.(zkdata.ControllerInfo).BrokerID
	}
	return -1
}

// ---- a session: one client's view, the Store a controller holds ----

type memSession struct {
	s *memStore

	// Guarded by s.mu.
	id       int64
	hooks    map[int]func(int64)
	nextHook int
	// deaf: the client is cut off (a long GC pause, a partition): its
	// watches deliver nothing and it learns of no expiry until hear.
	deaf bool
	// expired counts expiries the client has not been told of while deaf.
	expired int
}

var _ Store = (*memSession)(nil)

// expire ends the session as ZooKeeper does at its timeout: its ephemerals
// (registration, /controller) go, and the client, unless deaf, opens a new
// session and runs its OnNewSession hooks.
func (ss *memSession) expire() {
	s := ss.s
	s.mu.Lock()
	for p, n := range s.nodes {
		if n.owner == ss.id {
			delete(s.nodes, p)
		}
	}
	s.tick()
	s.notifyLocked()
	s.lastSession++
	ss.id = s.lastSession
	ss.expired++
	s.mu.Unlock()
	ss.tellExpiry()
}

// deafen cuts the client off; hear reconnects it.
func (ss *memSession) deafen() {
	ss.s.mu.Lock()
	ss.deaf = true
	ss.s.mu.Unlock()
}

func (ss *memSession) hear() {
	s := ss.s
	s.mu.Lock()
	ss.deaf = false
	s.notifyLocked()
	s.mu.Unlock()
	ss.tellExpiry()
}

// tellExpiry runs the hooks, on a goroutine of the client's as kafkazk's
// session loop, once for the expiries not yet told.
func (ss *memSession) tellExpiry() {
	s := ss.s
	s.mu.Lock()
	if ss.deaf || ss.expired == 0 {
		s.mu.Unlock()
		return
	}
	ss.expired = 0
	id := ss.id
	keys := slices.Sorted(maps.Keys(ss.hooks))
	var hooks []func(int64)
	for _, k := range keys {
		hooks = append(hooks, ss.hooks[k])
	}
	s.mu.Unlock()
	go func() {
		for _, h := range hooks {
			h(id)
		}
	}()
}

func (ss *memSession) OnNewSession(fn func(int64)) func() {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	k := ss.nextHook
	ss.nextHook++
	ss.hooks[k] = fn
	return func() {
		ss.s.mu.Lock()
		delete(ss.hooks, k)
		ss.s.mu.Unlock()
	}
}

// watch re-reads after every change of the store and delivers what read
// returns when its key differs from the last delivered (always the first
// time), as kafkazk's Watcher.
func (ss *memSession) watch(read func() (key string, deliver func())) *kafkazk.Watcher {
	s := ss.s
	return kafkazk.NewWatcher(func(stop <-chan struct{}) {
		first, last := true, ""
		for {
			s.mu.Lock()
			ch := s.changed
			var deliver func()
			if !ss.deaf {
				key, d := read()
				if first || key != last {
					first, last, deliver = false, key, d
				}
			}
			s.mu.Unlock()
			if deliver != nil {
				deliver()
			}
			select {
			case <-ch:
			case <-stop:
				return
			}
		}
	})
}

func (ss *memSession) WatchChildren(path string, fn func([]string)) *kafkazk.Watcher {
	return ss.watch(func() (string, func()) {
		kids := ss.s.childrenLocked(path)
		key := "absent"
		if kids != nil {
			key = "[" + strings.Join(kids, ",") + "]"
		}
		return key, func() { fn(kids) }
	})
}

func (ss *memSession) WatchData(path string, fn func([]byte, *kafkazk.Stat)) *kafkazk.Watcher {
	return ss.watch(func() (string, func()) {
		n := ss.s.nodes[path]
		if n == nil {
			return "absent", func() { fn(nil, nil) }
		}
		st := &kafkazk.Stat{Czxid: n.czxid, Mzxid: n.mzxid, Version: n.version, EphemeralOwner: n.owner}
		data := fmt.Appendf(nil, "%v", n.val)
		return fmt.Sprint(n.czxid, n.mzxid), func() { fn(data, st) }
	})
}

// ---- Store: reads ----

func (ss *memSession) Controller(context.Context) (zkdata.ControllerInfo, error) {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure("Controller"); err != nil {
		return zkdata.ControllerInfo{}, err
	}
	n := s.nodes[zkdata.ControllerPath]
	if n == nil {
		return zkdata.ControllerInfo{}, fmt.Errorf("%w (znode %s)", kafkazk.ErrNotFound, zkdata.ControllerPath)
	}
	return n.val.(zkdata.ControllerInfo), nil
}

func (ss *memSession) Brokers(context.Context) ([]kafkazk.RegisteredBroker, error) {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure("Brokers"); err != nil {
		return nil, err
	}
	var out []kafkazk.RegisteredBroker
	var bad []error
	for _, k := range s.childrenLocked(zkdata.BrokerIDsPath) {
		path := zkdata.BrokerIDsPath + "/" + k
		n := s.nodes[path]
		info, ok := n.val.(zkdata.BrokerInfo)
		if !ok {
			bad = append(bad, &kafkazk.CorruptError{Path: path, Err: errors.New("not a registration")})
			continue
		}
		info.Endpoints = slices.Clone(info.Endpoints)
		out = append(out, kafkazk.RegisteredBroker{BrokerInfo: info, Epoch: n.czxid})
	}
	slices.SortFunc(out, func(a, b kafkazk.RegisteredBroker) int { return int(a.ID - b.ID) })
	return out, errors.Join(bad...)
}

func (ss *memSession) Topics(context.Context) ([]string, error) {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure("Topics"); err != nil {
		return nil, err
	}
	return s.childrenLocked(zkdata.TopicsPath), nil
}

func (ss *memSession) TopicAssignment(_ context.Context, topic string) (zkdata.TopicAssignment, error) {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure("TopicAssignment"); err != nil {
		return zkdata.TopicAssignment{}, err
	}
	if err := validTopic(topic); err != nil {
		return zkdata.TopicAssignment{}, err
	}
	n := s.nodes[zkdata.TopicPath(topic)]
	if n == nil {
		return zkdata.TopicAssignment{}, fmt.Errorf("%w (znode %s)", kafkazk.ErrNotFound, zkdata.TopicPath(topic))
	}
	return cloneAssignment(n.val.(zkdata.TopicAssignment)), nil
}

func (ss *memSession) TopicConfig(_ context.Context, topic string) (map[string]string, error) {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure("TopicConfig"); err != nil {
		return nil, err
	}
	if err := validTopic(topic); err != nil {
		return nil, err
	}
	if n := s.nodes[zkdata.TopicConfigPath(topic)]; n != nil {
		return maps.Clone(n.val.(map[string]string)), nil
	}
	return map[string]string{}, nil
}

func (ss *memSession) PartitionStates(_ context.Context, tps []zkdata.TopicPartition) (map[zkdata.TopicPartition]zkdata.LeaderAndISR, error) {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure("PartitionStates"); err != nil {
		return nil, err
	}
	out := map[zkdata.TopicPartition]zkdata.LeaderAndISR{}
	for _, tp := range tps {
		if st, ok := s.stateLocked(tp); ok {
			out[tp] = st
		}
	}
	return out, nil
}

func (ss *memSession) TopicsMarkedForDeletion(context.Context) ([]string, error) {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure("TopicsMarkedForDeletion"); err != nil {
		return nil, err
	}
	return s.childrenLocked(zkdata.DeleteTopicsPath), nil
}

func (ss *memSession) PartitionReassignment(context.Context) (map[zkdata.TopicPartition][]int32, error) {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure("PartitionReassignment"); err != nil {
		return nil, err
	}
	n := s.nodes[zkdata.ReassignPartitionsPath]
	if n == nil {
		return map[zkdata.TopicPartition][]int32{}, nil
	}
	return cloneReassignment(n.val.(map[zkdata.TopicPartition][]int32)), nil
}

// ---- Store: the election ----

// ElectController is kafkazk's: create the ephemeral /controller and bump
// /controller_epoch in one transaction (one zxid), or learn who holds it. A
// second call by the holder's session returns its token.
func (ss *memSession) ElectController(_ context.Context, brokerID int32) (kafkazk.Election, error) {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure("ElectController"); err != nil {
		return kafkazk.Election{}, err
	}
	ep := s.nodes[zkdata.ControllerEpochPath]
	if ep == nil {
		s.createLocked(zkdata.ControllerEpochPath, int32(kafkazk.InitialControllerEpoch), 0)
		ep = s.nodes[zkdata.ControllerEpochPath]
	}
	if n := s.nodes[zkdata.ControllerPath]; n != nil {
		info := n.val.(zkdata.ControllerInfo)
		if n.owner == ss.id {
			if ep.mzxid != n.czxid {
				return kafkazk.Election{ControllerID: info.BrokerID}, fmt.Errorf("%w: /controller_epoch moved past our election", kafkazk.ErrControllerMoved)
			}
			return kafkazk.Election{Won: true, ControllerID: info.BrokerID, Token: kafkazk.ControllerEpoch{Epoch: ep.val.(int32), ZkVersion: ep.version}}, nil
		}
		return kafkazk.Election{ControllerID: info.BrokerID}, nil
	}
	z := s.tick()
	s.nodes[zkdata.ControllerPath] = &znode{val: zkdata.ControllerInfo{BrokerID: brokerID, Timestamp: time.Now().UnixMilli(), KRaftControllerEpoch: -1},
		czxid: z, mzxid: z, owner: ss.id}
	ep.val, ep.mzxid = ep.val.(int32)+1, z
	ep.version++
	s.notifyLocked()
	return kafkazk.Election{Won: true, ControllerID: brokerID, Token: kafkazk.ControllerEpoch{Epoch: ep.val.(int32), ZkVersion: ep.version}}, nil
}

func (ss *memSession) Resign(_ context.Context, token kafkazk.ControllerEpoch) error {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure("Resign"); err != nil {
		return err
	}
	if err := s.fenceLocked(token); err != nil {
		return err
	}
	if s.nodes[zkdata.ControllerPath] != nil {
		s.deleteTreeLocked(zkdata.ControllerPath)
	}
	return nil
}

// ---- Store: fenced writes ----

func (ss *memSession) SetTopicAssignment(_ context.Context, token kafkazk.ControllerEpoch, a zkdata.TopicAssignment) error {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure("SetTopicAssignment"); err != nil {
		return err
	}
	if err := s.fenceLocked(token); err != nil {
		return err
	}
	_, err := s.setLocked(zkdata.TopicPath(a.Topic), cloneAssignment(a), -1)
	return err
}

func (ss *memSession) CreatePartitionStates(_ context.Context, token kafkazk.ControllerEpoch, states map[zkdata.TopicPartition]zkdata.LeaderAndISR) (map[zkdata.TopicPartition]kafkazk.PartitionResult, error) {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure("CreatePartitionStates"); err != nil {
		return nil, err
	}
	if err := s.fenceLocked(token); err != nil {
		return nil, err
	}
	out := map[zkdata.TopicPartition]kafkazk.PartitionResult{}
	for tp, st := range states {
		st = cloneState(st)
		st.ControllerEpoch, st.PartitionEpoch = token.Epoch, 0
		path := zkdata.PartitionStatePath(tp)
		var err error
		switch {
		case s.nodes[zkdata.TopicPath(tp.Topic)] == nil:
			err = fmt.Errorf("%w (znode %s)", kafkazk.ErrNotFound, zkdata.TopicPath(tp.Topic))
		case s.nodes[path] != nil:
			err = fmt.Errorf("%w (znode %s)", kafkazk.ErrExists, path)
		default:
			for _, p := range []string{zkdata.PartitionsPath(tp.Topic), zkdata.PartitionPath(tp)} {
				if s.nodes[p] == nil {
					s.createLocked(p, nil, 0)
				}
			}
			stored := cloneState(st)
			stored.PartitionEpoch = 0
			s.createLocked(path, stored, 0)
		}
		out[tp] = kafkazk.PartitionResult{State: st, Err: err}
	}
	return out, nil
}

func (ss *memSession) UpdatePartitionStates(_ context.Context, token kafkazk.ControllerEpoch, states map[zkdata.TopicPartition]zkdata.LeaderAndISR) (map[zkdata.TopicPartition]kafkazk.PartitionResult, error) {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure("UpdatePartitionStates"); err != nil {
		return nil, err
	}
	if err := s.fenceLocked(token); err != nil {
		return nil, err
	}
	out := map[zkdata.TopicPartition]kafkazk.PartitionResult{}
	for tp, st := range states {
		st = cloneState(st)
		st.ControllerEpoch = token.Epoch
		stored := cloneState(st)
		stored.PartitionEpoch = 0
		n, err := s.setLocked(zkdata.PartitionStatePath(tp), stored, st.PartitionEpoch)
		if err == nil {
			st.PartitionEpoch = n.version
		}
		out[tp] = kafkazk.PartitionResult{State: st, Err: err}
	}
	return out, nil
}

func (ss *memSession) RemoveDeletionMarkers(_ context.Context, token kafkazk.ControllerEpoch, topics ...string) error {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure("RemoveDeletionMarkers"); err != nil {
		return err
	}
	for _, t := range topics {
		if err := validTopic(t); err != nil {
			return err
		}
	}
	if err := s.fenceLocked(token); err != nil {
		return err
	}
	for _, t := range topics {
		s.deleteTreeLocked(zkdata.DeleteTopicPath(t))
	}
	return nil
}

func (ss *memSession) DeleteTopic(_ context.Context, token kafkazk.ControllerEpoch, topic string) error {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure("DeleteTopic"); err != nil {
		return err
	}
	if err := validTopic(topic); err != nil {
		return err
	}
	if err := s.fenceLocked(token); err != nil {
		return err
	}
	s.deleteTreeLocked(zkdata.TopicPath(topic))
	s.deleteTreeLocked(zkdata.TopicConfigPath(topic))
	s.deleteTreeLocked(zkdata.DeleteTopicPath(topic))
	if s.afterDeleteTopic != nil {
		s.afterDeleteTopic(topic)
	}
	return nil
}

func (ss *memSession) SetPartitionReassignment(_ context.Context, token kafkazk.ControllerEpoch, r map[zkdata.TopicPartition][]int32) error {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure("SetPartitionReassignment"); err != nil {
		return err
	}
	if err := s.fenceLocked(token); err != nil {
		return err
	}
	if s.nodes[zkdata.ReassignPartitionsPath] == nil {
		return s.createLocked(zkdata.ReassignPartitionsPath, cloneReassignment(r), 0)
	}
	_, err := s.setLocked(zkdata.ReassignPartitionsPath, cloneReassignment(r), -1)
	return err
}

func (ss *memSession) DeletePartitionReassignment(_ context.Context, token kafkazk.ControllerEpoch) error {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure("DeletePartitionReassignment"); err != nil {
		return err
	}
	if err := s.fenceLocked(token); err != nil {
		return err
	}
	s.deleteTreeLocked(zkdata.ReassignPartitionsPath)
	return nil
}
