package controller

// The request channels to brokers (Kafka's ControllerChannelManagerTest and
// RequestSendThread): order per broker, retries until answered, closing,
// and a restarted broker's new channel.

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/metadata/kafkazk"
	"samsa/metadata/kafkazk/zkdata"
)

// numbered is a request told apart by its controller epoch.
func numbered(i int32) kmsg.Request {
	req := kmsg.NewPtrUpdateMetadataRequest()
	req.ControllerEpoch = i
	return req
}

// answers records the callbacks a channel runs.
type answers struct {
	mu  sync.Mutex
	got []int32 // the numbers of the requests answered, -n for an error
}

func (a *answers) then(i int32) func(kmsg.Response, error) {
	return func(_ kmsg.Response, err error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if err != nil {
			i = -i
		}
		a.got = append(a.got, i)
	}
}

func (a *answers) list() []int32 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.got)
}

func arrived(n *fakeNet) []int32 {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []int32
	for _, s := range n.log {
		out = append(out, controllerEpochOf(s.req))
	}
	return out
}

// TestChannelKeepsOrder: requests reach a broker one at a time in the
// order they were queued, even while the first is stuck.
func TestChannelKeepsOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFakeNet(newMemStore())
		release := make(chan struct{})
		n.handle(1, func(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
			if controllerEpochOf(req) == 1 {
				<-release
			}
			return answer(req, 0), nil
		})
		ch := newChannel(1, n.dial(1, "b1:9092"), time.Minute, testLogger(t))
		defer ch.close()
		var a answers
		for i := int32(1); i <= 5; i++ {
			ch.send(numbered(i), a.then(i))
		}
		synctest.Wait()
		if got := arrived(n); !slices.Equal(got, []int32{1}) {
			t.Fatalf("while the first request is unanswered the broker got %v, want [1] alone", got)
		}
		close(release)
		synctest.Wait()
		if got := arrived(n); !slices.Equal(got, []int32{1, 2, 3, 4, 5}) {
			t.Errorf("the broker got %v, want 1..5 in order", got)
		}
		if got := a.list(); !slices.Equal(got, []int32{1, 2, 3, 4, 5}) {
			t.Errorf("answers %v, want 1..5 in order", got)
		}
	})
}

// TestChannelRetriesWithGrowingPause: a request that fails is sent again
// after 100 ms, then twice as long each time up to 2 s, until answered;
// the requests queued behind it wait.
func TestChannelRetriesWithGrowingPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFakeNet(newMemStore())
		var mu sync.Mutex
		fails := 8
		n.handle(1, func(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
			mu.Lock()
			defer mu.Unlock()
			if fails > 0 {
				fails--
				return failing(ctx, req)
			}
			return answer(req, 0), nil
		})
		ch := newChannel(1, n.dial(1, "b1:9092"), time.Minute, testLogger(t))
		defer ch.close()
		var a answers
		start := time.Now()
		ch.send(numbered(1), a.then(1))
		ch.send(numbered(2), a.then(2))
		synctest.Wait()
		time.Sleep(time.Hour) // fake time: long enough for every retry
		synctest.Wait()

		var gaps []time.Duration
		last := start
		n.mu.Lock()
		for _, s := range n.log {
			gaps = append(gaps, s.at.Sub(last))
			last = s.at
		}
		n.mu.Unlock()
		ms := time.Millisecond
		want := []time.Duration{0, 100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 2000 * ms, 2000 * ms, 2000 * ms, 0}
		if !slices.Equal(gaps, want) {
			t.Errorf("pauses before each attempt %v, want %v", gaps, want)
		}
		if got := arrived(n); !slices.Equal(got, []int32{1, 1, 1, 1, 1, 1, 1, 1, 1, 2}) {
			t.Errorf("attempts %v, want request 1 nine times, then 2", got)
		}
		if got := a.list(); !slices.Equal(got, []int32{1, 2}) {
			t.Errorf("answers %v, want [1 2]", got)
		}
	})
}

// TestChannelRetriesAfterTimeout: a broker that does not answer is given
// RequestTimeout per attempt, then the request is sent again.
func TestChannelRetriesAfterTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFakeNet(newMemStore())
		var mu sync.Mutex
		silent := 2
		n.handle(1, func(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
			mu.Lock()
			quiet := silent > 0
			silent--
			mu.Unlock()
			if quiet {
				<-ctx.Done()
				return nil, ctx.Err()
			}
			return answer(req, 0), nil
		})
		ch := newChannel(1, n.dial(1, "b1:9092"), 5*time.Second, testLogger(t))
		defer ch.close()
		var a answers
		start := time.Now()
		ch.send(numbered(1), a.then(1))
		time.Sleep(time.Minute)
		synctest.Wait()
		var at []time.Duration
		n.mu.Lock()
		for _, s := range n.log {
			at = append(at, s.at.Sub(start))
		}
		n.mu.Unlock()
		ms := time.Millisecond
		if want := []time.Duration{0, 5100 * ms, 10300 * ms}; !slices.Equal(at, want) {
			t.Errorf("attempts at %v, want %v (timeout, then pauses of 100 and 200 ms)", at, want)
		}
		if got := a.list(); !slices.Equal(got, []int32{1}) {
			t.Errorf("answers %v, want [1]", got)
		}
	})
}

