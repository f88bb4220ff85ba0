package kafkazk

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"samsa/internal/zktest"
	"samsa/metadata/kafkazk/zkdata"
)

// Every znode the package writes, read back raw from ZooKeeper and compared
// with the JSON Kafka writes there. The chroot is created by Connect and
// holds everything.
func TestZnodeShapes(t *testing.T) {
	e := sharedEnv(t)
	if e.exists("") {
		t.Fatal("the chroot exists before Connect")
	}
	c := e.client()
	ctx := ctxT(t)
	for _, p := range []string{"/brokers/ids", "/brokers/topics", "/brokers/seqid", "/config/changes", "/config/topics",
		"/config/brokers", "/config/users", "/config/clients", "/config/ips", "/admin/delete_topics",
		"/isr_change_notification", "/latest_producer_id_block", "/log_dir_event_notification", "/consumers"} {
		if !e.exists(p) {
			t.Errorf("top-level path %s missing", p)
		}
	}
	if ok, _, _ := e.raw.Exists("/brokers"); ok {
		t.Error("a znode was written outside the chroot")
	}

	_, err := c.RegisterBroker(ctx, zkdata.BrokerInfo{ID: 1, JMXPort: -1, Rack: "rack-a", Endpoints: []zkdata.Endpoint{
		{Listener: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: "broker-1", Port: 9092},
		{Listener: "INTERNAL", SecurityProtocol: "SSL", Host: "10.0.0.1", Port: 9093},
	}})
	must(t, err)
	e.shape("/brokers/ids/1", `{"version":5,"host":"broker-1","port":9092,
		"endpoints":["PLAINTEXT://broker-1:9092","INTERNAL://10.0.0.1:9093"],
		"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT","INTERNAL":"SSL"},
		"jmx_port":-1,"rack":"rack-a","features":{}}`, "timestamp")
	if _, st := e.get("/brokers/ids/1"); st.EphemeralOwner != c.SessionID() {
		t.Errorf("/brokers/ids/1 is owned by %s, not the client's session %s", hex(st.EphemeralOwner), hex(c.SessionID()))
	}

	el, err := c.ElectController(ctx, 1)
	must(t, err)
	e.shape("/controller", `{"version":2,"brokerid":1,"kraftControllerEpoch":-1}`, "timestamp")
	if data, _ := e.get("/controller_epoch"); string(data) != "1" || el.Token.Epoch != 1 {
		t.Errorf("/controller_epoch = %q, token %+v", data, el.Token)
	}

	id, _ := zkdata.ParseUuid("zQqFd6yqTaOcjHI7cGD8RQ")
	_, err = c.CreateTopic(ctx, zkdata.TopicAssignment{Topic: "orders", TopicID: id, Partitions: map[int32]zkdata.PartitionAssignment{
		0: {Replicas: []int32{1, 2}}, 1: {Replicas: []int32{2, 1}}}}, map[string]string{"retention.ms": "60000"})
	must(t, err)
	e.shape("/brokers/topics/orders", `{"version":3,"partitions":{"0":[1,2],"1":[2,1]},"adding_replicas":{},"removing_replicas":{},"topic_id":"zQqFd6yqTaOcjHI7cGD8RQ"}`)
	e.shape("/config/topics/orders", `{"version":1,"config":{"retention.ms":"60000"}}`)

	_, err = c.CreatePartitionStates(ctx, el.Token, map[zkdata.TopicPartition]zkdata.LeaderAndISR{
		{Topic: "orders", Partition: 0}: {Leader: 1, LeaderEpoch: 0, ISR: []int32{1, 2}},
		{Topic: "orders", Partition: 1}: {Leader: zkdata.NoLeader, ISR: []int32{}},
	})
	must(t, err)
	e.shape("/brokers/topics/orders/partitions/0/state", `{"version":1,"leader":1,"leader_epoch":0,"isr":[1,2],"controller_epoch":1}`)
	e.shape("/brokers/topics/orders/partitions/1/state", `{"version":1,"leader":-1,"leader_epoch":0,"isr":[],"controller_epoch":1}`)

	must(t, c.SetTopicConfig(ctx, "orders", map[string]string{"retention.ms": "1"}))
	kids, _, err := e.raw.Children(e.chroot + "/config/changes")
	must(t, err)
	if len(kids) != 1 || kids[0] != "config_change_0000000000" {
		t.Fatalf("/config/changes children %v", kids)
	}
	e.shape("/config/changes/config_change_0000000000", `{"version":2,"entity_path":"topics/orders"}`)

	must(t, c.MarkTopicForDeletion(ctx, "orders"))
	if data, _ := e.get("/admin/delete_topics/orders"); len(data) != 0 {
		t.Errorf("deletion marker holds %q", data)
	}
	must(t, c.CreatePartitionReassignment(ctx, map[zkdata.TopicPartition][]int32{{Topic: "orders", Partition: 0}: {2, 3}}))
	e.shape("/admin/reassign_partitions", `{"version":1,"partitions":[{"topic":"orders","partition":0,"replicas":[2,3]}]}`)

	_, err = c.NextProducerIDBlock(ctx, 1, ProducerIDBlockSize)
	must(t, err)
	e.shape("/latest_producer_id_block", `{"version":1,"broker":1,"block_start":"0","block_end":"999"}`)

	cid, err := c.GetOrCreateClusterID(ctx)
	must(t, err)
	e.shape("/cluster/id", fmt.Sprintf(`{"version":"1","id":%q}`, cid))
	if _, err := zkdata.ParseUuid(cid); err != nil {
		t.Errorf("cluster id %q is not a Kafka Uuid: %v", cid, err)
	}

	bid, err := c.GenerateBrokerID(ctx, 1000)
	must(t, err)
	bid2, err := c.GenerateBrokerID(ctx, 1000)
	must(t, err)
	if bid != 1001 || bid2 != 1002 {
		t.Errorf("generated broker ids %d, %d; want 1001, 1002", bid, bid2)
	}
}

