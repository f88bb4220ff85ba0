package itest

// TLS listeners with real clients: kcat and confluent-kafka (librdkafka),
// kafka-python, sarama and franz-go over SSL and mTLS; each keystore type;
// Metadata per listener; bad input on and around TLS ports; certificate
// rotation while a client keeps producing. Certificates are made here
// (internal/testcerts): a CA, the broker's certificate for localhost and
// 127.0.0.1, client certificates.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/testcerts"
)

// clientSec is how clients reach a TLS or SASL listener: the CA and, for
// mTLS, a client certificate, as PEM files for kcat and the Python clients
// and as a tls.Config for the Go ones (cfg nil: no TLS); and a SASL
// mechanism with its user and password (sasl_test.go; mech "": none). Its
// methods accept nil: plaintext.
type clientSec struct {
	caFile, certFile, keyFile string
	cfg                       *tls.Config
	mech, user, pass          string
}

// protocol is the client's security.protocol.
func (s *clientSec) protocol() string {
	switch {
	case s.mech != "" && s.cfg != nil:
		return "SASL_SSL"
	case s.mech != "":
		return "SASL_PLAINTEXT"
	}
	return "SSL"
}

func (s *clientSec) kcatArgs() []string {
	if s == nil {
		return nil
	}
	args := []string{"-X", "security.protocol=" + s.protocol()}
	if s.cfg != nil {
		args = append(args, "-X", "ssl.ca.location="+s.caFile)
	}
	if s.certFile != "" {
		args = append(args, "-X", "ssl.certificate.location="+s.certFile, "-X", "ssl.key.location="+s.keyFile)
	}
	if s.mech != "" {
		args = append(args, "-X", "sasl.mechanisms="+s.mech, "-X", "sasl.username="+s.user, "-X", "sasl.password="+s.pass)
	}
	return args
}

func (s *clientSec) pyEnv() []string {
	if s == nil {
		return nil
	}
	var env []string
	if s.cfg != nil {
		env = append(env, "SSL_CAFILE="+s.caFile)
	}
	if s.certFile != "" {
		env = append(env, "SSL_CERTFILE="+s.certFile, "SSL_KEYFILE="+s.keyFile)
	}
	if s.mech != "" {
		env = append(env, "SASL_MECHANISM="+s.mech, "SASL_USERNAME="+s.user, "SASL_PASSWORD="+s.pass)
	}
	return env
}

func (s *clientSec) sarama(cfg *sarama.Config) {
	if s == nil {
		return
	}
	if s.cfg != nil {
		cfg.Net.TLS.Enable = true
		cfg.Net.TLS.Config = s.cfg.Clone()
	}
	if s.mech != "" {
		saramaSASL(cfg, s.mech, s.user, s.pass)
	}
}

func (s *clientSec) kgo() []kgo.Opt {
	if s == nil {
		return nil
	}
	var opts []kgo.Opt
	if s.cfg != nil {
		opts = append(opts, kgo.DialTLSConfig(s.cfg.Clone()))
	}
	if s.mech != "" {
		opts = append(opts, kgo.SASL(kgoSASL(s.mech, s.user, s.pass)))
	}
	return opts
}

// via returns the broker as clients of its listener name see it: that
// listener's address, reached with sec.
func (b *broker) via(name string, sec *clientSec) *broker {
	vb := *b
	vb.addr, vb.sec = b.extraAddrs[name], sec
	if vb.addr == "" {
		b.t.Fatalf("the broker has no listener %s", name)
	}
	return &vb
}

// pki is a test's certificates and the files clients and brokers read.
type pki struct {
	dir       string
	ca, other *testcerts.CA
	caFile    string
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir(), ca: testcerts.NewCA(t, "Samsa itest CA"), other: testcerts.NewCA(t, "Untrusted CA")}
	p.caFile = testcerts.Write(t, p.dir, "ca.pem", p.ca.CertPEM())
	return p
}

// anon is a client that trusts the CA and has no certificate.
func (p *pki) anon() *clientSec {
	return &clientSec{caFile: p.caFile, cfg: &tls.Config{RootCAs: p.ca.Pool()}}
}

// client is a client with certificate pair (mTLS).
func (p *pki) client(t testing.TB, pair *testcerts.Pair) *clientSec {
	t.Helper()
	name := fmt.Sprintf("client-%s-%x", pair.Cert.Subject.CommonName, pair.Cert.SerialNumber.Bytes()[:4])
	cert := pair.TLS()
	return &clientSec{
		caFile:   p.caFile,
		certFile: testcerts.Write(t, p.dir, name+".pem", pair.CertPEM()),
		keyFile:  testcerts.Write(t, p.dir, name+".key", pair.KeyPEM(t)),
		cfg: &tls.Config{RootCAs: p.ca.Pool(),
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }},
	}
}

