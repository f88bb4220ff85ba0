package itest

// The replication tests' harness: a ZooKeeper-mode cluster of samsa brokers
// on the package's shared ZooKeeper (a chroot per test), tuned so that
// failures are noticed in seconds; the signals the tests send (SIGTERM,
// SIGKILL, SIGSTOP/SIGCONT); the cluster's state read from ZooKeeper's
// znodes (what the controller committed) and from the brokers' Metadata
// (what clients see); and conditions polled against a deadline.
//
// A failed test prints the tail of every broker's log; REPL_LOGS=1 prints
// them for passing tests too.
//
// Names here start with repl: other test files build their own cluster
// harness.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/zktest"
)

// Timing of the brokers under test: a dead broker's session expires in 3 s
// and a silent follower leaves the ISR after 3 s, so that each failure
// costs seconds; followers long-poll for 100 ms so that acks=all answers
// in about one round trip.
const (
	replSession = 3 * time.Second
	replLag     = 3 * time.Second
	// replWait bounds every wait for the cluster to converge: a few
	// session timeouts, with room for a loaded two-core machine.
	replWait = 45 * time.Second
)

// replCluster is a ZooKeeper-mode cluster under test.
type replCluster struct {
	t      testing.TB
	chroot string
	nodes  []*replNode // nodes[i] has broker.id i+1
	zk     *zk.Conn    // a plain ZooKeeper client, outside the chroot
}

// replNode is one broker of a replCluster.
type replNode struct {
	*broker
	id int32
}