// TestChannelCloseDropsQueue: closing a channel (its broker died, or the
// controller resigned) abandons the request in flight and drops the
// queue: nothing more reaches the broker, and the connection is closed.
func TestChannelCloseDropsQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFakeNet(newMemStore())
		n.handle(1, func(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		})
		ch := newChannel(1, n.dial(1, "b1:9092"), time.Hour, testLogger(t))
		var a answers
		for i := int32(1); i <= 3; i++ {
			ch.send(numbered(i), a.then(i))
		}
		synctest.Wait()
		ch.close()
		synctest.Wait()
		if got := arrived(n); !slices.Equal(got, []int32{1}) {
			t.Errorf("the broker got %v, want only the request in flight at the close, [1]", got)
		}
		if got := a.list(); slices.ContainsFunc(got, func(i int32) bool { return i > 0 }) {
			t.Errorf("answers %v after close, want no success", got)
		}
		if got := n.closed[1]; !slices.Equal(got, []int{1}) {
			t.Errorf("connections closed %v, want [1]", got)
		}
		ch.send(numbered(4), a.then(4)) // a send after close is dropped
		synctest.Wait()
		if got := arrived(n); len(got) != 1 {
			t.Errorf("the broker got %v after a send to the closed channel", got)
		}
	})
}

// TestChannelCloseDuringPause: a channel closed while it waits to retry
// stops at once.
func TestChannelCloseDuringPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFakeNet(newMemStore())
		n.handle(1, failing)
		ch := newChannel(1, n.dial(1, "b1:9092"), time.Hour, testLogger(t))
		ch.send(numbered(1), nil)
		time.Sleep(150 * time.Millisecond) // the first retry went, the second waits
		synctest.Wait()
		start := time.Now()
		ch.close()
		if d := time.Since(start); d != 0 {
			t.Errorf("close took %v of fake time, want none", d)
		}
		if got := arrived(n); len(got) != 2 {
			t.Errorf("attempts %v, want 2", got)
		}
	})
}

// TestRestartedBrokerGetsNewChannel: a broker that comes back with a new
// epoch gets a new connection (the old one is closed) and, on it, the
// full state addressed to its new epoch.
func TestRestartedBrokerGetsNewChannel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.boot(1, 2)
		h.topic("t", 1, []int32{1, 2}, []int32{2, 1})
		old := h.store.brokerEpoch(2)
		h.bounce(2)
		synctest.Wait()
		if h.store.brokerEpoch(2) == old {
			t.Fatal("the restarted broker has its old epoch")
		}
		if got := h.net.closed[2]; !slices.Equal(got, []int{1}) {
			t.Errorf("connections to broker 2 closed %v, want the first, [1]", got)
		}
		reqs := h.net.take(t, 1) // checks the new epoch on the new connection
		var toNew []string
		for _, s := range reqs {
			if s.to == 2 {
				if s.conn != 2 {
					t.Errorf("%s went on connection %d of broker 2, want 2", describe(s.req), s.conn)
				}
				toNew = append(toNew, describe(s.req))
			}
		}
		want := []string{
			"UpdateMetadata ce=1 live[1,2] t-0:L1/e1/[1]/v1 r[1,2] t-1:L1/e1/[1]/v1 r[2,1]",
			"LeaderAndIsr ce=1 full t-0:L1/e1/[1]/v1 r[1,2] t-1:L1/e1/[1]/v1 r[2,1] leaders[1]",
		}
		if !slices.Equal(toNew, want) {
			t.Errorf("the restarted broker got\n\t%q\nwant\n\t%q", toNew, want)
		}
	})
}

// nopConn answers nothing; it is never asked.
type nopConn struct{}

func (nopConn) Request(context.Context, kmsg.Request) (kmsg.Response, error) {
	return nil, context.Canceled
}
func (nopConn) Close() error { return nil }

// TestControlPlaneListener: with a control plane listener the controller
// dials brokers there, and falls back to the inter-broker listener for a
// broker without it (Kafka's ControllerChannelManager.addNewBroker).
func TestControlPlaneListener(t *testing.T) {
	var dialed []string
	c := New(Config{BrokerID: 1, Listener: "INTERNAL", ControlListener: "CONTROL",
		Dial: func(_ int32, addr string) Conn { dialed = append(dialed, addr); return nopConn{} }})
	c.channels = map[int32]*channel{}
	c.openChannel(kafkazk.RegisteredBroker{BrokerInfo: zkdata.BrokerInfo{ID: 2, Endpoints: []zkdata.Endpoint{
		{Listener: "EXTERNAL", SecurityProtocol: "SSL", Host: "b2", Port: 9093},
		{Listener: "INTERNAL", SecurityProtocol: "SSL", Host: "b2", Port: 9095},
		{Listener: "CONTROL", SecurityProtocol: "PLAINTEXT", Host: "b2", Port: 9096},
	}}})
	c.openChannel(kafkazk.RegisteredBroker{BrokerInfo: zkdata.BrokerInfo{ID: 3, Endpoints: []zkdata.Endpoint{
		{Listener: "EXTERNAL", SecurityProtocol: "SSL", Host: "b3", Port: 9093},
		{Listener: "INTERNAL", SecurityProtocol: "SSL", Host: "b3", Port: 9095},
	}}})
	for _, ch := range c.channels {
		ch.close()
	}
	if want := []string{"b2:9096", "b3:9095"}; !slices.Equal(dialed, want) {
		t.Fatalf("dialed %v, want %v", dialed, want)
	}
}