// keystore writes the broker's keystore of type typ (PKCS12, JKS, PEM: a
// file with an encrypted key, PEM-inline: ssl.keystore.key) and returns
// the overrides naming it, prefixed for listener when one is given.
func (p *pki) keystore(t testing.TB, typ, listener string, pair *testcerts.Pair) []string {
	t.Helper()
	prefix := ""
	if listener != "" {
		prefix = "listener.name." + strings.ToLower(listener) + "."
	}
	name := fmt.Sprintf("broker-%x", pair.Cert.SerialNumber.Bytes()[:6])
	kv := func(pairs ...string) []string {
		var out []string
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, prefix+pairs[i]+"="+pairs[i+1])
		}
		return out
	}
	switch typ {
	case "PKCS12":
		return kv("ssl.keystore.type", "PKCS12", "ssl.keystore.location", testcerts.Write(t, p.dir, name+".p12", pair.PKCS12(t, "p12-secret")),
			"ssl.keystore.password", "p12-secret")
	case "JKS":
		return kv("ssl.keystore.type", "JKS", "ssl.keystore.location", testcerts.Write(t, p.dir, name+".jks", pair.JKS(t, "jks-store", "jks-key")),
			"ssl.keystore.password", "jks-store", "ssl.key.password", "jks-key")
	case "PEM":
		return kv("ssl.keystore.type", "PEM", "ssl.keystore.location",
			testcerts.Write(t, p.dir, name+".pem", append(pair.CertPEM(), pair.EncryptedKeyPEM(t, "pem-key")...)), "ssl.key.password", "pem-key")
	case "PEM-inline":
		return kv("ssl.keystore.type", "PEM", "ssl.keystore.key", string(pair.KeyPEM(t)),
			"ssl.keystore.certificate.chain", string(pair.CertPEM())+string(p.ca.CertPEM()))
	}
	t.Fatalf("keystore type %s", typ)
	return nil
}

// truststore names the CA as the broker's truststore (PKCS12, as keytool
// makes trust stores).
func (p *pki) truststore(t testing.TB) []string {
	t.Helper()
	return []string{"ssl.truststore.type=PKCS12", "ssl.truststore.password=trust-secret",
		"ssl.truststore.location=" + testcerts.Write(t, p.dir, "trust.p12", p.ca.PKCS12Trust(t, "trust-secret"))}
}

// startListenersBroker starts a broker with the extra listeners named
// besides PLAINTEXT.
func startListenersBroker(t testing.TB, extra []string, overrides ...string) *broker {
	t.Helper()
	b := newBroker(t, overrides...)
	b.extra = extra
	if err := b.startFresh(); err != nil {
		t.Fatalf("broker did not start: %v", err)
	}
	return b
}

// TestTLSClients: every client library and tool produces and consumes
// over an SSL listener (PKCS12 keystore), with delivery reports and every
// record compared, as TestClientRoundTrip does over PLAINTEXT.
func TestTLSClients(t *testing.T) {
	p := newPKI(t)
	b := startListenersBroker(t, []string{"SSL"}, append(p.keystore(t, "PKCS12", "", p.ca.Server(t, "localhost")), "num.partitions=3")...)
	ssl := b.via("SSL", p.anon())
	for _, name := range []string{"kcat", "confluent", "kafka-python", "sarama", "franz-go"} {
		c := clients[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			roundTrip(t, ssl, "tls."+name, c, c)
		})
	}
}

