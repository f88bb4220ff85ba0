package server

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/config"
	"samsa/internal/testcerts"
)

// tlsProps are the props of a broker with PLAINTEXT, SSL and an SSL
// INTERNAL listener advertised under other host names, its keystore a
// PKCS12 file.
func tlsProps(t *testing.T, ca *testcerts.CA) map[string]string {
	dir := t.TempDir()
	ks := testcerts.Write(t, dir, "broker.p12", ca.Server(t, "broker").PKCS12(t, "storepw"))
	return map[string]string{
		"listeners":                      "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,INTERNAL://127.0.0.1:0",
		"advertised.listeners":           "PLAINTEXT://127.0.0.1:0,SSL://localhost:0,INTERNAL://internal.invalid:0",
		"listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SSL:SSL,INTERNAL:SSL",
		"ssl.keystore.type":              "PKCS12",
		"ssl.keystore.location":          ks,
		"ssl.keystore.password":          "storepw",
	}
}

// TestListenersMetadata: each listener serves, TLS ones with the
// keystore's certificate, and Metadata, FindCoordinator and
// DescribeCluster answer each client with the endpoints of the listener
// it came in on.
func TestListenersMetadata(t *testing.T) {
	ca := testcerts.NewCA(t, "server CA")
	tb := startTestBroker(t, tlsProps(t, ca))
	addr := func(name string) string { return tb.ListenerAddr(name).String() }
	port := func(name string) int32 {
		_, p, _ := net.SplitHostPort(addr(name))
		n, _ := strconv.Atoi(p)
		return int32(n)
	}
	clientTLS := &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"}
	for _, c := range []struct {
		listener string
		tls      bool
		host     string
	}{
		{"PLAINTEXT", false, "127.0.0.1"},
		{"SSL", true, "localhost"},
		{"INTERNAL", true, "internal.invalid"},
	} {
		t.Run(c.listener, func(t *testing.T) {
			opts := []kgo.Opt{kgo.SeedBrokers(addr(c.listener)), kgo.RetryTimeout(5 * time.Second)}
			if c.tls {
				opts = append(opts, kgo.DialTLSConfig(clientTLS))
			}
			cl, err := kgo.NewClient(opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			seed := cl.SeedBrokers()[0]
			md, err := seed.Request(tb.ctx(), kmsg.NewPtrMetadataRequest())
			if err != nil {
				t.Fatal(err)
			}
			bs := md.(*kmsg.MetadataResponse).Brokers
			if len(bs) != 1 || bs[0].Host != c.host || bs[0].Port != port(c.listener) {
				t.Fatalf("metadata brokers %+v, want %s:%d", bs, c.host, port(c.listener))
			}
			dc, err := seed.Request(tb.ctx(), kmsg.NewPtrDescribeClusterRequest())
			if err != nil {
				t.Fatal(err)
			}
			if bs := dc.(*kmsg.DescribeClusterResponse).Brokers; len(bs) != 1 || bs[0].Host != c.host || bs[0].Port != port(c.listener) {
				t.Fatalf("DescribeCluster brokers %+v", bs)
			}
			fc := kmsg.NewPtrFindCoordinatorRequest()
			fc.CoordinatorKeys = []string{"g"}
			var coord kmsg.FindCoordinatorResponseCoordinator
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				r, err := seed.Request(tb.ctx(), fc)
				if err != nil {
					t.Fatal(err)
				}
				if cs := r.(*kmsg.FindCoordinatorResponse).Coordinators; len(cs) != 1 {
					t.Fatalf("FindCoordinator answered %d coordinators", len(cs))
				} else if coord = cs[0]; coord.ErrorCode == 0 || time.Now().After(deadline) {
					break
				}
			}
			if coord.ErrorCode != 0 || coord.Host != c.host || coord.Port != port(c.listener) {
				t.Fatalf("FindCoordinator: error %d, %s:%d", coord.ErrorCode, coord.Host, coord.Port)
			}
		})
	}
	// A round trip over SSL: the client follows the advertised
	// localhost:port, served with the certificate of localhost.
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr("SSL")), kgo.DialTLSConfig(clientTLS), kgo.DefaultProduceTopic("tls"),
		kgo.AllowAutoTopicCreation(), kgo.ConsumeTopics("tls"), kgo.RetryTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(tb.ctx(), &kgo.Record{Value: []byte("over TLS")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	fs := cl.PollFetches(tb.ctx())
	if err := fs.Err(); err != nil {
		t.Fatal(err)
	}
	if recs := fs.Records(); len(recs) != 1 || string(recs[0].Value) != "over TLS" {
		t.Fatalf("consumed %v", recs)
	}
}

// TestListenerConfigErrors: a TLS listener whose keystore cannot load, and
// a SASL listener (not served yet), stop the broker before it starts.
func TestListenerConfigErrors(t *testing.T) {
	ca := testcerts.NewCA(t, "server CA")
	for _, c := range []struct {
		name string
		set  map[string]string
		want string
	}{
		{"wrong password", map[string]string{"ssl.keystore.password": "nope"}, "wrong password"},
		{"listener's own keystore missing", map[string]string{"listener.name.internal.ssl.keystore.location": "/nonexistent.p12"}, "listener INTERNAL"},
		{"SASL", map[string]string{"listeners": "PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0", "advertised.listeners": "",
			"listener.security.protocol.map": ""}, "SASL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			props := tlsProps(t, ca)
			props["log.dirs"], props["admin.listener"] = t.TempDir(), ""
			for k, v := range c.set {
				if v == "" {
					delete(props, k)
				} else {
					props[k] = v
				}
			}
			var order []string
			for k := range props {
				order = append(order, k)
			}
			cfg, err := config.New(props, order)
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err == nil {
				s.Shutdown(t.Context())
				t.Fatal("the broker was built")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not say %q", err, c.want)
			}
		})
	}
}
