package itest

// The cluster harness: N samsa brokers in ZooKeeper mode on one real
// ZooKeeper (the package's shared server with a chroot per test, or a
// private one for tests that stop it), started in parallel, with the
// signals a test sends them (SIGKILL, SIGTERM, SIGSTOP/SIGCONT), restarts
// on the same data directory and ports, and conditions to wait for, each
// polled against a deadline: the brokers registered, a controller elected,
// a partition's leader. A raw ZooKeeper client reads the znodes as they
// are, to compare them with what Kafka writes.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/zktest"
	"samsa/kclient"
)

// clusterSession is the brokers' zookeeper.session.timeout.ms: short, so
// that a killed broker is noticed quickly, and long enough that a loaded
// two-core machine does not expire healthy sessions.
const clusterSession = 3 * time.Second

// clusterWait bounds every wait for the cluster to converge: a few
// session timeouts, with room for a busy machine.
const clusterWait = 30 * time.Second

// kcluster is a ZooKeeper-mode cluster under test.
type kcluster struct {
	t       testing.TB
	zk      *zktest.Server
	chroot  string
	connect string // zookeeper.connect of the brokers
	session time.Duration
	brokers []*broker // brokers[i] has broker.id i+1
	raw     *zk.Conn  // a plain ZooKeeper client, outside the chroot
}

// clusterOpts configures startCluster.
type clusterOpts struct {
	zk        *zktest.Server // nil: the package's shared server
	secureZK  bool           // the brokers connect to zk's secure client port
	session   time.Duration  // 0: clusterSession
	overrides []string       // for every broker
	// perBroker adds overrides for broker id (1-based).
	perBroker func(id int32) []string
	// extra names listeners every broker binds besides PLAINTEXT (their
	// protocols in overrides).
	extra []string
}

// startCluster starts n brokers (ids 1..n) in parallel and waits until all
// are registered, a controller is elected and every broker knows both.
func startCluster(t testing.TB, n int, o clusterOpts) *kcluster {
	t.Helper()
	c := newCluster(t, o)
	for id := int32(1); id <= int32(n); id++ {
		var extra []string
		if o.perBroker != nil {
			extra = o.perBroker(id)
		}
		c.addBroker(id, append(slices.Clone(o.overrides), extra...)...).extra = o.extra
	}
	c.startAll(c.brokers...)
	c.waitConverged()
	return c
}

// newCluster prepares a cluster with no brokers: its chroot and the raw
// ZooKeeper client.
func newCluster(t testing.TB, o clusterOpts) *kcluster {
	t.Helper()
	srv := o.zk
	if srv == nil {
		srv = zktest.Shared(t)
	}
	c := &kcluster{t: t, zk: srv, chroot: zktest.Chroot(t), session: o.session}
	if c.session == 0 {
		c.session = clusterSession
	}
	c.connect = srv.Addr() + c.chroot
	if o.secureZK {
		c.connect = srv.SecureAddr() + c.chroot
	}
	raw, _, err := zk.Connect([]string{srv.Addr()}, 10*time.Second, zk.WithLogger(quietZK{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(raw.Close)
	c.raw = raw
	return c
}

type quietZK struct{}

func (quietZK) Printf(string, ...any) {}

// addBroker prepares broker id (not started): ZooKeeper mode with the
// cluster's settings, then overrides.
func (c *kcluster) addBroker(id int32, overrides ...string) *broker {
	c.t.Helper()
	b := newBroker(c.t, append(c.brokerArgs(id), overrides...)...)
	b.id = id
	c.brokers = append(c.brokers, b)
	return b
}

// brokerArgs are the overrides that make broker id a member of the cluster.
func (c *kcluster) brokerArgs(id int32) []string {
	return []string{
		"broker.id=" + strconv.Itoa(int(id)),
		"zookeeper.connect=" + c.connect,
		"zookeeper.session.timeout.ms=" + strconv.Itoa(int(c.session.Milliseconds())),
		"offsets.topic.replication.factor=1",
		"offsets.topic.num.partitions=6",
		"group.initial.rebalance.delay.ms=0",
		"group.min.session.timeout.ms=500",
		"controlled.shutdown.retry.backoff.ms=200",
		"controller.socket.timeout.ms=5000",
	}
}

// startAll starts brokers in parallel (each on fresh ports).
func (c *kcluster) startAll(bs ...*broker) {
	c.t.Helper()
	errs := make([]error, len(bs))
	var wg sync.WaitGroup
	for i, b := range bs {
		wg.Go(func() { errs[i] = b.startFresh() })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			c.t.Fatalf("broker %d did not start: %v", bs[i].id, err)
		}
	}
}

// in returns the cluster for use by t: a subtest running in parallel
// must fail itself, not its parent.
func (c *kcluster) in(t testing.TB) *kcluster {
	cc := *c
	cc.t = t
	return &cc
}

// broker returns broker id.
func (c *kcluster) broker(id int32) *broker { return c.brokers[id-1] }

// running returns the brokers whose process runs (paused ones included).
func (c *kcluster) running() []*broker {
	var out []*broker
	for _, b := range c.brokers {
		if b.running() {
			out = append(out, b)
		}
	}
	return out
}

// other returns a running broker other than those named.
func (c *kcluster) other(not ...int32) *broker {
	c.t.Helper()
	for _, b := range c.running() {
		if !slices.Contains(not, b.id) && !b.paused {
			return b
		}
	}
	c.t.Fatalf("no running broker other than %v", not)
	return nil
}

// addrs are the Kafka listeners of the brokers named (all when none).
func (c *kcluster) addrs(ids ...int32) []string {
	var out []string
	for _, b := range c.brokers {
		if len(ids) == 0 || slices.Contains(ids, b.id) {
			out = append(out, b.addr)
		}
	}
	return out
}

// ---- signals

// pause stops the broker's process with SIGSTOP: it keeps its sockets and
// answers nothing, as a broker in a long GC pause or a frozen VM.
func (b *broker) pause() {
	b.t.Helper()
	if err := b.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		b.t.Fatal(err)
	}
	b.paused = true
}

// resume continues a paused broker with SIGCONT.
func (b *broker) resume() {
	b.t.Helper()
	if err := b.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		b.t.Fatal(err)
	}
	b.paused = false
}