// The broker epoch is the registration's czxid; the same id from another
// session is refused; Brokers and Broker read registrations back.
func TestRegisterBroker(t *testing.T) {
	e := sharedEnv(t)
	c1, c2 := e.client(), e.client()
	ctx := ctxT(t)
	info := zkdata.BrokerInfo{ID: 7, JMXPort: -1, Endpoints: []zkdata.Endpoint{{Listener: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: "h", Port: 9092}}}
	epoch, err := c1.RegisterBroker(ctx, info)
	must(t, err)
	if _, st := e.get("/brokers/ids/7"); st.Czxid != epoch {
		t.Fatalf("epoch %d, czxid %d", epoch, st.Czxid)
	}
	again, err := c1.RegisterBroker(ctx, info)
	if err != nil || again != epoch {
		t.Fatalf("registering again in the same session: %d, %v; want %d", again, err, epoch)
	}
	if _, err := c2.RegisterBroker(ctx, info); !errors.Is(err, ErrBrokerIDInUse) {
		t.Fatalf("second broker with id 7: err = %v, want ErrBrokerIDInUse", err)
	}
	epoch8, err := c2.RegisterBroker(ctx, zkdata.BrokerInfo{ID: 8, JMXPort: -1})
	must(t, err)
	if epoch8 <= epoch {
		t.Fatalf("later registration has epoch %d <= %d", epoch8, epoch)
	}
	bs, err := c2.Brokers(ctx)
	must(t, err)
	if len(bs) != 2 || bs[0].ID != 7 || bs[0].Epoch != epoch || bs[1].ID != 8 || bs[1].Epoch != epoch8 ||
		!reflect.DeepEqual(bs[0].Endpoints, info.Endpoints) {
		t.Fatalf("Brokers = %+v", bs)
	}
	// Closing the session removes the registration; then the id is free.
	c1.Close()
	if _, err := c2.Broker(ctx, 7); !errors.Is(err, ErrNotFound) {
		t.Fatalf("broker 7 after its session closed: %v", err)
	}
	if _, err := c2.RegisterBroker(ctx, info); err != nil {
		t.Fatalf("id 7 after its owner left: %v", err)
	}
}

// The server expires a session for real (the client is cut off longer than
// its timeout while ZooKeeper runs on); go-zookeeper then quietly opens a new
// session. The hook fires, the broker registers again with a larger epoch,
// and a watcher set by the old session keeps delivering.
func TestSessionExpiryReRegisters(t *testing.T) {
	e := sharedEnv(t)
	p := zktest.NewProxy(t, e.srv.Addr())
	c := e.connect(p.Addr(), time.Second)
	ctx := ctxT(t)
	info := zkdata.BrokerInfo{ID: 1, JMXPort: -1, Endpoints: []zkdata.Endpoint{{Listener: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: "h", Port: 9092}}}
	epoch1, err := c.RegisterBroker(ctx, info)
	must(t, err)
	sid1 := c.SessionID()

	epochs := make(chan int64, 4)
	c.OnNewSession(func(sid int64) {
		ep, err := c.RegisterBroker(context.Background(), info)
		if err != nil {
			t.Errorf("re-register: %v", err)
		}
		epochs <- ep
	})
	var mu sync.Mutex
	var seen [][]string
	w := c.WatchChildren(zkdata.BrokerIDsPath, func(kids []string) {
		mu.Lock()
		seen = append(seen, kids)
		mu.Unlock()
	})
	defer w.Stop()

	p.Cut()
	waitFor(t, "the server to expire the session and drop /brokers/ids/1", 15*time.Second, func() bool { return !e.exists("/brokers/ids/1") })
	p.Heal()
	var epoch2 int64
	select {
	case epoch2 = <-epochs:
	case <-time.After(20 * time.Second):
		t.Fatal("no new-session hook after expiry")
	}
	if epoch2 <= epoch1 {
		t.Fatalf("epoch after re-registration %d <= %d", epoch2, epoch1)
	}
	if sid := c.SessionID(); sid == sid1 || sid == 0 {
		t.Fatalf("session %s after expiry of %s", hex(sid), hex(sid1))
	}
	if _, st := e.get("/brokers/ids/1"); st.Czxid != epoch2 || st.EphemeralOwner != c.SessionID() {
		t.Fatalf("registration czxid %d owner %s; want %d, %s", st.Czxid, hex(st.EphemeralOwner), epoch2, hex(c.SessionID()))
	}
	// The watcher was set by the expired session: it must have re-armed.
	_, err = e.client().RegisterBroker(ctx, zkdata.BrokerInfo{ID: 2, JMXPort: -1})
	must(t, err)
	waitFor(t, "the watcher to see broker 2 join", 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) > 0 && slices.Equal(seen[len(seen)-1], []string{"1", "2"})
	})
}

