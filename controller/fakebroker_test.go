package controller

// Fake brokers: the other end of the controller's channels. Each records
// every request it is sent, with the time it arrived, and answers with
// success unless a test installs a handler (an error code, a connection
// error, or no answer until the request times out).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// sent is one request as a broker got it.
type sent struct {
	to    int32
	conn  int   // which connection of the broker's: 1 for the first channel opened to it
	epoch int64 // the epoch of the broker's registration when the connection was opened
	at    time.Time
	req   kmsg.Request
}

// handler answers a request in place of a healthy broker.
type handler func(ctx context.Context, req kmsg.Request) (kmsg.Response, error)

type fakeNet struct {
	store *memStore

	mu       sync.Mutex
	log      []sent
	dials    map[int32]int
	closed   map[int32][]int // connections closed, by broker
	handlers map[int32]handler
}

func newFakeNet(store *memStore) *fakeNet {
	return &fakeNet{store: store, dials: map[int32]int{}, closed: map[int32][]int{}, handlers: map[int32]handler{}}
}

type fakeConn struct {
	net   *fakeNet
	id    int32
	n     int
	epoch int64
}

// dial is Config.Dial.
func (n *fakeNet) dial(id int32, addr string) Conn {
	if want := fmt.Sprintf("b%d:9092", id); addr != want {
		panic(fmt.Sprintf("controller dialed broker %d at %q, want %q", id, addr, want))
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.dials[id]++
	return &fakeConn{net: n, id: id, n: n.dials[id], epoch: n.store.latestEpoch(id)}
}

func (c *fakeConn) Request(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	n := c.net
	n.mu.Lock()
	n.log = append(n.log, sent{to: c.id, conn: c.n, epoch: c.epoch, at: time.Now(), req: req})
	h := n.handlers[c.id]
	n.mu.Unlock()
	if h != nil {
		return h(ctx, req)
	}
	return answer(req, 0), nil
}

func (c *fakeConn) Close() error {
	c.net.mu.Lock()
	defer c.net.mu.Unlock()
	c.net.closed[c.id] = append(c.net.closed[c.id], c.n)
	return nil
}

// handle installs h for broker id (nil: healthy again).
func (n *fakeNet) handle(id int32, h handler) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.handlers[id] = h
}

// answer is a broker's answer to req with code for every partition.
func answer(req kmsg.Request, code int16) kmsg.Response {
	switch r := req.(type) {
	case *kmsg.LeaderAndISRRequest:
		resp := kmsg.NewPtrLeaderAndISRResponse()
		resp.ErrorCode = code
		return resp
	case *kmsg.UpdateMetadataRequest:
		resp := kmsg.NewPtrUpdateMetadataResponse()
		resp.ErrorCode = code
		return resp
	case *kmsg.StopReplicaRequest:
		resp := kmsg.NewPtrStopReplicaResponse()
		for _, t := range r.Topics {
			for _, p := range t.PartitionStates {
				rp := kmsg.NewStopReplicaResponsePartition()
				rp.Topic, rp.Partition, rp.ErrorCode = t.Topic, p.Partition, code
				resp.Partitions = append(resp.Partitions, rp)
			}
		}
		return resp
	}
	panic(fmt.Sprintf("the controller sent %T", req))
}

// failing answers every request with a connection error.
func failing(context.Context, kmsg.Request) (kmsg.Response, error) {
	return nil, errors.New("connection refused")
}

// take returns the requests sent since the last take, and checks the
// epochs every request must carry: the broker's epoch of the connection's
// incarnation, and the controller's id (unless controller is negative).
func (n *fakeNet) take(t *testing.T, controller int32) []sent {
	t.Helper()
	n.mu.Lock()
	out := n.log
	n.log = nil
	n.mu.Unlock()
	for _, s := range out {
		var ctl int32
		var be int64
		switch r := s.req.(type) {
		case *kmsg.LeaderAndISRRequest:
			ctl, be = r.ControllerID, r.BrokerEpoch
		case *kmsg.UpdateMetadataRequest:
			ctl, be = r.ControllerID, r.BrokerEpoch
		case *kmsg.StopReplicaRequest:
			ctl, be = r.ControllerID, r.BrokerEpoch
		}
		if controller >= 0 && ctl != controller {
			t.Errorf("%s to broker %d names controller %d, want %d", describe(s.req), s.to, ctl, controller)
		}
		if be != s.epoch {
			t.Errorf("%s to broker %d carries broker epoch %d, want %d (its registration's czxid)", describe(s.req), s.to, be, s.epoch)
		}
	}
	return out
}

// byBroker describes requests per broker, in the order each got them.
func byBroker(reqs []sent) map[int32][]string {
	out := map[int32][]string{}
	for _, s := range reqs {
		out[s.to] = append(out[s.to], describe(s.req))
	}
	return out
}

