package netpoll

import (
	"bytes"
	"crypto/tls"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"samsa/internal/testcerts"
	"samsa/security"
	"samsa/zerocopy"
)

// tlsFixture is a CA, a TLS listener's ServerTLS and clients' configs.
type tlsFixture struct {
	ca, other *testcerts.CA
	srv       *security.ServerTLS
}

func newTLSFixture(t *testing.T, clientAuth string) *tlsFixture {
	t.Helper()
	ca := testcerts.NewCA(t, "netpoll CA")
	p := ca.Server(t, "broker")
	srv, err := security.NewServerTLS("SSL", security.SSLConfig{
		ClientAuth: clientAuth,
		Keystore:   security.StoreConfig{Type: "PEM", Key: string(p.KeyPEM(t)), CertificateChain: string(p.CertPEM())},
		Truststore: security.StoreConfig{Type: "PEM", Certificates: string(ca.CertPEM())},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &tlsFixture{ca: ca, other: testcerts.NewCA(t, "other CA"), srv: srv}
}

// client returns a client config presenting cert (nil: none) whatever the
// server asks.
func (f *tlsFixture) client(cert *testcerts.Pair) *tls.Config {
	c := &tls.Config{RootCAs: f.ca.Pool(), ServerName: "localhost"}
	if cert != nil {
		tc := cert.TLS()
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &tc, nil }
	}
	return c
}

// startTLS serves l (its TLS from f) on a loopback port.
func startTLS(t *testing.T, cfg Config, h Handler, l Listener) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logRecorder{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(logs)
	}
	ts := &testServer{Server: NewServer(cfg, h), addr: ln.Addr().String(), logs: logs, served: make(chan error, 1)}
	go func() { ts.served <- ts.ServeListener(ln, l) }()
	t.Cleanup(func() {
		ts.Close()
		if err := <-ts.served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("ServeListener returned %v, want ErrServerClosed", err)
		}
		waitFor(t, "all connections closed", func() bool { return ts.NumConns() == 0 })
	})
	return ts
}

func dialTLS(t *testing.T, addr string, cfg *tls.Config) (*tls.Conn, error) {
	t.Helper()
	d := &net.Dialer{Timeout: ioTimeout}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

// whoami answers each request with the connection's listener, protocol
// and principal.
var whoami = HandlerFunc(func(c *Conn, req []byte) *Response {
	return NewResponse([]byte(fmt.Sprintf("%s %s %s", c.Listener(), c.SecurityProtocol(), c.Principal())))
})

// TestTLSListener: requests over TLS reach the handler with the
// connection's principal: ANONYMOUS without a client certificate, the
// certificate's subject with one.
func TestTLSListener(t *testing.T) {
	f := newTLSFixture(t, security.ClientAuthRequested)
	ts := startTLS(t, Config{}, whoami, Listener{Name: "EXTERNAL", Protocol: security.SSL, TLS: f.srv})
	for _, c := range []struct {
		cert *testcerts.Pair
		want string
	}{
		{nil, "EXTERNAL SSL User:ANONYMOUS"},
		{f.ca.Client(t, "alice"), "EXTERNAL SSL User:CN=alice,OU=clients,O=Samsa tests"},
	} {
		conn, err := dialTLS(t, ts.addr, f.client(c.cert))
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if got := string(roundTrip(t, conn, []byte("who"))); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		}
	}
	plain := startServer(t, Config{}, whoami)
	if got := string(roundTrip(t, dial(t, plain.addr), []byte("who"))); got != "PLAINTEXT PLAINTEXT User:ANONYMOUS" {
		t.Fatalf("plaintext: %q", got)
	}
}