// Two brokers race for the controller: one wins and the epoch grows by one;
// the loser learns who won. When the winner goes, the other is elected with
// the next epoch, and the deposed controller's writes are fenced.
func TestControllerElectionAndFencing(t *testing.T) {
	e := sharedEnv(t)
	c1, c2 := e.client(), e.client()
	ctx := ctxT(t)
	var wg sync.WaitGroup
	res := make([]Election, 2)
	errs := make([]error, 2)
	for i, c := range []*Client{c1, c2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i], errs[i] = c.ElectController(ctx, int32(i+1))
		}()
	}
	wg.Wait()
	must(t, errors.Join(errs...))
	if res[0].Won == res[1].Won {
		t.Fatalf("elections %+v: exactly one must win", res)
	}
	win, lose := 0, 1
	if res[1].Won {
		win, lose = 1, 0
	}
	if res[win].Token.Epoch != 1 || res[lose].ControllerID != int32(win+1) {
		t.Fatalf("elections %+v", res)
	}
	winner, loser := []*Client{c1, c2}[win], []*Client{c1, c2}[lose]
	info, err := loser.Controller(ctx)
	if err != nil || info.BrokerID != int32(win+1) {
		t.Fatalf("Controller() = %+v, %v", info, err)
	}
	// The sitting controller asking again keeps its token.
	if again, err := winner.ElectController(ctx, int32(win+1)); err != nil || !again.Won || again.Token != res[win].Token {
		t.Fatalf("re-election by the controller: %+v, %v; want token %+v", again, err, res[win].Token)
	}

	// The winner's /controller goes (as at session expiry); the loser wins.
	old := res[win].Token
	must(t, winner.Resign(ctx, old))
	next, err := loser.ElectController(ctx, int32(lose+1))
	if err != nil || !next.Won || next.Token.Epoch != old.Epoch+1 {
		t.Fatalf("second election: %+v, %v", next, err)
	}
	if ep, err := winner.ReadControllerEpoch(ctx); err != nil || ep != next.Token {
		t.Fatalf("ReadControllerEpoch = %+v, %v; want %+v", ep, err, next.Token)
	}
	_, err = winner.CreateTopic(ctx, zkdata.TopicAssignment{Topic: "t", Partitions: map[int32]zkdata.PartitionAssignment{0: {Replicas: []int32{1}}}}, nil)
	must(t, err)
	// The zombie's writes fail; the new controller's go through.
	tp := zkdata.TopicPartition{Topic: "t", Partition: 0}
	_, err = winner.CreatePartitionStates(ctx, old, map[zkdata.TopicPartition]zkdata.LeaderAndISR{tp: {Leader: 1, ISR: []int32{1}}})
	if !errors.Is(err, ErrControllerMoved) {
		t.Fatalf("deposed controller's write: %v, want ErrControllerMoved", err)
	}
	if e.exists("/brokers/topics/t/partitions") {
		t.Fatal("the deposed controller wrote")
	}
	for name, f := range map[string]func() error{
		"Resign":                      func() error { return winner.Resign(ctx, old) },
		"SetTopicAssignment":          func() error { return winner.SetTopicAssignment(ctx, old, zkdata.TopicAssignment{Topic: "t"}) },
		"DeleteTopic":                 func() error { return winner.DeleteTopic(ctx, old, "t") },
		"DeletePartitionReassignment": func() error { return winner.DeletePartitionReassignment(ctx, old) },
	} {
		if err := f(); !errors.Is(err, ErrControllerMoved) {
			t.Errorf("deposed controller's %s: %v, want ErrControllerMoved", name, err)
		}
	}
	if _, err := loser.CreatePartitionStates(ctx, next.Token, map[zkdata.TopicPartition]zkdata.LeaderAndISR{tp: {Leader: 1, ISR: []int32{1}}}); err != nil {
		t.Fatal(err)
	}
	e.shape("/brokers/topics/t/partitions/0/state", `{"version":1,"leader":1,"leader_epoch":0,"isr":[1],"controller_epoch":2}`)
}

// A controller whose session expires loses /controller; another broker is
// elected; the old controller, back with a new session, is fenced.
func TestExpiredControllerIsFenced(t *testing.T) {
	e := sharedEnv(t)
	p := zktest.NewProxy(t, e.srv.Addr())
	zombie := e.connect(p.Addr(), time.Second)
	other := e.client()
	ctx := ctxT(t)
	el, err := zombie.ElectController(ctx, 1)
	if err != nil || !el.Won {
		t.Fatalf("%+v %v", el, err)
	}
	_, err = zombie.CreateTopic(ctx, zkdata.TopicAssignment{Topic: "t", Partitions: map[int32]zkdata.PartitionAssignment{0: {Replicas: []int32{1}}}}, nil)
	must(t, err)
	p.Cut()
	waitFor(t, "the zombie's /controller to go", 15*time.Second, func() bool { return !e.exists("/controller") })
	el2, err := other.ElectController(ctx, 2)
	if err != nil || !el2.Won || el2.Token.Epoch != el.Token.Epoch+1 {
		t.Fatalf("%+v %v", el2, err)
	}
	p.Heal()
	_, err = zombie.CreatePartitionStates(ctx, el.Token, map[zkdata.TopicPartition]zkdata.LeaderAndISR{{Topic: "t", Partition: 0}: {Leader: 1, ISR: []int32{1}}})
	if !errors.Is(err, ErrControllerMoved) {
		t.Fatalf("zombie write: %v, want ErrControllerMoved", err)
	}
	// And its new session's election finds the other controller.
	if el3, err := zombie.ElectController(ctx, 1); err != nil || el3.Won || el3.ControllerID != 2 {
		t.Fatalf("zombie re-election: %+v, %v", el3, err)
	}
}