// ---- requests that do not fail the test (for polling)

// request sends one request to the broker at the highest version both
// sides know, with a short deadline.
func (b *broker) request(req kmsg.Request) (kmsg.Response, error) {
	conn := kclient.New(b.addr, "samsa-itest")
	defer conn.Close()
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return conn.Request(c, req)
}

// metadata asks the broker for the topics named (all if none), without
// creating any.
func (b *broker) metadata(topics ...string) (*kmsg.MetadataResponse, error) {
	req := kmsg.NewPtrMetadataRequest()
	if len(topics) > 0 {
		for _, t := range topics {
			mt := kmsg.NewMetadataRequestTopic()
			mt.Topic = kmsg.StringPtr(t)
			req.Topics = append(req.Topics, mt)
		}
	}
	resp, err := b.request(req)
	if err != nil {
		return nil, err
	}
	return resp.(*kmsg.MetadataResponse), nil
}

// ---- waiting

// waitUntil polls cond every 20 ms until it returns nil, failing the test
// with cond's last error after within.
func waitUntil(t testing.TB, within time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v waiting for %s: %v", within, what, err)
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
}

// registered returns the broker ids under /brokers/ids.
func (c *kcluster) registered() ([]int32, error) {
	names, _, err := c.raw.Children(c.chroot + "/brokers/ids")
	if err != nil {
		return nil, err
	}
	var ids []int32
	for _, n := range names {
		id, err := strconv.Atoi(n)
		if err != nil {
			return nil, fmt.Errorf("/brokers/ids/%s: %v", n, err)
		}
		ids = append(ids, int32(id))
	}
	slices.Sort(ids)
	return ids, nil
}