// TestTLSRegions: a fetch-like response over TLS, header bytes around
// file regions, arrives byte-exact; each release runs once; and the
// regions go through the connection's one write buffer, so memory does
// not follow their size.
func TestTLSRegions(t *testing.T) {
	f := newTLSFixture(t, security.ClientAuthNone)
	file, data := segmentFile(t, 4<<20)
	fd := int(file.Fd())
	var rs releases
	h := HandlerFunc(func(c *Conn, req []byte) *Response {
		r := NewResponse([]byte("head:"))
		r.AddRegion(zerocopy.Region{FD: fd, Off: 3, Len: 100}, rs.release())
		r.AddBytes([]byte(":mid:"))
		r.AddRegion(zerocopy.Region{FD: fd, Off: 1000, Len: int64(len(data)) - 1000}, rs.release())
		r.AddBytes([]byte(":tail"))
		rs.onDone(r)
		return r
	})
	ts := startTLS(t, Config{}, h, Listener{Name: "SSL", Protocol: security.SSL, TLS: f.srv})
	conn, err := dialTLS(t, ts.addr, f.client(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Join([][]byte{[]byte("head:"), data[3:103], []byte(":mid:"), data[1000:], []byte(":tail")}, nil)
	got := roundTrip(t, conn, []byte("fetch"))
	if !bytes.Equal(got, want) {
		t.Fatalf("response of %d bytes differs from the %d expected", len(got), len(want))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 8
	for range n {
		if got := roundTrip(t, conn, []byte("fetch")); len(got) != len(want) {
			t.Fatalf("response of %d bytes", len(got))
		}
	}
	runtime.ReadMemStats(&after)
	// The client's reads allocate each response (4 MiB); the server
	// must add little on top: no buffer the size of a region.
	if perResp := (after.TotalAlloc - before.TotalAlloc) / n; perResp > uint64(len(want))+(1<<20) {
		t.Errorf("%d bytes allocated per %d-byte response: the TLS path should copy through one buffer", perResp, len(want))
	}
	waitFor(t, "every release and done", func() bool { return rs.done.Load() == n+1 })
	if rs.calls.Load() != 2*(n+1) || rs.double.Load() != 0 || rs.errs.Load() != 0 {
		t.Fatalf("releases %d (double %d), done errors %d", rs.calls.Load(), rs.double.Load(), rs.errs.Load())
	}
}

// TestTLSBadClients: a plaintext client, garbage, a truncated handshake,
// and client certificates that must be refused are closed before any
// request reaches the handler, each counted as an authentication failure,
// and a good client on the same listener is served throughout.
func TestTLSBadClients(t *testing.T) {
	f := newTLSFixture(t, security.ClientAuthRequired)
	var served atomic.Int64
	h := HandlerFunc(func(c *Conn, req []byte) *Response {
		served.Add(1)
		return NewResponse(req)
	})
	ts := startTLS(t, Config{HandshakeTimeout: 300 * time.Millisecond}, h, Listener{Name: "SSL", Protocol: security.SSL, TLS: f.srv})
	good, err := dialTLS(t, ts.addr, f.client(f.ca.Client(t, "good")))
	if err != nil {
		t.Fatal(err)
	}
	check := func(label string) {
		t.Helper()
		before := served.Load()
		if got := roundTrip(t, good, []byte(label)); string(got) != label {
			t.Fatalf("%s: good client got %q", label, got)
		}
		if served.Load() != before+1 {
			t.Fatalf("%s: the handler served something else", label)
		}
	}
	check("start")
	failures := ts.Stats().AuthFailures

	// A plaintext Kafka client: its size prefix is no TLS record.
	pc := dial(t, ts.addr)
	if err := writeFrame(pc, []byte("\x00\x12\x00\x03\x00\x00\x00\x01")); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, pc)
	check("after plaintext")

	// Garbage, then a ClientHello cut short: the handshake times out.
	gc := dial(t, ts.addr)
	gc.Write(bytes.Repeat([]byte{0x16, 0x03, 0x01, 0xff}, 64))
	expectAlertAndClose(t, gc)
	tc := dial(t, ts.addr)
	hello := captureClientHello(t, f.client(nil))
	tc.Write(hello[:len(hello)/2])
	expectAlertAndClose(t, tc)
	check("after garbage")

	expired := f.ca.Issue(t, testcerts.Options{Subject: pkix.Name{CommonName: "old"}, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	for _, c := range []struct {
		name string
		cert *testcerts.Pair
	}{
		{"no certificate", nil},
		{"untrusted", f.other.Client(t, "mallory")},
		{"expired", expired},
	} {
		conn, err := dialTLS(t, ts.addr, f.client(c.cert))
		if err == nil {
			// TLS 1.3: the server refuses after the client's handshake is
			// done; the client learns it reading.
			writeFrame(conn, []byte("must not be served"))
			if resp, err := readFrame(conn); err == nil {
				t.Fatalf("%s: served %q", c.name, resp)
			}
		}
		check("after " + c.name)
	}
	waitFor(t, "authentication failures counted", func() bool { return ts.Stats().AuthFailures >= failures+6 })
	if _, ok := ts.logs.find("INFO netpoll: failed authentication: TLS handshake failed"); !ok {
		t.Error("failed handshakes are not logged at INFO")
	}
}

// expectAlertAndClose fails unless the server closes c, having sent
// nothing but (perhaps) a TLS alert record.
func expectAlertAndClose(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(ioTimeout))
	var got []byte
	buf := make([]byte, 512)
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("connection still open after %v", ioTimeout)
			}
			break
		}
	}
	if len(got) > 0 && got[0] != 0x15 {
		t.Fatalf("the server sent %x, not a TLS alert", got)
	}
}