// Partition states: created at partition epoch 0; a conditional update at
// the right epoch moves it on; one at a stale epoch fails alone, in the same
// batch as one that succeeds.
func TestPartitionStates(t *testing.T) {
	e := sharedEnv(t)
	c := e.client()
	ctx := ctxT(t)
	el, err := c.ElectController(ctx, 1)
	must(t, err)
	_, err = c.CreateTopic(ctx, zkdata.TopicAssignment{Topic: "p", Partitions: map[int32]zkdata.PartitionAssignment{
		0: {Replicas: []int32{1, 2}}, 1: {Replicas: []int32{2, 1}}, 2: {Replicas: []int32{1}}}}, nil)
	must(t, err)
	tp0, tp1, tp2 := zkdata.TopicPartition{Topic: "p", Partition: 0}, zkdata.TopicPartition{Topic: "p", Partition: 1}, zkdata.TopicPartition{Topic: "p", Partition: 2}
	created, err := c.CreatePartitionStates(ctx, el.Token, map[zkdata.TopicPartition]zkdata.LeaderAndISR{
		tp0: {Leader: 1, ISR: []int32{1, 2}}, tp1: {Leader: 2, ISR: []int32{2, 1}}})
	must(t, err)
	for tp, r := range created {
		if r.Err != nil || r.State.PartitionEpoch != 0 || r.State.ControllerEpoch != el.Token.Epoch {
			t.Fatalf("%v: %+v", tp, r)
		}
	}
	again, err := c.CreatePartitionStates(ctx, el.Token, map[zkdata.TopicPartition]zkdata.LeaderAndISR{tp0: {Leader: 1}, tp2: {Leader: 1, ISR: []int32{1}}})
	must(t, err)
	if !errors.Is(again[tp0].Err, ErrExists) || again[tp2].Err != nil {
		t.Fatalf("creating an existing state: %+v", again)
	}

	states, err := c.PartitionStates(ctx, []zkdata.TopicPartition{tp0, tp1, {Topic: "p", Partition: 9}})
	must(t, err)
	if len(states) != 2 || !reflect.DeepEqual(states[tp0], zkdata.LeaderAndISR{Leader: 1, ISR: []int32{1, 2}, ControllerEpoch: 1, PartitionEpoch: 0}) {
		t.Fatalf("PartitionStates = %+v", states)
	}

	s0 := states[tp0]
	s0.ISR, s0.LeaderEpoch = []int32{1}, 0 // shrink the ISR
	s1 := states[tp1]
	s1.Leader, s1.LeaderEpoch = 1, 1
	res, err := c.UpdatePartitionStates(ctx, el.Token, map[zkdata.TopicPartition]zkdata.LeaderAndISR{tp0: s0, tp1: s1})
	must(t, err)
	if res[tp0].Err != nil || res[tp0].State.PartitionEpoch != 1 || res[tp1].Err != nil || res[tp1].State.PartitionEpoch != 1 {
		t.Fatalf("update: %+v", res)
	}
	// tp0 at the stale epoch 0, tp1 at its current epoch 1, a missing one.
	s1b := res[tp1].State
	s1b.ISR = []int32{1, 2}
	res, err = c.UpdatePartitionStates(ctx, el.Token, map[zkdata.TopicPartition]zkdata.LeaderAndISR{tp0: s0, tp1: s1b, {Topic: "p", Partition: 7}: {Leader: 1}})
	must(t, err)
	if !errors.Is(res[tp0].Err, ErrBadVersion) || res[tp1].Err != nil || res[tp1].State.PartitionEpoch != 2 || !errors.Is(res[zkdata.TopicPartition{Topic: "p", Partition: 7}].Err, ErrNotFound) {
		t.Fatalf("stale update: %+v", res)
	}
	if _, st := e.get("/brokers/topics/p/partitions/0/state"); st.Version != 1 {
		t.Fatalf("the stale write landed: version %d", st.Version)
	}
	e.shape("/brokers/topics/p/partitions/1/state", `{"version":1,"leader":1,"leader_epoch":1,"isr":[1,2],"controller_epoch":1}`)
}

// Many partitions in one call take more than one multi.
func TestPartitionStatesManyMultis(t *testing.T) {
	e := sharedEnv(t)
	c := e.client()
	ctx := ctxT(t)
	el, err := c.ElectController(ctx, 1)
	must(t, err)
	const n = 1200
	a := zkdata.TopicAssignment{Topic: "big", Partitions: map[int32]zkdata.PartitionAssignment{}}
	states := map[zkdata.TopicPartition]zkdata.LeaderAndISR{}
	for p := int32(0); p < n; p++ {
		a.Partitions[p] = zkdata.PartitionAssignment{Replicas: []int32{1}}
		states[zkdata.TopicPartition{Topic: "big", Partition: p}] = zkdata.LeaderAndISR{Leader: 1, ISR: []int32{1}}
	}
	_, err = c.CreateTopic(ctx, a, nil)
	must(t, err)
	res, err := c.CreatePartitionStates(ctx, el.Token, states)
	must(t, err)
	for tp, r := range res {
		if r.Err != nil {
			t.Fatalf("%v: %v", tp, r.Err)
		}
	}
	for tp, s := range states {
		s.LeaderEpoch = 1
		states[tp] = s
	}
	res, err = c.UpdatePartitionStates(ctx, el.Token, states)
	must(t, err)
	if len(res) != n || res[zkdata.TopicPartition{Topic: "big", Partition: n - 1}].State.PartitionEpoch != 1 {
		t.Fatalf("%d results; last %+v", len(res), res[zkdata.TopicPartition{Topic: "big", Partition: n - 1}])
	}
	must(t, c.DeleteTopic(ctx, el.Token, "big"))
	if e.exists("/brokers/topics/big") {
		t.Fatal("topic znodes left after DeleteTopic")
	}
}

// Blocks allocated by several brokers at once never overlap and leave no
// gaps.
func TestProducerIDBlocksConcurrent(t *testing.T) {
	e := sharedEnv(t)
	ctx := ctxT(t)
	const clients, each = 4, 15
	var mu sync.Mutex
	var blocks []zkdata.ProducerIDBlock
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		c := e.client()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				b, err := c.NextProducerIDBlock(ctx, int32(i), ProducerIDBlockSize)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				blocks = append(blocks, b)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slices.SortFunc(blocks, func(a, b zkdata.ProducerIDBlock) int { return int(a.FirstID - b.FirstID) })
	if len(blocks) != clients*each {
		t.Fatalf("%d blocks", len(blocks))
	}
	for i, b := range blocks {
		if b.FirstID != int64(i)*ProducerIDBlockSize || b.Size() != ProducerIDBlockSize {
			t.Fatalf("block %d is %+v: overlap or gap", i, b)
		}
	}
}