// replStartCluster starts n brokers (ids 1..n) in parallel on the shared
// ZooKeeper and waits until all are registered and a controller is
// elected. overrides apply to every broker, after the defaults.
func replStartCluster(t testing.TB, n int, overrides ...string) *replCluster {
	t.Helper()
	srv := zktest.Shared(t)
	c := &replCluster{t: t, chroot: zktest.Chroot(t)}
	conn, _, err := zk.Connect([]string{srv.Addr()}, 10*time.Second, zk.WithLogger(quietZK{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	c.zk = conn
	for id := int32(1); id <= int32(n); id++ {
		base := []string{
			"broker.id=" + strconv.Itoa(int(id)),
			"zookeeper.connect=" + srv.Addr() + c.chroot,
			"zookeeper.session.timeout.ms=" + strconv.Itoa(int(replSession.Milliseconds())),
			"replica.lag.time.max.ms=" + strconv.Itoa(int(replLag.Milliseconds())),
			"replica.fetch.wait.max.ms=100",
			"replica.fetch.backoff.ms=100",
			"replica.socket.timeout.ms=5000",
			"controlled.shutdown.retry.backoff.ms=100",
			"controller.socket.timeout.ms=5000",
			"offsets.topic.num.partitions=3",
			"group.initial.rebalance.delay.ms=0",
			"group.min.session.timeout.ms=500",
			"auto.leader.rebalance.enable=false",
		}
		b := &broker{t: t, dir: t.TempDir(), overrides: append(base, overrides...), log: &lockedBuffer{}}
		b.addr, b.adminAddr = freeAddr(t), freeAddr(t)
		node := &replNode{broker: b, id: id}
		t.Cleanup(func() {
			if b.running() {
				if node.paused {
					b.cmd.Process.Signal(syscall.SIGCONT)
				}
				b.cmd.Process.Kill()
				<-b.exited
			}
			if t.Failed() || os.Getenv("REPL_LOGS") != "" {
				t.Logf("broker %d log (%s):\n%s", id, b.dir, replTail(b.log.String(), 400))
			}
		})
		c.nodes = append(c.nodes, node)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, nd := range c.nodes {
		wg.Go(func() { errs[i] = nd.start() })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("broker %d did not start: %v", i+1, err)
		}
	}
	c.waitFor("every broker registered and a controller elected", replWait, func() (bool, string) {
		ids := c.registered()
		ctl := c.controller()
		return len(ids) == n && ctl > 0, fmt.Sprintf("registered %v, controller %d", ids, ctl)
	})
	c.waitBrokersKnown()
	return c
}

// waitBrokersKnown waits until every running, unpaused broker's metadata
// lists every registered broker and the controller (a broker learns them
// from the controller's UpdateMetadata): a request it serves then sees
// the whole cluster.
func (c *replCluster) waitBrokersKnown() {
	c.t.Helper()
	c.waitFor("every broker knowing the cluster", replWait, func() (bool, string) {
		ids := c.registered()
		ctl := c.controller()
		for _, n := range c.nodes {
			if !n.running() || n.paused {
				continue
			}
			req := kmsg.NewPtrMetadataRequest()
			req.SetVersion(12)
			req.Topics = []kmsg.MetadataRequestTopic{}
			resp, err := n.request(req)
			if err != nil {
				return false, fmt.Sprintf("broker %d: %v", n.id, err)
			}
			md := resp.(*kmsg.MetadataResponse)
			var known []int32
			for _, b := range md.Brokers {
				known = append(known, b.NodeID)
			}
			slices.Sort(known)
			if !slices.Equal(known, ids) || md.ControllerID != ctl {
				return false, fmt.Sprintf("broker %d knows brokers %v and controller %d; registered %v, controller %d", n.id, known, md.ControllerID, ids, ctl)
			}
		}
		return true, ""
	})
}

// replTail returns the last n lines of s.
func replTail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// node returns broker id.
func (c *replCluster) node(id int32) *replNode { return c.nodes[id-1] }

// addrs are the Kafka listeners of every broker, running or not: clients
// find the live ones.
func (c *replCluster) addrs() []string {
	var out []string
	for _, n := range c.nodes {
		out = append(out, n.addr)
	}
	return out
}

// client returns a franz-go client seeded with every broker, quick to
// notice leadership changes, closed at the end of the test.
func (c *replCluster) client(opts ...kgo.Opt) *kgo.Client {
	c.t.Helper()
	all := append([]kgo.Opt{
		kgo.SeedBrokers(c.addrs()...),
		kgo.MetadataMinAge(100 * time.Millisecond),
		kgo.MetadataMaxAge(2 * time.Second),
		kgo.RetryBackoffFn(func(int) time.Duration { return 100 * time.Millisecond }),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
	}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(cl.Close)
	return cl
}

// admin returns a kadm client seeded with every broker.
func (c *replCluster) admin() *kadm.Client {
	adm := kadm.NewClient(c.client())
	adm.SetTimeoutMillis(10000)
	return adm
}

// ---- signals

// sigterm stops the broker cleanly (controlled shutdown first) and checks
// its clean exit.
func (n *replNode) sigterm() { n.t.Helper(); n.stop() }

// sigkill kills the broker: no shutdown work at all.
func (n *replNode) sigkill() { n.t.Helper(); n.kill() }

// restartAfter starts a stopped broker again on its data directory and
// ports once ZooKeeper has dropped its old registration (a hard-killed
// broker's lasts until its session expires; a new process cannot take it
// over, in Kafka as here).
func (c *replCluster) restart(n *replNode) {
	c.t.Helper()
	c.waitFor(fmt.Sprintf("broker %d deregistered", n.id), replWait, func() (bool, string) {
		return !slices.Contains(c.registered(), n.id), fmt.Sprintf("registered %v", c.registered())
	})
	n.restart()
	c.waitFor(fmt.Sprintf("broker %d registered again", n.id), replWait, func() (bool, string) {
		return slices.Contains(c.registered(), n.id), fmt.Sprintf("registered %v", c.registered())
	})
	c.waitBrokersKnown()
}

// ---- ZooKeeper's view: what the controller committed

func (c *replCluster) zpath(p string) string { return path.Join(c.chroot, p) }

// registered returns the broker IDs under /brokers/ids.
func (c *replCluster) registered() []int32 {
	kids, _, err := c.zk.Children(c.zpath("/brokers/ids"))
	if err != nil {
		return nil
	}
	var out []int32
	for _, k := range kids {
		if id, err := strconv.Atoi(k); err == nil {
			out = append(out, int32(id))
		}
	}
	slices.Sort(out)
	return out
}

// controller returns the broker /controller names, -1 if none.
func (c *replCluster) controller() int32 {
	data, _, err := c.zk.Get(c.zpath("/controller"))
	if err != nil {
		return -1
	}
	var v struct {
		BrokerID int32 `json:"brokerid"`
	}
	if json.Unmarshal(data, &v) != nil {
		return -1
	}
	return v.BrokerID
}

// replState is a partition's state znode.
type replState struct {
	Leader      int32   `json:"leader"`
	LeaderEpoch int32   `json:"leader_epoch"`
	ISR         []int32 `json:"isr"`
	Version     int32   `json:"-"` // the partition epoch
}

// state reads a partition's state znode; ok is false while it is absent.
func (c *replCluster) state(topic string, p int32) (replState, bool) {
	data, stat, err := c.zk.Get(c.zpath(fmt.Sprintf("/brokers/topics/%s/partitions/%d/state", topic, p)))
	if err != nil {
		return replState{}, false
	}
	var st replState
	if json.Unmarshal(data, &st) != nil {
		return replState{}, false
	}
	st.Version = stat.Version
	slices.Sort(st.ISR)
	return st, true
}

// replicas reads a topic's assignment: each partition's replicas in
// assignment order.
func (c *replCluster) replicas(topic string) map[int32][]int32 {
	c.t.Helper()
	data, _, err := c.zk.Get(c.zpath("/brokers/topics/" + topic))
	if err != nil {
		c.t.Fatalf("assignment of %s: %v", topic, err)
	}
	var v struct {
		Partitions map[string][]int32 `json:"partitions"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		c.t.Fatalf("assignment of %s: %v", topic, err)
	}
	out := map[int32][]int32{}
	for k, rs := range v.Partitions {
		p, _ := strconv.Atoi(k)
		out[int32(p)] = rs
	}
	return out
}

// leader returns the partition's leader as ZooKeeper has it, failing the
// test when there is none.
func (c *replCluster) leader(topic string, p int32) *replNode {
	c.t.Helper()
	st, ok := c.state(topic, p)
	if !ok || st.Leader < 1 {
		c.t.Fatalf("%s-%d has no leader: %+v", topic, p, st)
	}
	return c.node(st.Leader)
}

// ---- conditions

// waitFor polls cond until it holds, failing the test with cond's last
// description of the state after timeout.
func (c *replCluster) waitFor(what string, timeout time.Duration, cond func() (bool, string)) {
	c.t.Helper()
	began := time.Now()
	deadline := began.Add(timeout)
	for {
		ok, state := cond()
		if ok {
			if d := time.Since(began); d > 5*time.Second {
				c.t.Logf("waited %v for %s", d.Round(time.Millisecond), what)
			}
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("waiting %v for %s: %s", timeout, what, state)
		}
		time.Sleep(50 * time.Millisecond) // poll interval
	}
}

// createTopic creates a topic through the controller's assignment
// (assignment nil) or an explicit one, and waits until every partition
// has a leader that every running broker's metadata names.
func (c *replCluster) createTopic(name string, partitions int32, rf int16, configs map[string]string, assignment map[int32][]int32) {
	c.t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 10000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, partitions, rf
	if assignment != nil {
		rt.NumPartitions, rt.ReplicationFactor = -1, -1
		for p := int32(0); p < partitions; p++ {
			a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
			a.Partition, a.Replicas = p, assignment[p]
			rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
		}
	}
	for k, v := range configs {
		cfg := kmsg.NewCreateTopicsRequestTopicConfig()
		cfg.Name, cfg.Value = k, kmsg.StringPtr(v)
		rt.Configs = append(rt.Configs, cfg)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), c.client())
	if err != nil {
		c.t.Fatalf("create topic %s: %v", name, err)
	}
	if rt := resp.Topics[0]; rt.ErrorCode != 0 {
		msg := ""
		if rt.ErrorMessage != nil {
			msg = *rt.ErrorMessage
		}
		c.t.Fatalf("create topic %s: %v: %s", name, kerr.ErrorForCode(rt.ErrorCode), msg)
	}
	c.waitMetadata(name, partitions)
}

// waitMetadata waits until every running, unpaused broker's metadata
// lists the topic's partitions each with a leader, the one ZooKeeper
// names.
func (c *replCluster) waitMetadata(topic string, partitions int32) {
	c.t.Helper()
	c.waitFor("leaders of "+topic+" known to every broker", replWait, func() (bool, string) {
		for _, n := range c.nodes {
			if !n.running() || n.paused {
				continue
			}
			md, err := n.metadata(topic)
			if err != nil {
				return false, fmt.Sprintf("broker %d: %v", n.id, err)
			}
			if len(md.Topics) != 1 || md.Topics[0].ErrorCode != 0 || int32(len(md.Topics[0].Partitions)) != partitions {
				return false, fmt.Sprintf("broker %d: %+v", n.id, md.Topics)
			}
			for _, p := range md.Topics[0].Partitions {
				st, ok := c.state(topic, p.Partition)
				if p.ErrorCode != 0 || p.Leader < 0 || !ok || p.Leader != st.Leader || p.LeaderEpoch != st.LeaderEpoch {
					return false, fmt.Sprintf("broker %d: partition %d leader %d epoch %d error %d; ZooKeeper %+v", n.id, p.Partition, p.Leader, p.LeaderEpoch, p.ErrorCode, st)
				}
			}
		}
		return true, ""
	})
}

// waitInSync waits until every partition of the topic has a leader and
// all its replicas in the ISR, in ZooKeeper and in every running
// broker's metadata.
func (c *replCluster) waitInSync(topic string) {
	c.t.Helper()
	reps := c.replicas(topic)
	c.waitFor(topic+" fully in sync", replWait, func() (bool, string) {
		for p, rs := range reps {
			st, ok := c.state(topic, p)
			want := slices.Sorted(slices.Values(rs))
			if !ok || st.Leader < 1 || !slices.Equal(st.ISR, want) {
				return false, fmt.Sprintf("partition %d: %+v, replicas %v", p, st, rs)
			}
		}
		for _, n := range c.nodes {
			if !n.running() || n.paused {
				continue
			}
			md, err := n.metadata(topic)
			if err != nil || len(md.Topics) != 1 {
				return false, fmt.Sprintf("broker %d: metadata %v", n.id, err)
			}
			for _, p := range md.Topics[0].Partitions {
				isr := slices.Sorted(slices.Values(p.ISR))
				if p.Leader < 0 || len(isr) != len(reps[p.Partition]) {
					return false, fmt.Sprintf("broker %d: partition %d leader %d isr %v", n.id, p.Partition, p.Leader, isr)
				}
			}
		}
		return true, ""
	})
}

// ---- the logs on disk

// replLogBytes returns a replica's log: its segment files concatenated in
// offset order. Replicas of one partition hold the same batches byte for
// byte (the leader's bytes, offsets and leader epochs included), so their
// concatenations are equal even if they rolled segments at other places.
func replLogBytes(dir, topic string, p int32) ([]byte, error) {
	pd := filepath.Join(dir, fmt.Sprintf("%s-%d", topic, p))
	names, err := filepath.Glob(filepath.Join(pd, "*.log"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []byte
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, data...)
	}
	return out, nil
}

// replBatch is one batch's header fields, for reports.
type replBatch struct {
	Base  int64
	Last  int64
	Epoch int32
	Size  int
}

// replBatches lists the batches of a log's bytes.
func replBatches(b []byte) ([]replBatch, error) {
	var out []replBatch
	for pos := 0; pos < len(b); {
		if len(b)-pos < 61 {
			return out, fmt.Errorf("torn batch header at byte %d", pos)
		}
		base := int64(binary.BigEndian.Uint64(b[pos:]))
		size := 12 + int(int32(binary.BigEndian.Uint32(b[pos+8:])))
		if size < 61 || pos+size > len(b) {
			return out, fmt.Errorf("torn batch at byte %d (size %d)", pos, size)
		}
		epoch := int32(binary.BigEndian.Uint32(b[pos+12:]))
		delta := int32(binary.BigEndian.Uint32(b[pos+23:]))
		out = append(out, replBatch{Base: base, Last: base + int64(delta), Epoch: epoch, Size: size})
		pos += size
	}
	return out, nil
}

// replDiff describes where two logs stop agreeing.
func replDiff(a, b []byte) string {
	ba, ea := replBatches(a)
	bb, eb := replBatches(b)
	i := 0
	for i < len(ba) && i < len(bb) && ba[i] == bb[i] {
		i++
	}
	var s strings.Builder
	fmt.Fprintf(&s, "%d vs %d bytes, %d vs %d batches (errors %v, %v); first %d batches agree in header", len(a), len(b), len(ba), len(bb), ea, eb, i)
	for k := i; k < i+3; k++ {
		var x, y any = "-", "-"
		if k < len(ba) {
			x = ba[k]
		}
		if k < len(bb) {
			y = bb[k]
		}
		fmt.Fprintf(&s, "\n  batch %d: %+v | %+v", k, x, y)
	}
	if i == len(ba) && i == len(bb) {
		fmt.Fprintf(&s, "\n  headers agree; the bytes differ inside a batch")
	}
	return s.String()
}

// replEpochs reads a replica's leader-epoch-checkpoint: epoch → start
// offset, in file order.
func replEpochs(dir, topic string, p int32) ([][2]int64, error) {
	data, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%s-%d", topic, p), "leader-epoch-checkpoint"))
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 2 || lines[0] != "0" {
		return nil, fmt.Errorf("leader-epoch-checkpoint: %q", data)
	}
	n, err := strconv.Atoi(lines[1])
	if err != nil || n != len(lines)-2 {
		return nil, fmt.Errorf("leader-epoch-checkpoint: count %q, %d entries", lines[1], len(lines)-2)
	}
	var out [][2]int64
	for _, l := range lines[2:] {
		var e, o int64
		if _, err := fmt.Sscanf(l, "%d %d", &e, &o); err != nil {
			return nil, fmt.Errorf("leader-epoch-checkpoint line %q: %v", l, err)
		}
		out = append(out, [2]int64{e, o})
	}
	return out, nil
}

// waitIdentical waits until every replica of every partition of the topic
// holds the same log bytes as the partition's leader (the writers must be
// quiet), and returns each partition's log.
func (c *replCluster) waitIdentical(topic string) map[int32][]byte {
	c.t.Helper()
	reps := c.replicas(topic)
	out := map[int32][]byte{}
	c.waitFor("every replica of "+topic+" byte-identical", replWait, func() (bool, string) {
		for p, rs := range reps {
			st, ok := c.state(topic, p)
			if !ok || st.Leader < 1 {
				return false, fmt.Sprintf("partition %d has no leader", p)
			}
			want, err := replLogBytes(c.node(st.Leader).dir, topic, p)
			if err != nil {
				return false, err.Error()
			}
			for _, r := range rs {
				if r == st.Leader {
					continue
				}
				got, err := replLogBytes(c.node(r).dir, topic, p)
				if err != nil {
					return false, err.Error()
				}
				if !bytes.Equal(got, want) {
					return false, fmt.Sprintf("partition %d: leader %d vs replica %d: %s", p, st.Leader, r, replDiff(want, got))
				}
			}
			out[p] = want
		}
		return true, ""
	})
	return out
}

// ---- reading what consumers see

// readAll reads every partition of the topic from its log start to its
// high watermark with a fresh franz-go consumer and returns the records
// by partition, in offset order.
func (c *replCluster) readAll(topic string) map[int32][]*kgo.Record {
	c.t.Helper()
	adm := c.admin()
	var ends kadm.ListedOffsets
	c.waitFor("end offsets of "+topic, replWait, func() (bool, string) {
		var err error
		ends, err = adm.ListEndOffsets(context.Background(), topic)
		if err == nil {
			err = ends.Error()
		}
		if err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	want := map[int32]int64{}
	parts := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		want[o.Partition] = o.Offset
		parts[o.Partition] = kgo.NewOffset().AtStart()
	})
	cl := c.client(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}), kgo.FetchMaxWait(200*time.Millisecond))
	out := map[int32][]*kgo.Record{}
	done := func() bool {
		for p, end := range want {
			rs := out[p]
			if end > 0 && (len(rs) == 0 || rs[len(rs)-1].Offset < end-1) {
				return false
			}
		}
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), replWait)
	defer cancel()
	for !done() {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			c.t.Fatalf("reading %s: the deadline passed; want ends %v", topic, want)
		}
		fs.EachError(func(t string, p int32, err error) {
			c.t.Logf("fetch %s-%d: %v", t, p, err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset < want[r.Partition] {
				out[r.Partition] = append(out[r.Partition], r)
			}
		})
	}
	return out
}

// ---- producers and what they were told

// replAck is where an acknowledged record went.
type replAck struct {
	Partition int32
	Offset    int64
}

// replLedger is what one producer sent and was told: acknowledged records
// with their offsets, and records that failed with the error.
type replLedger struct {
	name string
	mu   sync.Mutex
	sent map[string]bool
	ack  map[string]replAck
	fail map[string]string
}

func newReplLedger(name string) *replLedger {
	return &replLedger{name: name, sent: map[string]bool{}, ack: map[string]replAck{}, fail: map[string]string{}}
}

func (l *replLedger) noteSent(v string) {
	l.mu.Lock()
	l.sent[v] = true
	l.mu.Unlock()
}

func (l *replLedger) noteAck(v string, p int32, off int64) {
	l.mu.Lock()
	l.ack[v] = replAck{p, off}
	l.mu.Unlock()
}

func (l *replLedger) noteFail(v, err string) {
	l.mu.Lock()
	l.fail[v] = err
	l.mu.Unlock()
}

// counts returns how many records were sent, acknowledged and failed.
func (l *replLedger) counts() (sent, acked, failed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.sent), len(l.ack), len(l.fail)
}

// replProducer produces records with values PREFIX-N at a steady rate to
// one topic until finish.
type replProducer struct {
	ledger *replLedger
	finish func(t testing.TB)
}

// produce starts a franz-go producer (idempotent, acks=all, retrying
// without limit) writing rate records a second to the topic's partitions
// in turn.
func (c *replCluster) produce(topic, prefix string, rate int, opts ...kgo.Opt) *replProducer {
	c.t.Helper()
	return c.produceValues(topic, prefix, rate, nil, opts...)
}

// produceValues is produce with every record's value padded with pad
// after its PREFIX-N (the ledger names records by the prefix part).
func (c *replCluster) produceValues(topic, prefix string, rate int, pad []byte, opts ...kgo.Opt) *replProducer {
	c.t.Helper()
	l := newReplLedger("franz-go " + prefix)
	// The client's own account, shown if the test fails.
	clog := &lockedBuffer{}
	t := c.t
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s client log:\n%s", l.name, replTail(clog.String(), 150))
		}
	})
	cl := c.client(append([]kgo.Opt{
		kgo.WithLogger(kgo.BasicLogger(clog, kgo.LogLevelInfo, nil)),
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		kgo.ProducerLinger(2 * time.Millisecond),
	}, opts...)...)
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			v := prefix + "-" + strconv.Itoa(i)
			l.noteSent(v)
			val := []byte(v)
			if pad != nil {
				val = append(append(val, ' '), pad...)
			}
			cl.Produce(context.Background(), &kgo.Record{Value: val}, func(r *kgo.Record, err error) {
				if err != nil {
					l.noteFail(v, err.Error())
					return
				}
				l.noteAck(v, r.Partition, r.Offset)
			})
		}
	}()
	return &replProducer{ledger: l, finish: func(t testing.TB) {
		t.Helper()
		close(stop)
		<-stopped
		ctx, cancel := context.WithTimeout(context.Background(), 2*replWait)
		defer cancel()
		if err := cl.Flush(ctx); err != nil {
			t.Fatalf("%s: flushing: %v (buffered %d)", l.name, err, cl.BufferedProduceRecords())
		}
	}}
}

// produceCK starts testdata/replication_producer.py: confluent-kafka's
// idempotent acks=all producer at rate records a second.
func (c *replCluster) produceCK(topic, prefix string, rate int) *replProducer {
	c.t.Helper()
	needPython(c.t, "confluent_kafka", "python3-confluent-kafka")
	l := newReplLedger("confluent-kafka " + prefix)
	cmd := exec.Command(python, filepath.Join("testdata", "replication_producer.py"),
		strings.Join(c.addrs(), ","), topic, prefix, strconv.Itoa(rate))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var done string
	read := make(chan struct{})
	go func() {
		defer close(read)
		buf := make([]byte, 0, 1<<16)
		var line []byte
		tmp := make([]byte, 1<<16)
		for {
			n, err := stdout.Read(tmp)
			buf = append(buf, tmp[:n]...)
			for {
				i := bytes.IndexByte(buf, '\n')
				if i < 0 {
					break
				}
				line, buf = buf[:i], buf[i+1:]
				f := strings.Fields(string(line))
				switch {
				case len(f) == 4 && f[0] == "ok":
					p, _ := strconv.Atoi(f[2])
					off, _ := strconv.ParseInt(f[3], 10, 64)
					l.noteSent(f[1])
					l.noteAck(f[1], int32(p), off)
				case len(f) == 3 && f[0] == "err":
					l.noteSent(f[1])
					l.noteFail(f[1], f[2])
				case len(f) == 3 && f[0] == "done":
					done = string(line)
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return &replProducer{ledger: l, finish: func(t testing.TB) {
		t.Helper()
		stdin.Close()
		errc := make(chan error, 1)
		go func() { <-read; errc <- cmd.Wait() }()
		select {
		case err := <-errc:
			if err != nil || done == "" {
				t.Fatalf("%s: %v; stderr:\n%s", l.name, err, stderr.String())
			}
		case <-time.After(2 * replWait):
			t.Fatalf("%s did not finish; stderr:\n%s", l.name, stderr.String())
		}
		f := strings.Fields(done)
		sent, _ := strconv.Atoi(f[1])
		if left, _ := strconv.Atoi(f[2]); left != 0 {
			t.Errorf("%s: %d records undelivered after the flush", l.name, left)
		}
		// Records sent but never reported are still "sent".
		l.mu.Lock()
		for i := range sent {
			l.sent[prefix+"-"+strconv.Itoa(i)] = true
		}
		l.mu.Unlock()
	}}
}

// replAround describes the records at offsets near off: value, leader
// epoch, producer ID and epoch.
func replAround(rs []*kgo.Record, off int64) string {
	var out []string
	for _, r := range rs {
		if r.Offset >= off-3 && r.Offset <= off+3 {
			out = append(out, fmt.Sprintf("%d:%s(epoch %d, producer %d/%d)", r.Offset, r.Value, r.LeaderEpoch, r.ProducerID, r.ProducerEpoch))
		}
	}
	return strings.Join(out, " ")
}

// replCheck holds the log, as consumers read it, to the producers'
// ledgers: offsets contiguous from 0 in every partition; no value twice;
// every acknowledged record at the offset its producer was told; nothing
// no producer sent. It returns a one-line summary.
func replCheck(t testing.TB, recs map[int32][]*kgo.Record, ledgers ...*replLedger) string {
	t.Helper()
	where := map[string]replAck{}
	total := 0
	for p, rs := range recs {
		for i, r := range rs {
			if r.Offset != int64(i) {
				t.Errorf("partition %d: record %d has offset %d: offsets not contiguous from 0", p, i, r.Offset)
				break
			}
		}
		for _, r := range rs {
			v, _, _ := strings.Cut(string(r.Value), " ")
			if prev, dup := where[v]; dup {
				t.Errorf("%q twice: partition %d offset %d and partition %d offset %d", v, prev.Partition, prev.Offset, p, r.Offset)
			}
			where[v] = replAck{p, r.Offset}
			total++
		}
	}
	var sum []string
	for _, l := range ledgers {
		l.mu.Lock()
		lost := 0
		for v, a := range l.ack {
			got, ok := where[v]
			switch {
			case !ok:
				if lost++; lost <= 5 {
					t.Errorf("%s: %q acknowledged at %d/%d is not in the log; there: %s", l.name, v, a.Partition, a.Offset, replAround(recs[a.Partition], a.Offset))
				}
			case got != a:
				t.Errorf("%s: %q acknowledged at %d/%d is at %d/%d; there: %s", l.name, v, a.Partition, a.Offset, got.Partition, got.Offset, replAround(recs[a.Partition], a.Offset))
			}
		}
		if lost > 0 {
			t.Errorf("%s: %d acknowledged records lost", l.name, lost)
		}
		sum = append(sum, fmt.Sprintf("%s: %d sent, %d acked, %d failed", l.name, len(l.sent), len(l.ack), len(l.fail)))
		l.mu.Unlock()
	}
	for v, a := range where {
		known := false
		for _, l := range ledgers {
			l.mu.Lock()
			known = known || l.sent[v]
			l.mu.Unlock()
		}
		if !known {
			t.Errorf("%q at %d/%d was sent by no producer", v, a.Partition, a.Offset)
		}
	}
	return fmt.Sprintf("%d records in the log; %s", total, strings.Join(sum, "; "))
}

// in returns the cluster for use by subtest t, its brokers' failures
// reported to t, until t ends.
func (c *replCluster) in(t testing.TB) *replCluster {
	cc := *c
	cc.t = t
	for _, n := range c.nodes {
		n.broker.t = t
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			n.broker.t = c.t
		}
	})
	return &cc
}

// heal resumes paused brokers and restarts stopped ones, so that a test
// starts from a whole cluster whatever the one before it left.
func (c *replCluster) heal() {
	c.t.Helper()
	for _, n := range c.nodes {
		if n.paused {
			n.resume()
		}
		if !n.running() {
			c.restart(n)
		}
	}
	c.waitFor("every broker registered", replWait, func() (bool, string) {
		ids := c.registered()
		return len(ids) == len(c.nodes) && c.controller() > 0, fmt.Sprintf("registered %v, controller %d", ids, c.controller())
	})
	c.waitBrokersKnown()
}

// waitAcks waits until the producer has had n more records acknowledged
// than when called: writes go on.
func (c *replCluster) waitAcks(p *replProducer, n int, what string) {
	c.t.Helper()
	_, base, _ := p.ledger.counts()
	c.waitFor(fmt.Sprintf("%d more acknowledgements to %s %s", n, p.ledger.name, what), replWait, func() (bool, string) {
		sent, acked, failed := p.ledger.counts()
		return acked >= base+n, fmt.Sprintf("sent %d, acked %d (from %d), failed %d", sent, acked, base, failed)
	})
}