// TestTLSMutualAuth: ssl.client.auth=required with a JKS keystore and a
// PKCS12 truststore; each client presents its own certificate, mapped by
// ssl.principal.mapping.rules. A certificate no rule maps, one of another
// CA and none at all are refused, and counted.
func TestTLSMutualAuth(t *testing.T) {
	p := newPKI(t)
	overrides := append(p.keystore(t, "JKS", "", p.ca.Server(t, "localhost")), p.truststore(t)...)
	overrides = append(overrides, "num.partitions=3", "ssl.client.auth=required",
		// No DEFAULT: a subject outside OU=clients fails authentication.
		"ssl.principal.mapping.rules=RULE:^CN=([a-z-]+),OU=clients,O=Samsa tests$/$1/L")
	b := startListenersBroker(t, []string{"SSL"}, overrides...)
	for _, name := range []string{"kcat", "confluent", "kafka-python", "sarama", "franz-go"} {
		c := clients[name]
		sec := p.client(t, p.ca.Client(t, name))
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			roundTrip(t, b.via("SSL", sec), "mtls."+name, c, c)
		})
	}
	before := b.metric(t, "samsa_failed_authentication_total")
	service := p.ca.Issue(t, testcerts.Options{Subject: pkix.Name{CommonName: "svc", OrganizationalUnit: []string{"services"}, Organization: []string{"Samsa tests"}}})
	for what, sec := range map[string]*clientSec{
		"unmapped subject": p.client(t, service),
		"other CA":         p.client(t, p.other.Client(t, "mallory")),
		"no certificate":   p.anon(),
	} {
		if err := metadataErr(b.via("SSL", sec)); err == nil {
			t.Errorf("%s: served", what)
		}
	}
	waitFor(t, "3 more failed authentications", 10*time.Second, func() bool {
		return b.metric(t, "samsa_failed_authentication_total") >= before+3
	})
	if !strings.Contains(b.log.String(), "failed authentication") {
		t.Error("the broker did not log the failed authentications")
	}
}

// metadataErr asks for metadata through the broker, once, with no retry.
func metadataErr(b *broker) error {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.addr), kgo.RequestRetries(0),
		kgo.DialTimeout(5 * time.Second), kgo.RetryTimeout(time.Second)}, b.sec.kgo()...)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = cl.Request(c, kmsg.NewPtrMetadataRequest())
	return err
}

// TestTLSKeystoreTypes: a PEM file with an encrypted PKCS#8 key and an
// inline PEM keystore (ssl.keystore.key) serve as the PKCS12 and JKS ones
// of the tests above do, per listener (listener.name.<l>.ssl.*).
func TestTLSKeystoreTypes(t *testing.T) {
	p := newPKI(t)
	server := p.ca.Server(t, "localhost")
	overrides := append(p.keystore(t, "PEM", "SSL", server), p.keystore(t, "PEM-inline", "INTERNAL", server)...)
	overrides = append(overrides, "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,INTERNAL:SSL")
	b := startListenersBroker(t, []string{"SSL", "INTERNAL"}, overrides...)
	for _, l := range []string{"SSL", "INTERNAL"} {
		t.Run(l, func(t *testing.T) {
			vb := b.via(l, p.anon())
			roundTrip(t, vb, "keystore."+l, clients["franz-go"], clients["kcat"])
		})
	}
}

// TestListenerMetadata: each listener's clients are told the brokers'
// endpoints on that listener: kcat -L and confluent-kafka over SSL see
// localhost (advertised for SSL), franz-go over PLAINTEXT 127.0.0.1, and
// an INTERNAL listener its own advertised name.
func TestListenerMetadata(t *testing.T) {
	p := newPKI(t)
	b := newBroker(t, append(p.keystore(t, "PKCS12", "", p.ca.Server(t, "localhost")),
		"listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,INTERNAL:PLAINTEXT")...)
	b.extra = []string{"SSL", "INTERNAL"}
	if err := b.startFresh(); err != nil {
		t.Fatal(err)
	}
	// Advertise SSL as localhost, INTERNAL under a name of its own: a
	// restart on the same ports with advertised.listeners set.
	b.kill()
	_, sslPort, _ := net.SplitHostPort(b.extraAddrs["SSL"])
	_, internalPort, _ := net.SplitHostPort(b.extraAddrs["INTERNAL"])
	b.overrides = append(b.overrides, "advertised.listeners=PLAINTEXT://"+b.addr+",SSL://localhost:"+sslPort+",INTERNAL://internal.invalid:"+internalPort)
	b.restart()
	b.newTopic(t, "md", 2, nil)

	kcat := needKcat(t)
	out := string(runCmd(t, nil, kcat, append([]string{"-L", "-b", b.extraAddrs["SSL"], "-t", "md"}, p.anon().kcatArgs()...)...))
	if !strings.Contains(out, "broker 0 at localhost:"+sslPort) {
		t.Errorf("kcat -L over SSL:\n%s\nwant broker 0 at localhost:%s", out, sslPort)
	}
	needPyClient(t, "ck")
	ck := string(runPyEnv(t, p.anon().pyEnv(), nil, "ck-metadata", b.extraAddrs["SSL"], "md"))
	if !strings.Contains(ck, `"host": "localhost", "port": `+sslPort) {
		t.Errorf("confluent-kafka over SSL: %s", ck)
	}
	for _, c := range []struct {
		listener, host, port string
		sec                  *clientSec
	}{
		{"PLAINTEXT", "127.0.0.1", fmt.Sprint(portOf(t, b.addr)), nil},
		{"SSL", "localhost", sslPort, p.anon()},
		{"INTERNAL", "internal.invalid", internalPort, nil},
	} {
		vb := b
		if c.listener != "PLAINTEXT" {
			vb = b.via(c.listener, c.sec)
		}
		conn := vb.dial(t)
		req := kmsg.NewPtrMetadataRequest()
		req.SetVersion(12)
		md := conn.roundTrip(t, req).(*kmsg.MetadataResponse)
		conn.Close()
		if len(md.Brokers) != 1 || md.Brokers[0].Host != c.host || fmt.Sprint(md.Brokers[0].Port) != c.port {
			t.Errorf("%s: brokers %+v, want %s:%s", c.listener, md.Brokers, c.host, c.port)
		}
	}
}