// Config overrides and their change notifications: sequential, readable
// from any point.
func TestTopicConfigAndChanges(t *testing.T) {
	e := sharedEnv(t)
	c := e.client()
	ctx := ctxT(t)
	if err := c.SetTopicConfig(ctx, "nope", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("config of a missing topic: %v", err)
	}
	_, err := c.CreateTopic(ctx, zkdata.TopicAssignment{Topic: "cfg", Partitions: map[int32]zkdata.PartitionAssignment{0: {Replicas: []int32{1}}}}, map[string]string{"a": "1"})
	must(t, err)
	if cfg, err := c.TopicConfig(ctx, "cfg"); err != nil || !reflect.DeepEqual(cfg, map[string]string{"a": "1"}) {
		t.Fatalf("TopicConfig = %v, %v", cfg, err)
	}
	if cfg, err := c.TopicConfig(ctx, "other"); err != nil || len(cfg) != 0 {
		t.Fatalf("config of a topic without overrides: %v, %v", cfg, err)
	}
	for i := 0; i < 3; i++ {
		must(t, c.SetTopicConfig(ctx, "cfg", map[string]string{"a": fmt.Sprint(i)}))
	}
	all, err := c.ConfigChangesSince(ctx, -1)
	must(t, err)
	if len(all) != 3 {
		t.Fatalf("changes %+v", all)
	}
	for i, ch := range all {
		if ch.EntityPath != "topics/cfg" || (i > 0 && ch.Seq <= all[i-1].Seq) {
			t.Fatalf("changes %+v", all)
		}
	}
	later, err := c.ConfigChangesSince(ctx, all[1].Seq)
	must(t, err)
	if len(later) != 1 || later[0] != all[2] {
		t.Fatalf("changes after %d: %+v", all[1].Seq, later)
	}
	if cfg, _ := c.TopicConfig(ctx, "cfg"); cfg["a"] != "2" {
		t.Fatalf("config %v", cfg)
	}
}

// TestBrokerConfig: a broker's dynamic configs in /config/brokers/<id>,
// in Kafka's JSON, announced as "brokers/<id>".
func TestBrokerConfig(t *testing.T) {
	e := sharedEnv(t)
	c := e.client()
	ctx := ctxT(t)
	if cfg, err := c.BrokerConfig(ctx, 2); err != nil || len(cfg) != 0 {
		t.Fatalf("a broker never configured: %v, %v", cfg, err)
	}
	want := map[string]string{"listener.name.ssl.ssl.keystore.location": "/etc/ks.p12"}
	must(t, c.SetBrokerConfig(ctx, 2, want))
	if cfg, err := c.BrokerConfig(ctx, 2); err != nil || !reflect.DeepEqual(cfg, want) {
		t.Fatalf("BrokerConfig = %v, %v", cfg, err)
	}
	data, _, err := c.get(ctx, "/config/brokers/2")
	must(t, err)
	if string(data) != `{"version":1,"config":{"listener.name.ssl.ssl.keystore.location":"/etc/ks.p12"}}` {
		t.Fatalf("/config/brokers/2 holds %s", data)
	}
	changes, err := c.ConfigChangesSince(ctx, -1)
	must(t, err)
	if len(changes) != 1 || changes[0].EntityPath != "brokers/2" {
		t.Fatalf("changes %+v", changes)
	}
}

// Topic lifecycle: create (with a fresh topic ID), list, add partitions,
// mark for deletion, delete.
func TestTopicLifecycle(t *testing.T) {
	e := sharedEnv(t)
	c := e.client()
	ctx := ctxT(t)
	el, err := c.ElectController(ctx, 1)
	must(t, err)
	a, err := c.CreateTopic(ctx, zkdata.TopicAssignment{Topic: "life", Partitions: map[int32]zkdata.PartitionAssignment{0: {Replicas: []int32{1, 2}}}}, nil)
	must(t, err)
	if a.TopicID.IsZero() {
		t.Fatal("no topic ID assigned")
	}
	if _, err := c.CreateTopic(ctx, a, nil); !errors.Is(err, ErrExists) {
		t.Fatalf("creating it twice: %v", err)
	}
	if _, err := c.CreateTopic(ctx, zkdata.TopicAssignment{Topic: "gap", Partitions: map[int32]zkdata.PartitionAssignment{1: {Replicas: []int32{1}}}}, nil); err == nil {
		t.Fatal("partitions not numbered from 0 were accepted")
	}
	if _, err := c.CreateTopic(ctx, zkdata.TopicAssignment{Topic: "../x", Partitions: map[int32]zkdata.PartitionAssignment{0: {Replicas: []int32{1}}}}, nil); err == nil {
		t.Fatal("a topic name with a slash was accepted")
	}
	must(t, c.AddPartitions(ctx, "life", map[int32][]int32{1: {2, 1}, 2: {1, 2}}))
	if err := c.AddPartitions(ctx, "life", map[int32][]int32{5: {1}}); err == nil {
		t.Fatal("a partition past the end was accepted")
	}
	got, err := c.TopicAssignment(ctx, "life")
	must(t, err)
	if got.TopicID != a.TopicID || len(got.Partitions) != 3 || !slices.Equal(got.Partitions[2].Replicas, []int32{1, 2}) {
		t.Fatalf("assignment %+v", got)
	}
	// The controller's reassignment write: adding and removing replicas.
	got.Partitions[0] = zkdata.PartitionAssignment{Replicas: []int32{1, 2, 3}, AddingReplicas: []int32{3}, RemovingReplicas: []int32{1}}
	must(t, c.SetTopicAssignment(ctx, el.Token, got))
	if again, _ := c.TopicAssignment(ctx, "life"); !reflect.DeepEqual(again, got) {
		t.Fatalf("after SetTopicAssignment: %+v", again)
	}
	topics, err := c.Topics(ctx)
	if err != nil || !slices.Equal(topics, []string{"life"}) {
		t.Fatalf("Topics = %v, %v", topics, err)
	}
	_, err = c.CreatePartitionStates(ctx, el.Token, map[zkdata.TopicPartition]zkdata.LeaderAndISR{{Topic: "life", Partition: 0}: {Leader: 1, ISR: []int32{1}}})
	must(t, err)

	if err := c.MarkTopicForDeletion(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("marking a missing topic: %v", err)
	}
	must(t, c.MarkTopicForDeletion(ctx, "life"))
	if err := c.MarkTopicForDeletion(ctx, "life"); !errors.Is(err, ErrExists) {
		t.Fatalf("marking twice: %v", err)
	}
	marked, err := c.TopicsMarkedForDeletion(ctx)
	if err != nil || !slices.Equal(marked, []string{"life"}) {
		t.Fatalf("marked %v, %v", marked, err)
	}
	must(t, c.DeleteTopic(ctx, el.Token, "life"))
	must(t, c.DeleteTopic(ctx, el.Token, "life")) // again: nothing left, fine
	for _, p := range []string{"/brokers/topics/life", "/config/topics/life", "/admin/delete_topics/life"} {
		if e.exists(p) {
			t.Errorf("%s left after DeleteTopic", p)
		}
	}
	if _, err := c.TopicAssignment(ctx, "life"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted topic: %v", err)
	}
	must(t, c.RemoveDeletionMarkers(ctx, el.Token, "never-marked"))
}