// captureClientHello returns the first bytes a TLS client sends.
func captureClientHello(t *testing.T, cfg *tls.Config) []byte {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	go tls.Client(b, cfg).Handshake()
	buf := make([]byte, 4096)
	a.SetReadDeadline(time.Now().Add(ioTimeout))
	n, err := a.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	return buf[:n]
}

// TestTLSShutdownDuringHandshake: a connection stuck in its handshake does
// not hold up Shutdown.
func TestTLSShutdownDuringHandshake(t *testing.T) {
	f := newTLSFixture(t, security.ClientAuthNone)
	ts := startTLS(t, Config{HandshakeTimeout: -1}, echo, Listener{Name: "SSL", Protocol: security.SSL, TLS: f.srv})
	c := dial(t, ts.addr)
	c.Write([]byte{0x16, 0x03, 0x01}) // a record header, and nothing more
	waitFor(t, "the connection accepted", func() bool { return ts.NumConns() == 1 })
	done := make(chan error, 1)
	go func() { done <- ts.Shutdown(t.Context()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(ioTimeout):
		t.Fatal("Shutdown waited for a handshake that never ends")
	}
	expectClosed(t, c)
}

// fakeSASL authenticates a connection that sends "auth <name>": the seam
// SASL mechanisms plug into. "bad" fails; anything else is answered with
// "unauthenticated".
type fakeSASL struct{ frames *atomic.Int64 }

func (a fakeSASL) Authenticate(c *Conn, req []byte) (*Response, bool, error) {
	a.frames.Add(1)
	name, ok := strings.CutPrefix(string(req), "auth ")
	switch {
	case ok && name == "bad":
		return NewResponse([]byte("authentication failed")), false, errors.New("bad credentials")
	case ok:
		c.SetPrincipal(security.User(name))
		return NewResponse([]byte("welcome " + name)), true, nil
	}
	return NewResponse([]byte("unauthenticated")), false, nil
}

// TestAuthenticatorSeam: on a SASL listener frames go to the
// Authenticator until it is done, never to the handler; the principal it
// sets is the connection's; a failure is answered, then closed. Over TLS
// too (SASL_SSL).
func TestAuthenticatorSeam(t *testing.T) {
	f := newTLSFixture(t, security.ClientAuthNone)
	for _, proto := range []security.Protocol{security.SASLPlaintext, security.SASLSSL} {
		t.Run(proto.String(), func(t *testing.T) {
			var authFrames, served atomic.Int64
			h := HandlerFunc(func(c *Conn, req []byte) *Response {
				served.Add(1)
				return whoami(c, req)
			})
			l := Listener{Name: proto.String(), Protocol: proto, TLS: f.srv,
				NewAuthenticator: func(*Conn) Authenticator { return fakeSASL{&authFrames} }}
			ts := startTLS(t, Config{}, h, l)
			connect := func() net.Conn {
				if proto.TLS() {
					c, err := dialTLS(t, ts.addr, f.client(nil))
					if err != nil {
						t.Fatal(err)
					}
					return c
				}
				return dial(t, ts.addr)
			}
			c := connect()
			if got := string(roundTrip(t, c, []byte("metadata please"))); got != "unauthenticated" {
				t.Fatalf("before authentication: %q", got)
			}
			if got := string(roundTrip(t, c, []byte("auth alice"))); got != "welcome alice" {
				t.Fatalf("authenticating: %q", got)
			}
			if got := string(roundTrip(t, c, []byte("who"))); got != proto.String()+" "+proto.String()+" User:alice" {
				t.Fatalf("after authentication: %q", got)
			}
			if authFrames.Load() != 2 || served.Load() != 1 {
				t.Fatalf("authenticator saw %d frames, handler %d; want 2, 1", authFrames.Load(), served.Load())
			}
			bad := connect()
			if got := string(roundTrip(t, bad, []byte("auth bad"))); got != "authentication failed" {
				t.Fatalf("failed authentication answered %q", got)
			}
			expectClosed(t, bad)
			if served.Load() != 1 || ts.Stats().AuthFailures != 1 {
				t.Fatalf("handler served %d, auth failures %d", served.Load(), ts.Stats().AuthFailures)
			}
		})
	}
}

func TestServeListenerNeedsItsSecurity(t *testing.T) {
	s := NewServer(Config{}, echo)
	defer s.Close()
	for _, c := range []struct {
		l    Listener
		want error
	}{
		{Listener{Name: "SSL", Protocol: security.SSL}, ErrNoTLS},
		{Listener{Name: "SASL_SSL", Protocol: security.SASLSSL}, ErrNoTLS},
		{Listener{Name: "SASL_PLAINTEXT", Protocol: security.SASLPlaintext}, ErrNoAuthenticator},
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ServeListener(ln, c.l); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.l.Name, err, c.want)
		}
		if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			t.Errorf("%s: the listener was left open", c.l.Name)
		}
	}
}
