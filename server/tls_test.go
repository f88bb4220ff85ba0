package server

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
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
// a SASL listener without a mechanism served here (Kafka's default
// GSSAPI), stop the broker before it starts.
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

// servedCert dials addr and returns the certificate it serves.
func servedCert(t *testing.T, addr string, ca *testcerts.CA) *x509.Certificate {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0]
}

// TestDynamicKeystore: KIP-226 keystore updates through
// IncrementalAlterConfigs and AlterConfigs: new connections get the new
// certificate while an open client keeps producing; refusals (a wrong
// password, another subject, a key without the listener prefix, a listener
// without TLS) change nothing; DescribeConfigs shows the dynamic keys;
// deleting them returns the listener to its static keystore.
func TestDynamicKeystore(t *testing.T) {
	ca := testcerts.NewCA(t, "server CA")
	tb := startTestBroker(t, tlsProps(t, ca))
	addr := tb.ListenerAddr("SSL").String()
	static := servedCert(t, addr, ca)
	dir := t.TempDir()
	renewed := ca.Server(t, "broker")
	jks := testcerts.Write(t, dir, "renewed.jks", renewed.JKS(t, "jkspw", "jkspw"))

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DialTLSConfig(&tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"}),
		kgo.DefaultProduceTopic("rotate"), kgo.AllowAutoTopicCreation(), kgo.RetryTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	produce := func() {
		t.Helper()
		if err := cl.ProduceSync(tb.ctx(), &kgo.Record{Value: []byte("x")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	produce()

	inc := func(validate bool, name string, ops ...[3]string) *kmsg.IncrementalAlterConfigsResponseResource {
		t.Helper()
		req := kmsg.NewPtrIncrementalAlterConfigsRequest()
		req.ValidateOnly = validate
		r := kmsg.NewIncrementalAlterConfigsRequestResource()
		r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeBroker, name
		for _, o := range ops {
			c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
			c.Name = o[1]
			if o[0] == "delete" {
				c.Op = kmsg.IncrementalAlterConfigOpDelete
			} else {
				c.Value = kmsg.StringPtr(o[2])
			}
			r.Configs = append(r.Configs, c)
		}
		req.Resources = append(req.Resources, r)
		resp := tb.request(1, req).(*kmsg.IncrementalAlterConfigsResponse)
		return &resp.Resources[0]
	}
	set := func(k, v string) [3]string { return [3]string{"set", k, v} }
	rotate := []([3]string){
		set("listener.name.ssl.ssl.keystore.type", "JKS"),
		set("listener.name.ssl.ssl.keystore.location", jks),
		set("listener.name.ssl.ssl.keystore.password", "jkspw"),
	}
	for _, c := range []struct {
		name string
		ops  [][3]string
		msg  string
	}{
		{"wrong password", [][3]string{rotate[0], rotate[1], set("listener.name.ssl.ssl.keystore.password", "nope")}, "wrong password"},
		{"another subject", [][3]string{set("listener.name.ssl.ssl.keystore.type", "PEM"), set("listener.name.ssl.ssl.keystore.password", ""),
			set("listener.name.ssl.ssl.keystore.location", testcerts.Write(t, dir, "other.pem", append(ca.Server(t, "other").KeyPEM(t), ca.Server(t, "other").CertPEM()...)))}, ""},
		{"no listener prefix", [][3]string{set("ssl.keystore.location", jks)}, "only per-listener using the listener prefix"},
		{"listener without TLS", [][3]string{set("listener.name.plaintext.ssl.keystore.location", jks)}, "not a TLS listener"},
		{"not dynamic", [][3]string{set("listener.name.ssl.ssl.client.auth", "required")}, "Cannot update these configs dynamically"},
	} {
		r := inc(false, "0", c.ops...)
		if r.ErrorCode != kerr.InvalidRequest.Code || r.ErrorMessage == nil || !strings.Contains(*r.ErrorMessage, c.msg) {
			t.Fatalf("%s: error %d %v, want INVALID_REQUEST saying %q", c.name, r.ErrorCode, r.ErrorMessage, c.msg)
		}
	}
	if r := inc(true, "0", rotate...); r.ErrorCode != 0 {
		t.Fatalf("validate only: %d %v", r.ErrorCode, r.ErrorMessage)
	}
	if r := inc(false, "", rotate...); r.ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("cluster default: error %d, want INVALID_REQUEST", r.ErrorCode)
	}
	if got := servedCert(t, addr, ca); !got.Equal(static) {
		t.Fatal("a refused or validate-only update changed the certificate")
	}

	if r := inc(false, "0", rotate...); r.ErrorCode != 0 {
		t.Fatalf("rotate: %d %v", r.ErrorCode, r.ErrorMessage)
	}
	if got := servedCert(t, addr, ca); !got.Equal(renewed.Cert) {
		t.Fatalf("a new connection got serial %v, want the renewed certificate's %v", got.SerialNumber, renewed.Cert.SerialNumber)
	}
	produce() // the client's open connection goes on

	rs := tb.request(4, func() kmsg.Request {
		req := kmsg.NewPtrDescribeConfigsRequest()
		req.Resources = append(req.Resources, describeResource("0"))
		return req
	}()).(*kmsg.DescribeConfigsResponse).Resources[0].Configs
	found := map[string]kmsg.DescribeConfigsResponseResourceConfig{}
	for _, c := range rs {
		found[c.Name] = c
	}
	if c, ok := found["listener.name.ssl.ssl.keystore.location"]; !ok || c.Source != kmsg.ConfigSourceDynamicBrokerConfig || c.ReadOnly || *c.Value != jks {
		t.Fatalf("described location %+v", c)
	}
	if c := found["listener.name.ssl.ssl.keystore.password"]; c.Value != nil || !c.IsSensitive {
		t.Fatalf("described password %+v", c)
	}

	// Stored: a restart serves the dynamic keystore, before any request.
	cl.Close()
	tb.restart()
	addr = tb.ListenerAddr("SSL").String()
	if got := servedCert(t, addr, ca); !got.Equal(renewed.Cert) {
		t.Fatal("after a restart the broker serves the static keystore, not the stored dynamic one")
	}
	cl, err = kgo.NewClient(kgo.SeedBrokers(addr), kgo.DialTLSConfig(&tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"}),
		kgo.DefaultProduceTopic("rotate"), kgo.RetryTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	// AlterConfigs replaces the set: empty, the static keystore again.
	areq := kmsg.NewPtrAlterConfigsRequest()
	ar := kmsg.NewAlterConfigsRequestResource()
	ar.ResourceType, ar.ResourceName = kmsg.ConfigResourceTypeBroker, "0"
	areq.Resources = append(areq.Resources, ar)
	if r := tb.request(1, areq).(*kmsg.AlterConfigsResponse).Resources[0]; r.ErrorCode != 0 {
		t.Fatalf("AlterConfigs to none: %d %v", r.ErrorCode, r.ErrorMessage)
	}
	if got := servedCert(t, addr, ca); !got.Equal(static) {
		t.Fatal("dropping the dynamic keystore did not restore the static one")
	}
	produce()
}

func describeResource(name string) kmsg.DescribeConfigsRequestResource {
	r := kmsg.NewDescribeConfigsRequestResource()
	r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeBroker, name
	return r
}