func TestPartitionReassignment(t *testing.T) {
	e := sharedEnv(t)
	c := e.client()
	ctx := ctxT(t)
	el, err := c.ElectController(ctx, 1)
	must(t, err)
	if r, err := c.PartitionReassignment(ctx); err != nil || len(r) != 0 {
		t.Fatalf("no reassignment: %v, %v", r, err)
	}
	want := map[zkdata.TopicPartition][]int32{{Topic: "a", Partition: 0}: {1, 2}, {Topic: "b", Partition: 3}: {3}}
	must(t, c.CreatePartitionReassignment(ctx, want))
	if err := c.CreatePartitionReassignment(ctx, want); !errors.Is(err, ErrExists) {
		t.Fatalf("second reassignment: %v", err)
	}
	if r, err := c.PartitionReassignment(ctx); err != nil || !reflect.DeepEqual(r, want) {
		t.Fatalf("reassignment %v, %v", r, err)
	}
	delete(want, zkdata.TopicPartition{Topic: "a", Partition: 0})
	must(t, c.SetPartitionReassignment(ctx, el.Token, want))
	if r, _ := c.PartitionReassignment(ctx); !reflect.DeepEqual(r, want) {
		t.Fatalf("after set: %v", r)
	}
	must(t, c.DeletePartitionReassignment(ctx, el.Token))
	must(t, c.DeletePartitionReassignment(ctx, el.Token))
	if e.exists(zkdata.ReassignPartitionsPath) {
		t.Fatal("reassignment znode left")
	}
	must(t, c.SetPartitionReassignment(ctx, el.Token, want)) // creates
	if !e.exists(zkdata.ReassignPartitionsPath) {
		t.Fatal("SetPartitionReassignment did not create the znode")
	}
}

// Brokers racing to create the cluster ID agree on one.
func TestClusterIDRace(t *testing.T) {
	e := sharedEnv(t)
	ctx := ctxT(t)
	if _, err := e.client().ClusterID(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cluster id before any: %v", err)
	}
	ids := make([]string, 4)
	var wg sync.WaitGroup
	for i := range ids {
		c := e.client()
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := c.GetOrCreateClusterID(ctx)
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] || id == "" {
			t.Fatalf("cluster ids %v", ids)
		}
	}
}

// Garbage in any znode is an error naming the znode, never a panic or a
// value.
func TestGarbageZnodes(t *testing.T) {
	e := sharedEnv(t)
	c := e.client()
	ctx := ctxT(t)
	garbage := []byte("\x00not json{")
	e.set("/brokers/ids/5", garbage)
	e.set("/brokers/topics/g", garbage)
	e.set("/brokers/topics/g/partitions/0/state", garbage)
	e.set("/controller", garbage)
	e.set("/controller_epoch", garbage)
	e.set("/cluster/id", garbage)
	e.set("/latest_producer_id_block", garbage)
	e.set("/config/topics/g", garbage)
	e.set("/config/changes/config_change_0000000000", garbage)
	e.set("/admin/reassign_partitions", garbage)
	for path, f := range map[string]func() error{
		"/brokers/ids/5":    func() error { _, err := c.Broker(ctx, 5); return err },
		"/brokers/ids/5 ":   func() error { _, err := c.Brokers(ctx); return err },
		"/brokers/topics/g": func() error { _, err := c.TopicAssignment(ctx, "g"); return err },
		"/brokers/topics/g/partitions/0/state": func() error {
			_, err := c.PartitionStates(ctx, []zkdata.TopicPartition{{Topic: "g", Partition: 0}})
			return err
		},
		"/controller":                              func() error { _, err := c.Controller(ctx); return err },
		"/controller_epoch":                        func() error { _, err := c.ReadControllerEpoch(ctx); return err },
		"/controller_epoch ":                       func() error { _, err := c.ElectController(ctx, 1); return err },
		"/cluster/id":                              func() error { _, err := c.GetOrCreateClusterID(ctx); return err },
		"/latest_producer_id_block":                func() error { _, err := c.NextProducerIDBlock(ctx, 1, 10); return err },
		"/config/topics/g":                         func() error { _, err := c.TopicConfig(ctx, "g"); return err },
		"/config/changes/config_change_0000000000": func() error { _, err := c.ConfigChangesSince(ctx, -1); return err },
		"/admin/reassign_partitions":               func() error { _, err := c.PartitionReassignment(ctx); return err },
	} {
		path = strings.TrimSpace(path)
		err := f()
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want ErrCorrupt naming the path", path, err)
		}
	}
	// A child of /brokers/ids that is not a number.
	e.raw.Delete(e.chroot+"/brokers/ids/5", -1)
	e.set("/brokers/ids/five", nil)
	if _, err := c.Brokers(ctx); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "/brokers/ids/five") {
		t.Errorf("Brokers with /brokers/ids/five: %v", err)
	}
}