// controllerID returns the broker /controller names, -1 if none.
func (c *kcluster) controllerID() (int32, error) {
	data, _, err := c.raw.Get(c.chroot + "/controller")
	if errors.Is(err, zk.ErrNoNode) {
		return -1, nil
	}
	if err != nil {
		return -1, err
	}
	var v struct {
		BrokerID int32 `json:"brokerid"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return -1, fmt.Errorf("/controller %q: %v", data, err)
	}
	return v.BrokerID, nil
}

// waitConverged waits until exactly the running brokers are registered, a
// running broker is controller, and every running broker's Metadata lists
// them all and names that controller. It returns the controller.
func (c *kcluster) waitConverged() int32 {
	c.t.Helper()
	var want []int32
	for _, b := range c.running() {
		want = append(want, b.id)
	}
	var ctl int32
	waitUntil(c.t, clusterWait, fmt.Sprintf("brokers %v registered with a controller", want), func() error {
		ids, err := c.registered()
		if err != nil {
			return err
		}
		if !slices.Equal(ids, want) {
			return fmt.Errorf("registered %v", ids)
		}
		if ctl, err = c.controllerID(); err != nil {
			return err
		}
		if !slices.Contains(want, ctl) {
			return fmt.Errorf("controller %d", ctl)
		}
		return c.everyBroker(func(b *broker, md *kmsg.MetadataResponse) error {
			var got []int32
			for _, mb := range md.Brokers {
				got = append(got, mb.NodeID)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) || md.ControllerID != ctl {
				return fmt.Errorf("broker %d knows brokers %v and controller %d", b.id, got, md.ControllerID)
			}
			return nil
		})
	})
	return ctl
}

// waitInSync waits until every running broker's Metadata shows every
// partition of topic with n in-sync replicas.
func (c *kcluster) waitInSync(topic string, n int) {
	c.t.Helper()
	waitUntil(c.t, clusterWait, fmt.Sprintf("every partition of %s with %d in-sync replicas", topic, n), func() error {
		return c.everyBroker(func(b *broker, md *kmsg.MetadataResponse) error {
			for _, mt := range md.Topics {
				if mt.Topic == nil || *mt.Topic != topic {
					continue
				}
				for _, mp := range mt.Partitions {
					if len(mp.ISR) != n {
						return fmt.Errorf("broker %d: partition %d ISR %v", b.id, mp.Partition, mp.ISR)
					}
				}
				return nil
			}
			return fmt.Errorf("broker %d does not know %s", b.id, topic)
		})
	})
}

// everyBroker runs check on the Metadata (all topics) of every running
// broker that is not paused.
func (c *kcluster) everyBroker(check func(b *broker, md *kmsg.MetadataResponse) error) error {
	for _, b := range c.running() {
		if b.paused {
			continue
		}
		md, err := b.metadata()
		if err != nil {
			return err
		}
		if err := check(b, md); err != nil {
			return err
		}
	}
	return nil
}

// waitController waits until /controller names a broker other than
// those in not, and returns it.
func (c *kcluster) waitController(not ...int32) int32 {
	c.t.Helper()
	var id int32
	waitUntil(c.t, clusterWait, fmt.Sprintf("a controller other than %v", not), func() error {
		var err error
		if id, err = c.controllerID(); err != nil {
			return err
		}
		if id < 0 || slices.Contains(not, id) {
			return fmt.Errorf("controller %d", id)
		}
		return nil
	})
	return id
}

// leaders returns the leader of each partition of topic in a broker's
// metadata (-1: none), or an error if the topic is unknown there.
func leaders(md *kmsg.MetadataResponse, topic string) ([]int32, error) {
	for _, t := range md.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		if t.ErrorCode != 0 {
			return nil, fmt.Errorf("topic %s: error %d", topic, t.ErrorCode)
		}
		out := make([]int32, len(t.Partitions))
		for _, p := range t.Partitions {
			if int(p.Partition) >= len(out) || p.Partition < 0 {
				return nil, fmt.Errorf("topic %s: partition %d of %d", topic, p.Partition, len(out))
			}
			out[p.Partition] = p.Leader
		}
		return out, nil
	}
	return nil, fmt.Errorf("topic %s not in the metadata", topic)
}

// waitLeaders waits until every running broker's metadata shows topic
// with n partitions and the same leaders, each satisfying ok, and returns
// them.
func (c *kcluster) waitLeaders(topic string, n int, ok func(p int32, leader int32) bool) []int32 {
	c.t.Helper()
	var first []int32
	waitUntil(c.t, clusterWait, fmt.Sprintf("the leaders of %s agreed", topic), func() error {
		first = nil
		return c.everyBroker(func(b *broker, md *kmsg.MetadataResponse) error {
			ls, err := leaders(md, topic)
			if err != nil {
				return fmt.Errorf("broker %d: %v", b.id, err)
			}
			if len(ls) != n {
				return fmt.Errorf("broker %d: %d partitions, want %d", b.id, len(ls), n)
			}
			for p, l := range ls {
				if !ok(int32(p), l) {
					return fmt.Errorf("broker %d: partition %d led by %d", b.id, p, l)
				}
			}
			if first == nil {
				first = ls
			} else if !slices.Equal(first, ls) {
				return fmt.Errorf("broker %d: leaders %v, another broker %v", b.id, ls, first)
			}
			return nil
		})
	})
	return first
}

// online waits until every partition of topic has a live leader on every
// broker's metadata, and returns the leaders.
func (c *kcluster) online(topic string, n int) []int32 {
	c.t.Helper()
	return c.waitLeaders(topic, n, func(_ int32, l int32) bool {
		return l >= 0 && slices.ContainsFunc(c.running(), func(b *broker) bool { return b.id == l })
	})
}

// createTopic creates a topic with RF 1 through broker via, and waits
// until every running broker sees every partition led.
func (c *kcluster) createTopic(via *broker, topic string, partitions int32, configs map[string]*string) []int32 {
	c.t.Helper()
	resp, err := via.admin(c.t).CreateTopic(ctx(c.t), partitions, 1, configs, topic)
	if err != nil {
		c.t.Fatalf("create topic %s: %v", topic, err)
	}
	if resp.Err != nil {
		c.t.Fatalf("create topic %s: %v (%v)", topic, resp.Err, resp.ErrMessage)
	}
	return c.online(topic, int(partitions))
}

// client is a franz-go client seeded with the brokers named (all if
// none), with the defaults of broker.client.
func (c *kcluster) client(t testing.TB, seeds []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	b := &broker{addr: seeds[0]}
	return b.client(t, append([]kgo.Opt{kgo.SeedBrokers(seeds...)}, opts...)...)
}

// ---- znodes

// get reads a znode of the cluster's chroot.
func (c *kcluster) get(p string) ([]byte, *zk.Stat) {
	c.t.Helper()
	data, st, err := c.raw.Get(c.chroot + p)
	if err != nil {
		c.t.Fatalf("znode %s: %v", p, err)
	}
	return data, st
}

// children lists a znode's children, sorted.
func (c *kcluster) children(p string) []string {
	c.t.Helper()
	names, _, err := c.raw.Children(c.chroot + p)
	if err != nil {
		c.t.Fatalf("children of %s: %v", p, err)
	}
	slices.Sort(names)
	return names
}

func (c *kcluster) exists(p string) bool {
	c.t.Helper()
	ok, _, err := c.raw.Exists(c.chroot + p)
	if err != nil {
		c.t.Fatalf("exists %s: %v", p, err)
	}
	return ok
}

// set writes raw bytes into a znode of the chroot, creating it (and its
// parents) if needed: for garbage the brokers must survive.
func (c *kcluster) set(p string, data []byte) {
	c.t.Helper()
	full := c.chroot + p
	var dirs []string
	for dir := path.Dir(full); dir != "/"; dir = path.Dir(dir) {
		dirs = append(dirs, dir)
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		c.raw.Create(dirs[i], nil, 0, zk.WorldACL(zk.PermAll))
	}
	if _, err := c.raw.Create(full, data, 0, zk.WorldACL(zk.PermAll)); errors.Is(err, zk.ErrNodeExists) {
		if _, err := c.raw.Set(full, data, -1); err != nil {
			c.t.Fatalf("set %s: %v", p, err)
		}
	} else if err != nil {
		c.t.Fatalf("create %s: %v", p, err)
	}
}

// delete removes a znode of the chroot.
func (c *kcluster) delete(p string) {
	c.t.Helper()
	if err := c.raw.Delete(c.chroot+p, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
		c.t.Fatalf("delete %s: %v", p, err)
	}
}

// shape compares a znode's JSON with want as JSON values (key order and
// spacing aside). Fields named in timestamps must be strings of decimal
// digits (Kafka writes milliseconds as strings) and are not compared.
func (c *kcluster) shape(p, want string, timestamps ...string) {
	c.t.Helper()
	data, _ := c.get(p)
	var got, w map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		c.t.Errorf("%s: %q is not a JSON object: %v", p, data, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		c.t.Fatalf("%s: want %s: %v", p, want, err)
	}
	for _, f := range timestamps {
		s, ok := got[f].(string)
		if !ok || s == "" || strings.Trim(s, "0123456789") != "" {
			c.t.Errorf("%s: %s = %#v, want a string of digits", p, f, got[f])
		}
		delete(got, f)
	}
	if !reflect.DeepEqual(got, w) {
		c.t.Errorf("%s:\n got %s\nwant %s", p, data, want)
	}
}
