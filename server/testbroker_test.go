package server

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"samsa/config"
	"samsa/replica"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// testBroker is a broker running in this process on a loopback port, with
// a data directory of its own and no admin listener, and franz-go clients
// connected to it over TCP.
type testBroker struct {
	t     testing.TB
	dir   string
	props map[string]string
	*Server
	cl  *kgo.Client
	adm *kadm.Client
	// pinned holds clients limited to one version of one API key.
	pinned map[[2]int16]*kgo.Client
}

// startTestBroker starts a broker with props over the test defaults and
// shuts it down when the test ends.
func startTestBroker(t testing.TB, props map[string]string) *testBroker {
	t.Helper()
	tb := &testBroker{t: t, dir: t.TempDir(), props: props}
	tb.start()
	t.Cleanup(tb.stop)
	return tb
}

func (tb *testBroker) start() {
	tb.t.Helper()
	props := map[string]string{
		"log.dirs":       tb.dir,
		"listeners":      "PLAINTEXT://127.0.0.1:0",
		"admin.listener": "",
	}
	for k, v := range tb.props {
		props[k] = v
	}
	order := make([]string, 0, len(props))
	for k := range props {
		order = append(order, k)
	}
	cfg, err := config.New(props, order)
	if err != nil {
		tb.t.Fatal(err)
	}
	b, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		tb.t.Fatal(err)
	}
	tb.Server = b
	tb.cl = tb.client()
	tb.adm = kadm.NewClient(tb.cl)
	tb.pinned = map[[2]int16]*kgo.Client{}
}

func (tb *testBroker) stop() {
	if tb.Server == nil {
		return
	}
	tb.cl.Close()
	for _, cl := range tb.pinned {
		cl.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tb.Shutdown(ctx); err != nil {
		tb.t.Errorf("shutdown: %v", err)
	}
	tb.Server = nil
}

// restart shuts the broker down cleanly and starts a new one on the same
// data directory (on a new port).
func (tb *testBroker) restart() {
	tb.t.Helper()
	tb.stop()
	tb.start()
}

func (tb *testBroker) client(opts ...kgo.Opt) *kgo.Client {
	tb.t.Helper()
	opts = append([]kgo.Opt{kgo.SeedBrokers(tb.Addr().String()), kgo.RetryTimeout(5 * time.Second)}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		tb.t.Fatal(err)
	}
	return cl
}

// request sends req at version v straight to the broker, through a client
// whose highest version of req's key is v (no sharding or routing), and
// returns the response, checking it came back at v.
func (tb *testBroker) request(v int16, req kmsg.Request) kmsg.Response {
	tb.t.Helper()
	k := [2]int16{req.Key(), v}
	cl := tb.pinned[k]
	if cl == nil {
		vs := kversion.Stable()
		vs.SetMaxKeyVersion(req.Key(), v)
		cl = tb.client(kgo.MaxVersions(vs))
		tb.pinned[k] = cl
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cl.SeedBrokers()[0].Request(ctx, req)
	if err != nil {
		tb.t.Fatalf("%s v%d: %v", kmsg.NameForKey(req.Key()), v, err)
	}
	if got := resp.GetVersion(); got != v {
		tb.t.Fatalf("%s: sent at v%d, want v%d", kmsg.NameForKey(req.Key()), got, v)
	}
	return resp
}

func (tb *testBroker) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	tb.t.Cleanup(cancel)
	return ctx
}

// topic returns a hosted topic, or nil.
func (tb *testBroker) topic(name string) *replica.Topic { return tb.rm.Topic(name) }