// Watchers deliver the current state, then every change, coalescing bursts
// into the latest state; data watchers see creation and deletion.
func TestWatchers(t *testing.T) {
	e := sharedEnv(t)
	c := e.client()
	ctx := ctxT(t)
	kids := make(chan []string, 100)
	wc := c.WatchChildren(zkdata.BrokerIDsPath, func(k []string) { kids <- k })
	defer wc.Stop()
	next := func(want []string) {
		t.Helper()
		for {
			select {
			case k := <-kids:
				if slices.Equal(k, want) {
					return
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("children watcher never delivered %v", want)
			}
		}
	}
	next([]string{})
	other := e.client()
	_, err := other.RegisterBroker(ctx, zkdata.BrokerInfo{ID: 2, JMXPort: -1})
	must(t, err)
	next([]string{"2"})
	_, err = c.RegisterBroker(ctx, zkdata.BrokerInfo{ID: 3, JMXPort: -1})
	must(t, err)
	next([]string{"2", "3"})
	other.Close()
	next([]string{"3"})

	type snap struct {
		data string
		st   *Stat
	}
	snaps := make(chan snap, 100)
	wd := c.WatchData(zkdata.ControllerPath, func(d []byte, st *Stat) { snaps <- snap{string(d), st} })
	defer wd.Stop()
	want := func(pred func(snap) bool, what string) {
		t.Helper()
		for {
			select {
			case s := <-snaps:
				if pred(s) {
					return
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("data watcher never delivered %s", what)
			}
		}
	}
	want(func(s snap) bool { return s.st == nil }, "an absent /controller")
	el, err := c.ElectController(ctx, 3)
	must(t, err)
	want(func(s snap) bool { return s.st != nil && strings.Contains(s.data, `"brokerid":3`) }, "the controller")
	must(t, c.Resign(ctx, el.Token))
	want(func(s snap) bool { return s.st == nil }, "/controller deleted")

	wc.Stop()
	wc.Stop() // twice is fine
}

// ZooKeeper restarted (and killed) under a client: the session survives,
// so do its ephemerals; calls made while ZooKeeper is down complete once it
// is back.
func TestZooKeeperRestart(t *testing.T) {
	srv := zktest.Start(t)
	e := newEnv(t, srv)
	// The session must outlive the restart of a JVM, which takes seconds,
	// and tens of them on a loaded machine: the test waits for no expiry.
	c := e.connect(srv.Addr(), 20*time.Second)
	ctx := ctxT(t)
	epoch, err := c.RegisterBroker(ctx, zkdata.BrokerInfo{ID: 1, JMXPort: -1})
	must(t, err)
	sid := c.SessionID()

	srv.Restart()
	// Each call gets its own deadline: restarting a JVM takes seconds of
	// the budget on a loaded machine.
	b, err := c.Broker(ctxT(t), 1)
	if err != nil || b.Epoch != epoch {
		t.Fatalf("after restart: %+v, %v", b, err)
	}

	srv.Kill()
	done := make(chan error, 1)
	callCtx := ctxT(t)
	go func() {
		_, err := c.CreateTopic(callCtx, zkdata.TopicAssignment{Topic: "during", Partitions: map[int32]zkdata.PartitionAssignment{0: {Replicas: []int32{1}}}}, nil)
		done <- err
	}()
	srv.Start()
	if err := <-done; err != nil {
		t.Fatalf("a call made while ZooKeeper was down: %v", err)
	}
	if c.SessionID() != sid {
		t.Fatalf("session %s became %s", hex(sid), hex(c.SessionID()))
	}
	if _, err := c.TopicAssignment(ctxT(t), "during"); err != nil {
		t.Fatal(err)
	}
}

// A write that reaches ZooKeeper while its reply is lost: the client
// re-reads, sees its own write, and reports success instead of writing
// again (which would fail with a bad version, or elect twice).
func TestLostReplies(t *testing.T) {
	e := sharedEnv(t)
	p := zktest.NewProxy(t, e.srv.Addr())
	c := e.connect(p.Addr(), 4*time.Second)
	ctx := ctxT(t)

	lose := func(what string, applied func() bool, call func() error) {
		t.Helper()
		p.DropWriteReplies()
		done := make(chan error, 1)
		go func() { done <- call() }()
		waitFor(t, what+" to reach ZooKeeper", 10*time.Second, applied)
		p.Heal()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s with a lost reply: %v", what, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s did not return", what)
		}
	}

	e.set(zkdata.ControllerEpochPath, []byte("0")) // else the election's first write creates it
	var el Election
	lose("the election", func() bool { return e.exists("/controller") }, func() (err error) {
		el, err = c.ElectController(ctx, 1)
		return err
	})
	if !el.Won || el.Token.Epoch != 1 {
		t.Fatalf("election with a lost reply: %+v", el)
	}

	_, err := c.CreateTopic(ctx, zkdata.TopicAssignment{Topic: "lost", Partitions: map[int32]zkdata.PartitionAssignment{0: {Replicas: []int32{1}}}}, nil)
	must(t, err)
	tp := zkdata.TopicPartition{Topic: "lost", Partition: 0}
	_, err = c.CreatePartitionStates(ctx, el.Token, map[zkdata.TopicPartition]zkdata.LeaderAndISR{tp: {Leader: 1, ISR: []int32{1}}})
	must(t, err)
	var res map[zkdata.TopicPartition]PartitionResult
	lose("the state update", func() bool {
		_, st := e.get("/brokers/topics/lost/partitions/0/state")
		return st.Version == 1
	}, func() (err error) {
		res, err = c.UpdatePartitionStates(ctx, el.Token, map[zkdata.TopicPartition]zkdata.LeaderAndISR{tp: {Leader: 1, LeaderEpoch: 1, ISR: []int32{1}}})
		return err
	})
	if res[tp].Err != nil || res[tp].State.PartitionEpoch != 1 {
		t.Fatalf("update with a lost reply: %+v", res[tp])
	}

	var blk zkdata.ProducerIDBlock
	lose("the producer id block", func() bool {
		_, st := e.get(zkdata.ProducerIDBlockPath)
		return st.Version == 1
	}, func() (err error) {
		blk, err = c.NextProducerIDBlock(ctx, 1, 10)
		return err
	})
	if blk != (zkdata.ProducerIDBlock{BrokerID: 1, FirstID: 0, LastID: 9}) {
		t.Fatalf("block with a lost reply: %+v", blk)
	}
	if next, err := c.NextProducerIDBlock(ctx, 1, 10); err != nil || next.FirstID != 10 {
		t.Fatalf("next block %+v, %v", next, err)
	}

	var epoch int64
	lose("the registration", func() bool { return e.exists("/brokers/ids/4") }, func() (err error) {
		epoch, err = c.RegisterBroker(ctx, zkdata.BrokerInfo{ID: 4, JMXPort: -1})
		return err
	})
	if _, st := e.get("/brokers/ids/4"); st.Czxid != epoch || st.EphemeralOwner != c.SessionID() {
		t.Fatalf("registration with a lost reply: epoch %d, znode czxid %d owner %s", epoch, st.Czxid, hex(st.EphemeralOwner))
	}
}