// TestTLSBadInput: on and around an mTLS listener, a plaintext client on
// the TLS port and a TLS client on the plaintext port, garbage, a
// truncated handshake, and client certificates that are expired, of an
// untrusted CA or missing: each gets a clean error or a closed
// connection, nothing is served, and a good client on the same listener
// is served throughout.
func TestTLSBadInput(t *testing.T) {
	p := newPKI(t)
	overrides := append(p.keystore(t, "PEM", "", p.ca.Server(t, "localhost")), p.truststore(t)...)
	b := startListenersBroker(t, []string{"SSL"}, append(overrides, "ssl.client.auth=required")...)
	good := b.via("SSL", p.client(t, p.ca.Client(t, "good")))
	good.newTopic(t, "bad.input", 1, nil)
	cl := good.client(t)
	n := 0
	healthy := func(after string) {
		t.Helper()
		n++
		produceSync(t, cl, &kgo.Record{Topic: "bad.input", Value: []byte(after)})
		if got := good.consumeAll(t, "bad.input"); len(got) != n || string(got[n-1].Value) != after {
			t.Fatalf("after %s: the good client read %d records", after, len(got))
		}
	}
	healthy("start")
	sslAddr := b.extraAddrs["SSL"]

	// A plaintext Kafka request on the TLS port: closed, unanswered.
	raw := dialRaw(t, sslAddr)
	raw.Write(frame(append(header(18, 0, 1), 0, 0)))
	expectAlertOrClose(t, raw, "plaintext request on the TLS port")
	if _, _, err := tryCmd(t, nil, needKcat(t), "-L", "-b", sslAddr, "-m", "1"); err == nil {
		t.Error("kcat without TLS listed metadata from the TLS port")
	}
	healthy("plaintext on TLS")

	// A TLS client on the plaintext port: its ClientHello is no frame the
	// broker takes (a size far past socket.request.max.bytes).
	if err := metadataErr(&broker{addr: b.addr, sec: p.anon()}); err == nil {
		t.Error("a TLS client was served by the plaintext port")
	}
	if _, _, err := tryCmd(t, nil, needKcat(t), append([]string{"-L", "-b", b.addr, "-m", "1"}, p.anon().kcatArgs()...)...); err == nil {
		t.Error("kcat over TLS listed metadata from the plaintext port")
	}
	healthy("TLS on plaintext")

	// Garbage, and a handshake cut short.
	raw = dialRaw(t, sslAddr)
	raw.Write(bytes.Repeat([]byte{0x16, 0x03, 0x01, 0x00, 0x10, 0xde, 0xad}, 100))
	expectAlertOrClose(t, raw, "garbage")
	hello := clientHello(t)
	raw = dialRaw(t, sslAddr)
	raw.Write(hello[:len(hello)/3])
	raw.(*net.TCPConn).CloseWrite()
	expectAlertOrClose(t, raw, "truncated handshake")
	healthy("garbage")

	expired := p.ca.Issue(t, testcerts.Options{Subject: pkix.Name{CommonName: "old"}, NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	for what, sec := range map[string]*clientSec{
		"expired":        p.client(t, expired),
		"untrusted":      p.client(t, p.other.Client(t, "mallory")),
		"no certificate": p.anon(),
	} {
		if err := metadataErr(b.via("SSL", sec)); err == nil {
			t.Errorf("%s client certificate: served", what)
		}
		kcatOut, _, err := tryCmd(t, nil, needKcat(t), append([]string{"-L", "-b", sslAddr, "-m", "1"}, sec.kcatArgs()...)...)
		if err == nil {
			t.Errorf("%s client certificate: kcat listed metadata:\n%s", what, kcatOut)
		}
		healthy(what)
	}
	if f := b.metric(t, "samsa_failed_authentication_total"); f < 6 {
		t.Errorf("samsa_failed_authentication_total %v, want at least 6", f)
	}
}

func dialRaw(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// expectAlertOrClose fails unless the broker closes c having sent at most
// a TLS alert record: nothing served.
func expectAlertOrClose(t testing.TB, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: the connection is still open", what)
	}
	if len(got) > 0 && got[0] != 0x15 {
		t.Fatalf("%s: the broker sent %x, not a TLS alert", what, got)
	}
}

// clientHello returns the first flight of a TLS client.
func clientHello(t testing.TB) []byte {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	go func() {
		tls.Client(b, &tls.Config{ServerName: "localhost"}).Handshake()
		b.Close()
	}()
	buf := make([]byte, 4096)
	a.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := a.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// TestTLSRotation: the listener's keystore changes without a restart,
// through kadm (IncrementalAlterConfigs) and then by rewriting the file
// and setting the same location again, while a franz-go producer keeps
// producing over TLS: no send fails, every record is there, and each new
// connection gets the certificate in force.
func TestTLSRotation(t *testing.T) {
	p := newPKI(t)
	first := p.ca.Server(t, "localhost")
	b := startListenersBroker(t, []string{"SSL"}, p.keystore(t, "PKCS12", "", first)...)
	ssl := b.via("SSL", p.anon())
	ssl.newTopic(t, "rotate", 1, nil)
	served := func() string {
		t.Helper()
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", b.extraAddrs["SSL"], &tls.Config{RootCAs: p.ca.Pool(), ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	if got := served(); got != first.Cert.SerialNumber.String() {
		t.Fatalf("serving serial %s, want the first certificate's", got)
	}

	cl := ssl.client(t, kgo.DefaultProduceTopic("rotate"))
	stop, done := make(chan struct{}), make(chan error, 1)
	var sent atomic.Int64
	go func() {
		for {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if err := cl.ProduceSync(ctx(t), &kgo.Record{Value: fmt.Appendf(nil, "r%d", sent.Load())}).FirstErr(); err != nil {
				done <- err
				return
			}
			sent.Add(1)
		}
	}()

	adm := kadm.NewClient(ssl.client(t))
	rotate := func(ks []string) {
		t.Helper()
		var alter []kadm.AlterConfig
		for _, kv := range ks {
			k, v, _ := strings.Cut(kv, "=")
			alter = append(alter, kadm.AlterConfig{Op: kadm.SetConfig, Name: "listener.name.ssl." + k, Value: kmsg.StringPtr(v)})
		}
		rs, err := adm.AlterBrokerConfigs(ctx(t), alter, 0)
		if err == nil {
			err = rs[0].Err
		}
		if err != nil {
			t.Fatalf("rotate: %v (%s)", err, rs[0].ErrMessage)
		}
	}
	second := p.ca.Server(t, "localhost")
	jks := p.keystore(t, "JKS", "", second)
	rotate(jks)
	if got := served(); got != second.Cert.SerialNumber.String() {
		t.Fatalf("after rotation serving serial %s, want %s", got, second.Cert.SerialNumber)
	}
	// The same location, the file rewritten: Kafka's in-place update.
	third := p.ca.Server(t, "localhost")
	for _, kv := range jks {
		if k, v, _ := strings.Cut(kv, "="); k == "ssl.keystore.location" {
			testcerts.Write(t, "", v, third.JKS(t, "jks-store", "jks-key"))
		}
	}
	rotate(jks)
	if got := served(); got != third.Cert.SerialNumber.String() {
		t.Fatalf("after the in-place update serving serial %s, want %s", got, third.Cert.SerialNumber)
	}
	after := sent.Load()
	waitFor(t, "more records after the rotations", 10*time.Second, func() bool { return sent.Load() > after+10 })
	close(stop)
	if err := <-done; err != nil {
		t.Fatalf("a produce failed during the rotations: %v", err)
	}
	if got := ssl.consumeAll(t, "rotate"); int64(len(got)) != sent.Load() {
		t.Fatalf("consumed %d records, produced %d", len(got), sent.Load())
	}
	if !strings.Contains(b.log.String(), "listener keystore reloaded") {
		t.Error("the broker did not log the reloads")
	}
}
