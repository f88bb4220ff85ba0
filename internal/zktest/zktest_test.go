package zktest

import (
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"samsa/internal/testcerts"
)

func TestMain(m *testing.M) { Main(m) }

func connect(t *testing.T, addr string, timeout time.Duration) *zk.Conn {
	t.Helper()
	c, _, err := zk.Connect([]string{addr}, timeout, zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// waitState polls until the connection is in state st.
func waitState(t *testing.T, c *zk.Conn, st zk.State, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for c.State() != st {
		if time.Now().After(deadline) {
			t.Fatalf("connection state %v, want %v after %v", c.State(), st, within)
		}
		time.Sleep(10 * time.Millisecond) // poll interval
	}
}

func TestClasspathNamesThePackage(t *testing.T) {
	_, err := Classpath(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "Debian package `zookeeper`") {
		t.Fatalf("err = %v, want one naming the Debian package `zookeeper`", err)
	}
	if _, err := Classpath(JarDir); err != nil {
		t.Fatalf("this machine lacks ZooKeeper: %v", err)
	}
}

func TestServerAnswersAndSurvivesRestartAndKill(t *testing.T) {
	s := Start(t)
	ans, err := s.FourLetter("srvr")
	if err != nil || !strings.Contains(ans, "Mode: standalone") {
		t.Fatalf("srvr = %q, %v", ans, err)
	}
	if !strings.Contains(s.LogTail(200), "minSessionTimeout 400 ms") {
		t.Fatalf("the server does not run with tickTime 200 ms; log:\n%s", s.LogTail(40))
	}

	c := connect(t, s.Addr(), 2*time.Second)
	if _, err := c.Create("/kept", []byte("v1"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	addr := s.Addr()
	s.Restart()
	if s.Addr() != addr {
		t.Fatalf("restart moved the server from %s to %s", addr, s.Addr())
	}
	// The client reconnects by itself; on a loaded machine its first tries
	// may come before the restarted server accepts sessions (go-zookeeper
	// then answers ErrNoServer for the round), so poll, as callers do.
	var data []byte
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		waitState(t, c, zk.StateHasSession, 20*time.Second)
		if data, _, err = c.Get("/kept"); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || string(data) != "v1" {
		t.Fatalf("after restart: %q, %v", data, err)
	}

	s.Kill()
	if s.Running() {
		t.Fatal("Running after Kill")
	}
	if _, err := s.FourLetter("ruok"); err == nil {
		t.Fatal("a killed server answers")
	}
	s.Start()
	waitState(t, c, zk.StateHasSession, 10*time.Second)
	data, _, err = c.Get("/kept")
	if err != nil || string(data) != "v1" {
		t.Fatalf("after kill and start: %q, %v", data, err)
	}
}

func TestSharedServerAndChroots(t *testing.T) {
	a, b := Shared(t), Shared(t)
	if a != b {
		t.Fatal("Shared started two servers")
	}
	c1, c2 := a.ConnectString(t), a.ConnectString(t)
	if c1 == c2 || !strings.HasPrefix(c1, a.Addr()+"/zktest/TestSharedServerAndChroots-") {
		t.Fatalf("chroots %q and %q", c1, c2)
	}
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("Stop on the shared server did not panic")
		}
	}()
	a.Stop()
}

func TestProxyCutAndHeal(t *testing.T) {
	s := Shared(t)
	p := NewProxy(t, s.Addr())
	c := connect(t, p.Addr(), 4*time.Second)
	waitState(t, c, zk.StateHasSession, 10*time.Second)
	sid := c.SessionID()

	p.Cut()
	deadline := time.Now().Add(5 * time.Second)
	for c.State() == zk.StateHasSession {
		if time.Now().After(deadline) {
			t.Fatal("the client did not notice the cut")
		}
		time.Sleep(10 * time.Millisecond) // poll interval
	}
	p.Heal()
	waitState(t, c, zk.StateHasSession, 10*time.Second)
	if c.SessionID() != sid {
		t.Fatalf("session %x became %x across a short cut", sid, c.SessionID())
	}
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}

// TestSecureServer: a server with a secure client port demanding client
// certificates and a digest super user. A client over TLS is the x509
// identity of its certificate's subject, which an "auth" ACL names; a
// client of the plain port without credentials may read but not write the
// znode, the super user may.
func TestSecureServer(t *testing.T) {
	ca := testcerts.NewCA(t, "zktest CA")
	dir := t.TempDir()
	s := StartWith(t, Options{SuperDigest: "super:s3cret", TLS: &TLS{
		Keystore:         testcerts.Write(t, dir, "zk.p12", ca.Server(t, "zookeeper").PKCS12(t, "pw")),
		KeystorePassword: "pw", TruststorePassword: "pw",
		Truststore: testcerts.Write(t, dir, "trust.p12", ca.PKCS12Trust(t, "pw")),
		ClientAuth: "need",
	}})

	client := ca.Client(t, "broker")
	cfg := &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{client.TLS()}, ServerName: "127.0.0.1"}
	dial := func(network, addr string, timeout time.Duration) (net.Conn, error) {
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: cfg}
		return d.Dial(network, addr)
	}
	sec, _, err := zk.Connect([]string{s.SecureAddr()}, 4*time.Second, zk.WithLogger(quiet{}), zk.WithDialer(dial))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sec.Close)
	waitState(t, sec, zk.StateHasSession, 20*time.Second)
	if _, err := sec.Create("/owned", []byte("v"), 0, append(zk.AuthACL(zk.PermAll), zk.WorldACL(zk.PermRead)...)); err != nil {
		t.Fatalf("create over TLS: %v", err)
	}
	acl, _, err := sec.GetACL("/owned")
	if err != nil {
		t.Fatal(err)
	}
	if want := "CN=broker,OU=clients,O=Samsa tests"; len(acl) != 2 || acl[0].Scheme != "x509" || acl[0].ID != want || acl[0].Perms != zk.PermAll {
		t.Fatalf("ACL %+v: want x509:%s with every permission first", acl, want)
	}

	anon := connect(t, s.Addr(), 4*time.Second)
	waitState(t, anon, zk.StateHasSession, 20*time.Second)
	if d, _, err := anon.Get("/owned"); err != nil || string(d) != "v" {
		t.Fatalf("anonymous read: %q, %v", d, err)
	}
	if _, err := anon.Set("/owned", []byte("x"), -1); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("anonymous write: %v, want %v", err, zk.ErrNoAuth)
	}

	super := connect(t, s.Addr(), 4*time.Second)
	waitState(t, super, zk.StateHasSession, 20*time.Second)
	if err := super.AddAuth("digest", []byte("super:s3cret")); err != nil {
		t.Fatal(err)
	}
	if _, err := super.Set("/owned", []byte("y"), -1); err != nil {
		t.Fatalf("super user's write: %v", err)
	}

	// Without a client certificate the secure port refuses the session.
	bare := &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"}
	c, err := tls.Dial("tcp", s.SecureAddr(), bare)
	if err == nil {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = c.Read(make([]byte, 1)) // TLS 1.3: the refusal comes after the handshake
		c.Close()
	}
	if err == nil {
		t.Fatal("the secure port took a client without a certificate")
	}
}

func TestSuperDigestID(t *testing.T) {
	// The digest ZooKeeper's DigestAuthenticationProvider.generateDigest
	// makes of "super:test" (ZooKeeper's documentation's example pair).
	if got, want := SuperDigestID("super:test"), "super:D/InIHSb7yEEbrWz8b9l71RjZJU="; got != want {
		t.Fatalf("SuperDigestID = %s, want %s", got, want)
	}
}