// A chroot in zookeeper.connect is created and confines every znode.
func TestChroot(t *testing.T) {
	srv := zktest.Shared(t)
	root := zktest.Chroot(t)
	ctx := ctxT(t)
	c1, err := Connect(ctx, Config{Connect: srv.Addr() + root + "/a", SessionTimeout: 4 * time.Second})
	must(t, err)
	defer c1.Close()
	c2, err := Connect(ctx, Config{Connect: srv.Addr() + root + "/b", SessionTimeout: 4 * time.Second})
	must(t, err)
	defer c2.Close()
	_, err = c1.RegisterBroker(ctx, zkdata.BrokerInfo{ID: 1, JMXPort: -1})
	must(t, err)
	_, err = c2.RegisterBroker(ctx, zkdata.BrokerInfo{ID: 1, JMXPort: -1})
	if err != nil {
		t.Fatalf("the same id in another chroot: %v", err)
	}
	raw := rawConn(t, srv.Addr())
	for _, p := range []string{root + "/a/brokers/ids/1", root + "/b/brokers/ids/1"} {
		if ok, _, err := raw.Exists(p); err != nil || !ok {
			t.Fatalf("%s missing: %v", p, err)
		}
	}
	if _, err := Connect(ctx, Config{Connect: srv.Addr() + "/bad/"}); err == nil {
		t.Fatal("a chroot ending in / was accepted")
	}
	if _, err := Connect(ctx, Config{Connect: "/only-chroot"}); err == nil {
		t.Fatal("a connect string without servers was accepted")
	}
}

// Connect gives up after the connection timeout when nothing answers.
func TestConnectTimeout(t *testing.T) {
	start := time.Now()
	_, err := Connect(context.Background(), Config{Connect: "127.0.0.1:1", SessionTimeout: time.Second, ConnectionTimeout: 500 * time.Millisecond})
	if !errors.Is(err, ErrNotConnected) || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}

// An ephemeral left by an earlier session of this client (ZooKeeper has not
// removed it yet) is replaced; the same znode held by a session that was
// never ours is not. The leftover is made by a second connection whose
// session the client is told it once had.
func TestReplaceOwnStaleEphemerals(t *testing.T) {
	e := sharedEnv(t)
	c := e.client()
	ctx := ctxT(t)
	stale := rawConn(t, e.srv.Addr())
	e.set(zkdata.BrokerIDsPath, nil)
	for _, p := range []string{zkdata.BrokerPath(1), zkdata.ControllerPath} {
		if _, err := stale.Create(e.chroot+p, []byte(`{"version":2,"brokerid":9,"jmx_port":-1,"endpoints":[]}`), zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.RegisterBroker(ctx, zkdata.BrokerInfo{ID: 1, JMXPort: -1}); !errors.Is(err, ErrBrokerIDInUse) {
		t.Fatalf("registration over a stranger's znode: %v", err)
	}
	if el, err := c.ElectController(ctx, 1); err != nil || el.Won || el.ControllerID != 9 {
		t.Fatalf("election against a stranger's /controller: %+v, %v", el, err)
	}

	c.mu.Lock()
	c.sessions[stale.SessionID()] = struct{}{} // as if it had been ours before an expiry
	c.mu.Unlock()
	epoch, err := c.RegisterBroker(ctx, zkdata.BrokerInfo{ID: 1, JMXPort: -1})
	must(t, err)
	if _, st := e.get(zkdata.BrokerPath(1)); st.EphemeralOwner != c.SessionID() || st.Czxid != epoch {
		t.Fatalf("registration owner %s czxid %d; want %s, %d", hex(st.EphemeralOwner), st.Czxid, hex(c.SessionID()), epoch)
	}
	el, err := c.ElectController(ctx, 1)
	if err != nil || !el.Won {
		t.Fatalf("election over our stale /controller: %+v, %v", el, err)
	}
	if _, st := e.get(zkdata.ControllerPath); st.EphemeralOwner != c.SessionID() {
		t.Fatalf("/controller owned by %s", hex(st.EphemeralOwner))
	}
}