// only keeps requests of one kind: "LeaderAndIsr", "UpdateMetadata", "StopReplica".
func only(kind string, m map[int32][]string) map[int32][]string {
	out := map[int32][]string{}
	for id, rs := range m {
		for _, r := range rs {
			if strings.HasPrefix(r, kind+" ") {
				out[id] = append(out[id], r)
			}
		}
	}
	return out
}

func ints(s []int32) string {
	return strings.ReplaceAll(fmt.Sprint(s), " ", ",")
}

// describe renders a controller request in one line, partitions sorted:
//
//	LeaderAndIsr ce=1 full t-0:L1/e0/[1,2]/v0 r[1,2,3] +[3] -[1]
//	UpdateMetadata ce=1 live[1,2] t-0:L1/e0/[1,2]/v0 r[1,2,3] off[3]
//	StopReplica ce=1 delete t-[0,1]
func describe(req kmsg.Request) string {
	var b strings.Builder
	switch r := req.(type) {
	case *kmsg.LeaderAndISRRequest:
		fmt.Fprintf(&b, "LeaderAndIsr ce=%d", r.ControllerEpoch)
		if r.Type == 1 {
			b.WriteString(" full")
		}
		var ps []string
		for _, t := range r.TopicStates {
			for _, p := range t.PartitionStates {
				s := fmt.Sprintf("%s-%d:L%d/e%d/%s/v%d r%s", t.Topic, p.Partition, p.Leader, p.LeaderEpoch, ints(p.ISR), p.ZKVersion, ints(p.Replicas))
				if len(p.AddingReplicas) > 0 {
					s += " +" + ints(p.AddingReplicas)
				}
				if len(p.RemovingReplicas) > 0 {
					s += " -" + ints(p.RemovingReplicas)
				}
				ps = append(ps, s)
			}
		}
		slices.Sort(ps)
		for _, p := range ps {
			b.WriteString(" " + p)
		}
		var leaders []int32
		for _, l := range r.LiveLeaders {
			leaders = append(leaders, l.BrokerID)
		}
		slices.Sort(leaders)
		fmt.Fprintf(&b, " leaders%s", ints(leaders))
	case *kmsg.UpdateMetadataRequest:
		var live []int32
		for _, l := range r.LiveBrokers {
			live = append(live, l.ID)
		}
		fmt.Fprintf(&b, "UpdateMetadata ce=%d live%s", r.ControllerEpoch, ints(live))
		var ps []string
		for _, t := range r.TopicStates {
			for _, p := range t.PartitionStates {
				s := fmt.Sprintf("%s-%d:L%d/e%d/%s/v%d r%s", t.Topic, p.Partition, p.Leader, p.LeaderEpoch, ints(p.ISR), p.ZKVersion, ints(p.Replicas))
				if len(p.OfflineReplicas) > 0 {
					s += " off" + ints(p.OfflineReplicas)
				}
				ps = append(ps, s)
			}
		}
		slices.Sort(ps)
		for _, p := range ps {
			b.WriteString(" " + p)
		}
	case *kmsg.StopReplicaRequest:
		fmt.Fprintf(&b, "StopReplica ce=%d", r.ControllerEpoch)
		if r.DeletePartitions {
			b.WriteString(" delete")
		}
		for _, t := range r.Topics {
			var ps []int32
			for _, p := range t.PartitionStates {
				ps = append(ps, p.Partition)
				if want := map[bool]int32{true: -2, false: -1}[p.Delete]; p.Delete != r.DeletePartitions || p.LeaderEpoch != want {
					fmt.Fprintf(&b, " (partition %d: delete %v, leader epoch %d)", p.Partition, p.Delete, p.LeaderEpoch)
				}
			}
			slices.Sort(ps)
			fmt.Fprintf(&b, " %s-%s", t.Topic, ints(ps))
		}
	default:
		fmt.Fprintf(&b, "%T", req)
	}
	return b.String()
}

// ---- the harness: brokers, their sessions and controller candidates ----

type harness struct {
	t     *testing.T
	store *memStore
	net   *fakeNet
	// sessions and candidates by broker id.
	sess map[int32]*memSession
	ctls map[int32]*Controller
	// opts apply to every controller's Config.
	opts []func(*Config)
}

