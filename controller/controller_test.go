package controller

// The controller's decisions, checked in ZooKeeper: a real ZooKeeper
// server (internal/zktest), brokers registered by their own sessions (no
// broker processes: the requests the controller sends them go nowhere and
// are retried, which does not change what it writes). Each test reads back
// the partition state znodes the controller wrote.

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"samsa/internal/zktest"
	"samsa/metadata/kafkazk"
	"samsa/metadata/kafkazk/zkdata"
)

func TestMain(m *testing.M) { zktest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type cluster struct {
	t       *testing.T
	connect string
	admin   *kafkazk.Client
	brokers map[int32]*kafkazk.Client
	ctls    map[int32]*Controller
}

func newCluster(t *testing.T) *cluster {
	srv := zktest.Shared(t)
	c := &cluster{t: t, connect: srv.ConnectString(t), brokers: map[int32]*kafkazk.Client{}, ctls: map[int32]*Controller{}}
	c.admin = c.client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.admin.CreateTopLevelPaths(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *cluster) client() *kafkazk.Client {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	zk, err := kafkazk.Connect(ctx, kafkazk.Config{Connect: c.connect, SessionTimeout: 2 * time.Second, Logger: quiet})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { zk.Close() })
	return zk
}

// start registers broker id (listening nowhere) and runs its controller
// candidate.
func (c *cluster) start(id int32, opts ...func(*Config)) {
	c.t.Helper()
	zk := c.client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := zk.RegisterBroker(ctx, zkdata.BrokerInfo{ID: id, Endpoints: []zkdata.Endpoint{
		{Listener: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: "127.0.0.1", Port: 1}}}); err != nil {
		c.t.Fatal(err)
	}
	cfg := Config{BrokerID: id, ZK: zk, Logger: quiet, Listener: "PLAINTEXT", DeleteTopicEnable: true, RequestTimeout: 2 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	ctl := New(cfg)
	ctl.Start()
	c.brokers[id], c.ctls[id] = zk, ctl
	c.t.Cleanup(ctl.Stop)
}

// kill ends broker id's session: its registration and, if it was the
// controller, /controller vanish at once.
func (c *cluster) kill(id int32) {
	c.ctls[id].Stop()
	c.brokers[id].Close()
	delete(c.ctls, id)
	delete(c.brokers, id)
}

// eventually polls cond until it holds or 15 s pass.
func (c *cluster) eventually(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *cluster) controller() int32 {
	for id, ctl := range c.ctls {
		if ctl.IsActive() {
			return id
		}
	}
	return -1
}

func (c *cluster) states(topic string, n int) map[int32]zkdata.LeaderAndISR {
	c.t.Helper()
	var tps []zkdata.TopicPartition
	for p := range n {
		tps = append(tps, zkdata.TopicPartition{Topic: topic, Partition: int32(p)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := c.admin.PartitionStates(ctx, tps)
	if err != nil {
		return nil
	}
	out := map[int32]zkdata.LeaderAndISR{}
	for tp, st := range got {
		out[tp.Partition] = st
	}
	return out
}

func (c *cluster) createTopic(name string, replicas ...[]int32) {
	c.t.Helper()
	a := zkdata.TopicAssignment{Topic: name, Partitions: map[int32]zkdata.PartitionAssignment{}}
	for i, r := range replicas {
		a.Partitions[int32(i)] = zkdata.PartitionAssignment{Replicas: r}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.admin.CreateTopic(ctx, a, map[string]string{}); err != nil {
		c.t.Fatal(err)
	}
}

// TestElectionAndFailover: one controller among three candidates; the
// first live replica leads a new partition with every live replica in
// sync; a dead leader's partitions go to the next in-sync replica with
// the leader epoch + 1, a dead follower leaves the ISR; when the
// controller dies another takes over with a higher epoch and keeps
// deciding.
func TestElectionAndFailover(t *testing.T) {
	c := newCluster(t)
	for _, id := range []int32{1, 2, 3} {
		c.start(id)
	}
	c.eventually("a controller", func() bool { return c.controller() >= 0 })
	first := c.controller()
	for id, ctl := range c.ctls {
		c.eventually("every candidate to know the controller", func() bool { return ctl.ControllerID() == first })
		_ = id
	}
	c.createTopic("t", []int32{1, 2, 3}, []int32{2, 3, 1}, []int32{3, 1, 2})
	c.eventually("the partitions' first states", func() bool { return len(c.states("t", 3)) == 3 })
	for p, st := range c.states("t", 3) {
		if want := []int32{1, 2, 3}[p]; st.Leader != want || st.LeaderEpoch != 0 || len(st.ISR) != 3 {
			t.Errorf("partition %d: %+v, want leader %d epoch 0 and all three in sync", p, st, want)
		}
	}
	// Kill a broker that is not the controller.
	victim := int32(1)
	if victim == first {
		victim = 2
	}
	c.kill(victim)
	c.eventually("leaderships to move off the dead broker", func() bool {
		for _, st := range c.states("t", 3) {
			if st.Leader == victim || slices.Contains(st.ISR, victim) {
				return false
			}
		}
		return true
	})
	for p, st := range c.states("t", 3) {
		if st.LeaderEpoch != 1 || len(st.ISR) != 2 {
			t.Errorf("after broker %d died, partition %d: %+v, want epoch 1 and two in sync", victim, p, st)
		}
	}
	// Kill the controller: another takes over and fails its partitions
	// over too; the last in-sync replica of a partition stays in its ISR.
	if first == victim {
		t.Fatal("the controller was killed as the victim")
	}
	c.kill(first)
	c.eventually("a new controller", func() bool { return c.controller() >= 0 })
	survivor := c.controller()
	c.eventually("every partition led by the survivor", func() bool {
		for _, st := range c.states("t", 3) {
			if st.Leader != survivor || !slices.Equal(st.ISR, []int32{survivor}) {
				return false
			}
		}
		return true
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tok, err := c.admin.ReadControllerEpoch(ctx)
	if err != nil || tok.Epoch < 2 {
		t.Fatalf("controller epoch %+v, %v: want at least 2 after a failover", tok, err)
	}
}

// TestOfflineAndUnclean: with one replica and it dead, a partition has no
// leader and keeps its last in-sync replica; it comes back when that
// replica returns. A partition whose in-sync replica is dead while an
// out-of-sync one lives stays offline unless unclean election is enabled.
func TestOfflineAndUnclean(t *testing.T) {
	c := newCluster(t)
	c.start(1)
	c.start(2)
	c.eventually("a controller", func() bool { return c.controller() >= 0 })
	ctlID := c.controller()
	other := int32(3) - ctlID // the broker that is not the controller
	c.createTopic("single", []int32{other})
	c.eventually("the first state", func() bool { return len(c.states("single", 1)) == 1 })
	c.kill(other)
	c.eventually("the partition offline", func() bool {
		st := c.states("single", 1)[0]
		return st.Leader == zkdata.NoLeader && slices.Equal(st.ISR, []int32{other})
	})
	c.start(other)
	c.eventually("the partition back with its replica", func() bool {
		st := c.states("single", 1)[0]
		return st.Leader == other
	})

	// Replicas [other, ctl], in sync only other (as after the controller's
	// broker fell behind): other dies.
	c.createTopic("stale", []int32{other, ctlID})
	c.eventually("the first state", func() bool { return len(c.states("stale", 1)) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st := c.states("stale", 1)[0]
	st.ISR = []int32{other}
	tok, _ := c.admin.ReadControllerEpoch(ctx)
	if _, err := c.admin.UpdatePartitionStates(ctx, tok, map[zkdata.TopicPartition]zkdata.LeaderAndISR{{Topic: "stale", Partition: 0}: st}); err != nil {
		t.Fatal(err)
	}
	// The controller learns the written state when it next reads it: a
	// failover makes it read everything. Restart the candidate to force it.
	c.ctls[ctlID].Stop()
	ctl := New(Config{BrokerID: ctlID, ZK: c.brokers[ctlID], Logger: quiet, Listener: "PLAINTEXT", DeleteTopicEnable: true, RequestTimeout: 2 * time.Second})
	c.ctls[ctlID] = ctl
	ctl.Start()
	t.Cleanup(ctl.Stop)
	c.eventually("a controller again", func() bool { return c.controller() >= 0 })
	c.kill(other)
	c.eventually("the stale partition offline (clean elections only)", func() bool {
		st := c.states("stale", 1)[0]
		return st.Leader == zkdata.NoLeader
	})
	if st := c.states("stale", 1)[0]; !slices.Equal(st.ISR, []int32{other}) {
		t.Fatalf("offline partition's ISR %v, want the last in-sync replica [%d]", st.ISR, other)
	}
}
