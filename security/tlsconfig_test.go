package security

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"samsa/internal/testcerts"
)

// handshake runs a TLS handshake between srv and a client with cfg over a
// loopback connection; it returns the server's connection state and both
// ends' errors.
func handshake(t *testing.T, srv *ServerTLS, cfg *tls.Config) (tls.ConnectionState, error, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		cs  tls.ConnectionState
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer c.Close()
		tc := tls.Server(c, srv.Config())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = tc.HandshakeContext(ctx)
		if err == nil {
			// TLS 1.3 checks the client's certificate after the client's
			// handshake returns: read until the client closes.
			tc.SetReadDeadline(time.Now().Add(10 * time.Second))
			tc.Read(make([]byte, 1))
		}
		done <- result{tc.ConnectionState(), err}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, cerr := Dialer(cfg, 10*time.Second)(ctx, ln.Addr().String())
	if cerr == nil {
		// A TLS 1.3 client learns of a refused certificate at its first read.
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		_, rerr := c.Read(make([]byte, 1))
		if rerr != nil && !errors.Is(rerr, net.ErrClosed) && !isTimeout(rerr) {
			cerr = rerr
		}
		c.Close()
	}
	r := <-done
	return r.cs, r.err, cerr
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

type fixture struct {
	ca, otherCA *testcerts.CA
	server      *testcerts.Pair
	dir         string
}

func newFixture(t *testing.T) *fixture {
	ca := testcerts.NewCA(t, "test CA")
	f := &fixture{ca: ca, otherCA: testcerts.NewCA(t, "other CA"), server: ca.Server(t, "broker"), dir: t.TempDir()}
	return f
}

func (f *fixture) serverSSL(t *testing.T, clientAuth string) SSLConfig {
	return SSLConfig{
		ClientAuth: clientAuth,
		Keystore:   StoreConfig{Type: "PEM", Key: string(f.server.KeyPEM(t)), CertificateChain: string(f.server.CertPEM())},
		Truststore: StoreConfig{Type: "PEM", Certificates: string(f.ca.CertPEM())},
	}
}

// TestServerTLSClientAuth: ssl.client.auth none, requested and required,
// with a good, an untrusted, an expired and no client certificate; the
// principal is the mapped subject, or ANONYMOUS without a certificate.
func TestServerTLSClientAuth(t *testing.T) {
	f := newFixture(t)
	good := f.ca.Client(t, "alice")
	untrusted := f.otherCA.Client(t, "mallory")
	expired := f.ca.Issue(t, testcerts.Options{Subject: pkix.Name{CommonName: "old"}, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	client := func(p *testcerts.Pair) *tls.Config {
		c := &tls.Config{RootCAs: f.ca.Pool(), ServerName: "localhost"}
		if p != nil {
			// Sent whatever CAs the server names: Go's client would keep
			// a certificate of an unnamed CA to itself.
			cert := p.TLS()
			c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
		}
		return c
	}
	for _, c := range []struct {
		auth      string
		client    *testcerts.Pair
		ok        bool
		principal Principal
	}{
		{ClientAuthNone, nil, true, Anonymous},
		{ClientAuthNone, good, true, Anonymous}, // not asked for, not sent
		{ClientAuthRequested, nil, true, Anonymous},
		{ClientAuthRequested, good, true, User("CN=alice,OU=clients,O=Samsa tests")},
		{ClientAuthRequested, untrusted, false, Principal{}},
		{ClientAuthRequired, good, true, User("CN=alice,OU=clients,O=Samsa tests")},
		{ClientAuthRequired, nil, false, Principal{}},
		{ClientAuthRequired, untrusted, false, Principal{}},
		{ClientAuthRequired, expired, false, Principal{}},
	} {
		name := c.auth + "/none"
		if c.client != nil {
			name = c.auth + "/" + c.client.Cert.Subject.CommonName
		}
		t.Run(name, func(t *testing.T) {
			srv, err := NewServerTLS("SSL", f.serverSSL(t, c.auth))
			if err != nil {
				t.Fatal(err)
			}
			cs, serr, cerr := handshake(t, srv, client(c.client))
			if !c.ok {
				if serr == nil {
					t.Fatalf("handshake succeeded, want it refused (client: %v)", cerr)
				}
				return
			}
			if serr != nil || cerr != nil {
				t.Fatalf("handshake: server %v, client %v", serr, cerr)
			}
			p, err := srv.Principal(&cs)
			if err != nil || p != c.principal {
				t.Fatalf("principal %v, %v; want %v", p, err, c.principal)
			}
		})
	}
}

// TestServerTLSMappingRules: the principal goes through
// ssl.principal.mapping.rules; a subject no rule maps fails.
func TestServerTLSMappingRules(t *testing.T) {
	f := newFixture(t)
	cfg := f.serverSSL(t, ClientAuthRequired)
	cfg.PrincipalMappingRules = "RULE:^CN=(.*?),OU=clients,.*$/$1/U"
	srv, err := NewServerTLS("SSL", cfg)
	if err != nil {
		t.Fatal(err)
	}
	cl := &tls.Config{RootCAs: f.ca.Pool(), ServerName: "localhost", Certificates: []tls.Certificate{f.ca.Client(t, "alice").TLS()}}
	cs, serr, cerr := handshake(t, srv, cl)
	if serr != nil || cerr != nil {
		t.Fatal(serr, cerr)
	}
	if p, err := srv.Principal(&cs); err != nil || p != User("ALICE") {
		t.Fatalf("principal %v, %v; want User:ALICE", p, err)
	}
	cl.Certificates = []tls.Certificate{f.ca.Issue(t, testcerts.Options{Subject: pkix.Name{CommonName: "svc", OrganizationalUnit: []string{"services"}}}).TLS()}
	cs, serr, cerr = handshake(t, srv, cl)
	if serr != nil || cerr != nil {
		t.Fatal(serr, cerr)
	}
	if p, err := srv.Principal(&cs); !errors.Is(err, ErrNoMatchingRule) {
		t.Fatalf("principal %v, %v; want ErrNoMatchingRule", p, err)
	}
}

// TestServerTLSReload: new handshakes get the new certificate; a keystore
// of another subject, or one that does not load, is refused and the old
// one stays.
func TestServerTLSReload(t *testing.T) {
	f := newFixture(t)
	srv, err := NewServerTLS("SSL", f.serverSSL(t, ClientAuthNone))
	if err != nil {
		t.Fatal(err)
	}
	cl := &tls.Config{RootCAs: f.ca.Pool(), ServerName: "localhost"}
	served := func() *tls.Config { return cl }
	_, serr, cerr := handshake(t, srv, served())
	if serr != nil || cerr != nil {
		t.Fatal(serr, cerr)
	}
	renewed := f.ca.Server(t, "broker") // same subject, new key and serial
	next := f.serverSSL(t, ClientAuthNone)
	next.Keystore = StoreConfig{Type: "PKCS12", Location: testcerts.Write(t, f.dir, "new.p12", renewed.PKCS12(t, "pw")), Password: "pw"}
	if err := srv.Reload(next); err != nil {
		t.Fatal(err)
	}
	if !srv.Certificate().Equal(renewed.Cert) {
		t.Fatal("Reload did not put the new certificate in force")
	}
	var seen []byte
	cl.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error { seen = raw[0]; return nil }
	_, serr, cerr = handshake(t, srv, cl)
	if serr != nil || cerr != nil {
		t.Fatal(serr, cerr)
	}
	if string(seen) != string(renewed.Cert.Raw) {
		t.Fatal("a new connection got the old certificate")
	}

	other := f.ca.Server(t, "someone else")
	bad := f.serverSSL(t, ClientAuthNone)
	bad.Keystore = StoreConfig{Type: "PEM", Key: string(other.KeyPEM(t)), CertificateChain: string(other.CertPEM())}
	if err := srv.Reload(bad); err == nil || !strings.Contains(err.Error(), "Keystore DistinguishedName does not match") {
		t.Fatalf("Reload with another subject: %v", err)
	}
	bad.AllowDNChanges = true
	if err := srv.Reload(bad); err != nil {
		t.Fatalf("Reload with another subject and ssl.allow.dn.changes: %v", err)
	}
	noSAN := f.ca.Issue(t, testcerts.Options{Subject: other.Cert.Subject})
	bad.Keystore = StoreConfig{Type: "PEM", Key: string(noSAN.KeyPEM(t)), CertificateChain: string(noSAN.CertPEM())}
	if err := srv.Reload(bad); err == nil || !strings.Contains(err.Error(), "Keystore SubjectAltNames do not match") {
		t.Fatalf("Reload dropping SANs: %v", err)
	}
	bad.Keystore = StoreConfig{Type: "PKCS12", Location: next.Keystore.Location, Password: "wrong"}
	if err := srv.Reload(bad); err == nil || !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("Reload with a wrong password: %v", err)
	}
	if !srv.Certificate().Equal(other.Cert) {
		t.Fatal("a refused Reload changed the certificate")
	}
}

// TestClientTLSEndpointIdentification: with https the peer's host name
// must be in its certificate; without, only its chain is checked.
func TestClientTLSEndpointIdentification(t *testing.T) {
	f := newFixture(t)
	noName := f.ca.Issue(t, testcerts.Options{Subject: pkix.Name{CommonName: "broker"}})
	cfg := f.serverSSL(t, ClientAuthNone)
	cfg.Keystore = StoreConfig{Type: "PEM", Key: string(noName.KeyPEM(t)), CertificateChain: string(noName.CertPEM())}
	srv, err := NewServerTLS("SSL", cfg)
	if err != nil {
		t.Fatal(err)
	}
	trust := StoreConfig{Type: "PEM", Certificates: string(f.ca.CertPEM())}
	strict, err := ClientTLS(SSLConfig{EndpointIdentification: "https", Truststore: trust})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, cerr := handshake(t, srv, strict); cerr == nil {
		t.Fatal("https identification accepted a certificate without the host's name")
	}
	lax, err := ClientTLS(SSLConfig{Truststore: trust})
	if err != nil {
		t.Fatal(err)
	}
	if _, serr, cerr := handshake(t, srv, lax); serr != nil || cerr != nil {
		t.Fatalf("without identification: %v, %v", serr, cerr)
	}
	untrusting, err := ClientTLS(SSLConfig{Truststore: StoreConfig{Type: "PEM", Certificates: string(f.otherCA.CertPEM())}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, cerr := handshake(t, srv, untrusting); cerr == nil {
		t.Fatal("a certificate of an untrusted CA was accepted without identification")
	}
}

func TestSSLConfigCheck(t *testing.T) {
	for _, c := range []struct {
		cfg SSLConfig
		msg string
	}{
		{SSLConfig{EnabledProtocols: []string{"SSLv3"}}, "ssl.enabled.protocols"},
		{SSLConfig{CipherSuites: []string{"TLS_NOPE"}}, "ssl.cipher.suites"},
		{SSLConfig{ClientAuth: "always"}, "ssl.client.auth"},
		{SSLConfig{EndpointIdentification: "ldap"}, "ssl.endpoint.identification.algorithm"},
		{SSLConfig{PrincipalMappingRules: "nonsense/L"}, "ssl.principal.mapping.rules"},
	} {
		if err := c.cfg.Check(); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("Check(%+v) = %v, want an error about %s", c.cfg, err, c.msg)
		}
	}
	ok := SSLConfig{EnabledProtocols: []string{"TLSv1.2"}, CipherSuites: []string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"}}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	b, err := ok.base()
	if err != nil || b.MinVersion != tls.VersionTLS12 || b.MaxVersion != tls.VersionTLS12 || len(b.CipherSuites) != 2 {
		t.Fatalf("base() = %+v, %v", b, err)
	}
}

// TestNewServerTLSNeedsKeystore: a TLS listener without a keystore is a
// configuration error at start, not a failure at the first client.
func TestNewServerTLSNeedsKeystore(t *testing.T) {
	if _, err := NewServerTLS("SSL", SSLConfig{}); err == nil || !errors.Is(err, ErrKeystore) {
		t.Fatalf("NewServerTLS without a keystore: %v", err)
	}
}