// newHarness must be called inside the synctest bubble of t.
func newHarness(t *testing.T, opts ...func(*Config)) *harness {
	store := newMemStore()
	h := &harness{t: t, store: store, net: newFakeNet(store), sess: map[int32]*memSession{}, ctls: map[int32]*Controller{}, opts: opts}
	t.Cleanup(func() {
		for _, c := range h.ctls {
			c.Stop()
		}
	})
	return h
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// register makes broker ids live: a session each and its registration.
func (h *harness) register(ids ...int32) {
	for _, id := range ids {
		if h.sess[id] == nil {
			h.sess[id] = h.store.session()
		}
		h.store.register(h.sess[id], id)
	}
}

// startController runs broker id's controller candidate, on the broker's
// session.
func (h *harness) startController(id int32, opts ...func(*Config)) *Controller {
	if h.sess[id] == nil {
		h.sess[id] = h.store.session()
	}
	cfg := Config{BrokerID: id, ZK: h.sess[id], Logger: testLogger(h.t).With("broker", id), Listener: "PLAINTEXT",
		DeleteTopicEnable: true, RequestTimeout: 5 * time.Second, Dial: h.net.dial}
	for _, o := range h.opts {
		o(&cfg)
	}
	for _, o := range opts {
		o(&cfg)
	}
	c := New(cfg)
	c.Start()
	h.ctls[id] = c
	return c
}

// boot registers brokers, starts the first one's controller, lets it take
// over and forgets the requests of the start.
func (h *harness) boot(ids ...int32) *Controller {
	h.register(ids...)
	c := h.startController(ids[0])
	synctest.Wait()
	if !c.IsActive() {
		h.t.Fatalf("broker %d is not the controller of a cluster of itself", ids[0])
	}
	h.net.take(h.t, ids[0])
	return c
}

// kill is a broker crashing: its session expires (its registration and
// /controller go), and its controller, which heard nothing more, stops.
func (h *harness) kill(id int32) {
	h.sess[id].deafen()
	h.sess[id].expire()
	if c := h.ctls[id]; c != nil {
		c.Stop()
		delete(h.ctls, id)
	}
	delete(h.sess, id)
}

// bounce is a broker restarting (or its session expiring): a new
// registration, a new epoch. It has no controller candidate after.
func (h *harness) bounce(id int32) {
	h.kill(id)
	h.register(id)
}

// topic creates a topic, lets the controller create its states and forgets
// the requests.
func (h *harness) topic(name string, controller int32, replicas ...[]int32) {
	h.store.createTopic(name, nil, replicas...)
	synctest.Wait()
	h.net.take(h.t, controller)
}

// wantState checks a partition's state znode.
func (h *harness) wantState(topic string, p int32, leader, leaderEpoch int32, isr []int32, partitionEpoch int32) {
	h.t.Helper()
	st, ok := h.store.state(topic, p)
	if !ok {
		h.t.Errorf("%s-%d has no state, want leader %d epoch %d isr %v", topic, p, leader, leaderEpoch, isr)
		return
	}
	if st.Leader != leader || st.LeaderEpoch != leaderEpoch || !slices.Equal(st.ISR, isr) || st.PartitionEpoch != partitionEpoch {
		h.t.Errorf("%s-%d: leader %d epoch %d isr %v partition epoch %d; want leader %d epoch %d isr %v partition epoch %d",
			topic, p, st.Leader, st.LeaderEpoch, st.ISR, st.PartitionEpoch, leader, leaderEpoch, isr, partitionEpoch)
	}
}

// wantRequests compares the requests of each broker with want, in order.
func wantRequests(t *testing.T, what string, got, want map[int32][]string) {
	t.Helper()
	ids := map[int32]bool{}
	for id := range got {
		ids[id] = true
	}
	for id := range want {
		ids[id] = true
	}
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		if !slices.Equal(got[id], want[id]) {
			t.Errorf("%s: broker %d got\n\t%s\nwant\n\t%s", what, id, strings.Join(got[id], "\n\t"), strings.Join(want[id], "\n\t"))
		}
	}
}

// alterReq is a leader's AlterPartition for one partition.
func alterReq(broker int32, brokerEpoch int64, topic string, p, leaderEpoch, partitionEpoch int32, isr ...int32) *kmsg.AlterPartitionRequest {
	req := kmsg.NewPtrAlterPartitionRequest()
	req.SetVersion(2)
	req.BrokerID, req.BrokerEpoch = broker, brokerEpoch
	rt := kmsg.NewAlterPartitionRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewAlterPartitionRequestTopicPartition()
	rp.Partition, rp.LeaderEpoch, rp.PartitionEpoch, rp.NewISR = p, leaderEpoch, partitionEpoch, isr
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// errCode is the code of an AlterPartition answer: the call's error, the
// request's, or the first partition's.
func errCode(resp *kmsg.AlterPartitionResponse, err error) int16 {
	if err != nil {
		var ke *kerr.Error
		if errors.As(err, &ke) {
			return ke.Code
		}
		return kerr.UnknownServerError.Code
	}
	if resp.ErrorCode != 0 {
		return resp.ErrorCode
	}
	if len(resp.Topics) > 0 && len(resp.Topics[0].Partitions) > 0 {
		return resp.Topics[0].Partitions[0].ErrorCode
	}
	return 0
}
