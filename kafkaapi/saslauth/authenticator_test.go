package saslauth

// The SASL authenticator's state machine driven frame by frame, as Kafka's
// SaslAuthenticatorTest drives SaslServerAuthenticator: every row of the
// table in sasl.go, both framings (SaslAuthenticate and librdkafka's raw
// tokens after SaslHandshake v0), PLAIN and both SCRAMs, failures and
// what comes after them, re-authentication and session expiry on the
// fake clock.

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/security"
	"samsa/security/sasl"
)

var allMechanisms = []string{sasl.Plain, sasl.ScramSHA256, sasl.ScramSHA512}

// pipeListener is a net.Listener of in-memory connections: inside a
// synctest bubble a goroutine waiting on one is durably blocked, so the
// fake clock runs.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.UnixAddr{Name: "pipe", Net: "pipe"} }

// handler stands for the broker's handlers: it answers ApiVersions as
// kafkaapi does (the SASL keys listed; UNSUPPORTED_VERSION above v3),
// DescribeCluster with the connection's principal as the cluster ID, and
// counts what else reaches it.
type handler struct{ others atomic.Int64 }

func (h *handler) Serve(c *netpoll.Conn, frame []byte) *netpoll.Response {
	if len(frame) < 8 {
		return nil // kafkaapi closes the connection
	}
	key := int16(binary.BigEndian.Uint16(frame))
	version := int16(binary.BigEndian.Uint16(frame[2:]))
	r := request{key: key, version: version, corr: int32(binary.BigEndian.Uint32(frame[4:]))}
	switch key {
	case apiVersionsKey:
		resp := kmsg.NewPtrApiVersionsResponse()
		if version > 3 {
			resp.ErrorCode = kerr.UnsupportedVersion.Code
			r.version = 0
		}
		for _, k := range []int16{saslHandshakeKey, apiVersionsKey, saslAuthenticateKey, 60} {
			v := kmsg.NewApiVersionsResponseApiKey()
			v.ApiKey, v.MaxVersion = k, maxVersions[k]
			resp.ApiKeys = append(resp.ApiKeys, v)
		}
		return r.respond(resp)
	case 60:
		resp := kmsg.NewPtrDescribeClusterResponse()
		resp.ClusterID = c.Principal().String()
		return r.respond(resp)
	}
	h.others.Add(1)
	resp := kmsg.NewPtrSASLHandshakeResponse() // as kafkaapi refuses a late handshake
	resp.ErrorCode = kerr.IllegalSaslState.Code
	return r.respond(resp)
}

// saslFixture is a netpoll server with a SASL_PLAINTEXT listener: PLAIN
// users alice and bob from a JAAS config, SCRAM users alice and bob in a
// credential cache, with the same passwords.
type saslFixture struct {
	t     testing.TB
	srv   *netpoll.Server
	h     *handler
	ln    *pipeListener
	cache *sasl.CredentialCache
}

func newSASLFixture(t testing.TB, reauth time.Duration) *saslFixture {
	t.Helper()
	f := &saslFixture{t: t, h: &handler{}, cache: &sasl.CredentialCache{},
		ln: &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}}
	es, err := sasl.ParseJAAS(sasl.PlainLoginModule + ` required user_alice="alice-pw" user_bob="bob-pw";`)
	if err != nil {
		t.Fatal(err)
	}
	users := sasl.JAASPlainUsers(es)
	for _, u := range []string{"alice", "bob"} {
		cfgs := map[string]string{}
		for _, m := range sasl.ScramMechanisms {
			cred, err := m.NewCredential(u+"-pw", 4096)
			if err != nil {
				t.Fatal(err)
			}
			cfgs[m.Name] = cred.String()
		}
		if err := f.cache.Update(u, cfgs); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{
		Mechanisms: allMechanisms,
		NewServer: func(m string) sasl.Server {
			if m == sasl.Plain {
				return sasl.NewPlain(users)
			}
			return sasl.NewScram(sasl.Scram(m), f.cache.Lookup)
		},
		SessionLifetime: func(string) time.Duration { return reauth },
		APIVersions:     f.h,
	}
	quiet := slog.New(slog.DiscardHandler)
	f.srv = netpoll.NewServer(netpoll.Config{IdleTimeout: -1, Logger: quiet}, f.h)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.srv.ServeListener(f.ln, netpoll.Listener{Name: "SASL_PLAINTEXT", Protocol: security.SASLPlaintext, NewAuthenticator: New(cfg)})
	}()
	t.Cleanup(func() {
		f.srv.Shutdown(context.Background())
		<-done
	})
	return f
}

// client is one connection to the listener.
type client struct {
	t    testing.TB
	conn net.Conn // nil once closed by the broker
	corr int32
}

func (f *saslFixture) conn() *client {
	f.t.Helper()
	cli, srv := net.Pipe()
	f.ln.conns <- srv
	f.t.Cleanup(func() { cli.Close() })
	return &client{t: f.t, conn: cli}
}

func sized(frame []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(frame))), frame...)
}

// requestFrame is a request's frame with a v1 header (v2 when flexible).
func requestFrame(req kmsg.Request, corr int32) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(req.Key()))
	b = binary.BigEndian.AppendUint16(b, uint16(req.GetVersion()))
	b = binary.BigEndian.AppendUint32(b, uint32(corr))
	b = binary.BigEndian.AppendUint16(b, 4)
	b = append(b, "test"...)
	if req.IsFlexible() && req.Key() != apiVersionsKey || req.Key() == apiVersionsKey && req.GetVersion() >= 3 {
		b = append(b, 0)
	}
	return req.AppendTo(b)
}

// exchange writes bytes and reads one frame, or reports the connection
// closed by the broker.
func (c *client) exchange(out []byte) (frame []byte, closed bool) {
	c.t.Helper()
	if c.conn == nil {
		return nil, true
	}
	werr := make(chan error, 1)
	go func() { // net.Pipe writes wait for the reader
		_, err := c.conn.Write(out)
		werr <- err
	}()
	var size [4]byte
	_, err := io.ReadFull(c.conn, size[:])
	if err == nil {
		frame = make([]byte, binary.BigEndian.Uint32(size[:]))
		_, err = io.ReadFull(c.conn, frame)
	}
	if err != nil {
		c.conn.Close()
		<-werr
		c.conn = nil
		return nil, true
	}
	if err := <-werr; err != nil {
		c.t.Fatalf("writing: %v", err)
	}
	return frame, false
}

// send sends req at version and decodes the answer; closed if the
// broker closed the connection instead.
func send[R kmsg.Response](c *client, version int16, req kmsg.Request) (resp R, closed bool) {
	c.t.Helper()
	req.SetVersion(version)
	c.corr++
	frame, closed := c.exchange(sized(requestFrame(req, c.corr)))
	if closed {
		return resp, true
	}
	if got := int32(binary.BigEndian.Uint32(frame)); got != c.corr {
		c.t.Fatalf("correlation id %d, want %d", got, c.corr)
	}
	r := req.ResponseKind()
	r.SetVersion(version)
	body := frame[4:]
	if r.IsFlexible() && req.Key() != apiVersionsKey {
		body = body[1:]
	}
	if err := r.ReadFrom(body); err != nil {
		c.t.Fatalf("decoding the %s response: %v", kmsg.NameForKey(req.Key()), err)
	}
	return r.(R), false
}

func do[R kmsg.Response](c *client, version int16, req kmsg.Request) R {
	c.t.Helper()
	resp, closed := send[R](c, version, req)
	if closed {
		c.t.Fatalf("%s: the connection closed", kmsg.NameForKey(req.Key()))
	}
	return resp
}

func wantCode(t testing.TB, what string, got int16, want *kerr.Error) {
	t.Helper()
	if got != want.Code {
		t.Errorf("%s: error %v, want %v", what, kerr.ErrorForCode(got), want)
	}
}

func apiVersionsRequest() *kmsg.ApiVersionsRequest {
	req := kmsg.NewPtrApiVersionsRequest()
	req.ClientSoftwareName, req.ClientSoftwareVersion = "samsa-test", "1.0"
	return req
}

func metadataRequest() *kmsg.MetadataRequest { return kmsg.NewPtrMetadataRequest() }

func handshakeRequest(mech string) *kmsg.SASLHandshakeRequest {
	r := kmsg.NewPtrSASLHandshakeRequest()
	r.Mechanism = mech
	return r
}

func authenticateRequest(token []byte) *kmsg.SASLAuthenticateRequest {
	r := kmsg.NewPtrSASLAuthenticateRequest()
	r.SASLAuthBytes = token
	return r
}

// errClosed: the broker closed the connection during the exchange.
var errClosed = errors.New("connection closed by the broker")

// authenticate runs the exchange of mech as cr on c: SaslHandshake at
// hsVersion then SaslAuthenticate at authVersion, or raw tokens after a
// v0 handshake when authVersion is -1. It returns the last
// SaslAuthenticate response (nil for raw tokens) and an error if the
// exchange failed on either side.
func authenticate(c *client, mech string, cr sasl.Credentials, hsVersion, authVersion int16) (*kmsg.SASLAuthenticateResponse, error) {
	c.t.Helper()
	hs, closed := send[*kmsg.SASLHandshakeResponse](c, hsVersion, handshakeRequest(mech))
	if closed {
		return nil, errClosed
	}
	if err := kerr.ErrorForCode(hs.ErrorCode); err != nil {
		return nil, err
	}
	cl, err := sasl.NewClient(mech, cr)
	if err != nil {
		c.t.Fatal(err)
	}
	var challenge []byte
	var last *kmsg.SASLAuthenticateResponse
	for {
		token, done, err := cl.Step(challenge)
		if err != nil {
			return last, err
		}
		if done && token == nil {
			return last, nil
		}
		if authVersion < 0 {
			frame, closed := c.exchange(sized(token))
			if closed {
				return nil, errClosed
			}
			challenge = frame
			continue
		}
		resp, closed := send[*kmsg.SASLAuthenticateResponse](c, authVersion, authenticateRequest(token))
		if closed {
			return last, errClosed
		}
		last = resp
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return resp, err
		}
		challenge = resp.SASLAuthBytes
	}
}

// whoami is the principal the handlers see on c; "" if c is closed.
func whoami(c *client) string {
	c.t.Helper()
	resp, closed := send[*kmsg.DescribeClusterResponse](c, 0, kmsg.NewPtrDescribeClusterRequest())
	if closed {
		return ""
	}
	return resp.ClusterID
}

// served reports whether the connection serves requests.
func served(c *client) bool { return whoami(c) != "" }

// TestSASLAuthenticate: each mechanism, each SaslAuthenticate version and
// the raw framing authenticate, after an ApiVersions or without one; the
// connection then serves requests.
func TestSASLAuthenticate(t *testing.T) {
	f := newSASLFixture(t, 0)
	for _, mech := range allMechanisms {
		for _, v := range []struct{ hs, auth int16 }{{1, 0}, {1, 1}, {1, 2}, {0, -1}} {
			for _, withVersions := range []bool{false, true} {
				c := f.conn()
				if withVersions {
					av, closed := send[*kmsg.ApiVersionsResponse](c, 3, apiVersionsRequest())
					if closed || av.ErrorCode != 0 {
						t.Fatalf("%s: ApiVersions before authentication: closed %v", mech, closed)
					}
					found := map[int16]bool{}
					for _, k := range av.ApiKeys {
						found[k.ApiKey] = true
					}
					if !found[saslHandshakeKey] || !found[saslAuthenticateKey] {
						t.Fatalf("ApiVersions does not list the SASL APIs")
					}
				}
				last, err := authenticate(c, mech, sasl.Credentials{Username: "alice", Password: "alice-pw"}, v.hs, v.auth)
				if err != nil {
					t.Fatalf("%s handshake v%d authenticate v%d: %v", mech, v.hs, v.auth, err)
				}
				if last != nil && last.SessionLifetimeMillis != 0 {
					t.Fatalf("session lifetime %d without connections.max.reauth.ms", last.SessionLifetimeMillis)
				}
				if !served(c) {
					t.Fatalf("%s handshake v%d authenticate v%d: not served after authentication", mech, v.hs, v.auth)
				}
			}
		}
	}
}

// TestSASLFailures: a wrong password, an unknown user, an unsupported
// mechanism are answered with Kafka's codes and messages, then the
// connection closes; nothing is served.
func TestSASLFailures(t *testing.T) {
	f := newSASLFixture(t, 0)
	for _, mech := range allMechanisms {
		for _, cr := range []sasl.Credentials{{Username: "alice", Password: "wrong"}, {Username: "mallory", Password: "alice-pw"}} {
			c := f.conn()
			last, err := authenticate(c, mech, cr, 1, 2)
			if !errors.Is(err, kerr.SaslAuthenticationFailed) {
				t.Fatalf("%s as %s: %v; want SASL_AUTHENTICATION_FAILED", mech, cr.Username, err)
			}
			want := "Authentication failed during authentication due to invalid credentials with SASL mechanism " + mech
			if mech == sasl.Plain {
				want = "Authentication failed: Invalid username or password"
			}
			if last.ErrorMessage == nil || *last.ErrorMessage != want {
				t.Fatalf("%s as %s: message %v; want %q", mech, cr.Username, last.ErrorMessage, want)
			}
			if served(c) {
				t.Fatalf("%s as %s: served after a failed authentication", mech, cr.Username)
			}
		}
		// Raw tokens: no answer to read, the connection just closes.
		c := f.conn()
		if _, err := authenticate(c, mech, sasl.Credentials{Username: "alice", Password: "wrong"}, 0, -1); !errors.Is(err, errClosed) {
			t.Fatalf("%s raw, wrong password: %v; want the connection closed", mech, err)
		}
	}
	c := f.conn()
	hs, closed := send[*kmsg.SASLHandshakeResponse](c, 1, handshakeRequest("GSSAPI"))
	if closed {
		t.Fatal("an unsupported mechanism closed the connection unanswered")
	}
	wantCode(t, "SaslHandshake GSSAPI", hs.ErrorCode, kerr.UnsupportedSaslMechanism)
	if strings.Join(hs.SupportedMechanisms, ",") != strings.Join(allMechanisms, ",") {
		t.Errorf("mechanisms %v; want %v", hs.SupportedMechanisms, allMechanisms)
	}
	if served(c) {
		t.Fatal("served after an unsupported mechanism")
	}
}

// TestSASLBadInput: what is not a SASL exchange closes the connection
// unanswered; a request inside the exchange is answered
// ILLEGAL_SASL_STATE (where its response has a top-level error), then
// closed; truncated and reordered SCRAM messages fail it.
func TestSASLBadInput(t *testing.T) {
	f := newSASLFixture(t, 0)
	closesUnanswered := func(what string, c *client, out []byte) {
		t.Helper()
		if frame, closed := c.exchange(out); !closed {
			t.Fatalf("%s: answered % x", what, frame[:min(len(frame), 16)])
		}
	}
	closesUnanswered("PLAIN token before the handshake", f.conn(), sized([]byte("\x00alice\x00alice-pw")))
	closesUnanswered("SCRAM message before the handshake", f.conn(), sized([]byte("n,,n=alice,r=abc")))
	closesUnanswered("Metadata before the handshake", f.conn(), sized(requestFrame(metadataRequest(), 1)))
	closesUnanswered("an empty frame", f.conn(), sized(nil))

	c := f.conn()
	if av, closed := send[*kmsg.ApiVersionsResponse](c, 3, apiVersionsRequest()); closed || av.ErrorCode != 0 {
		t.Fatal("ApiVersions before the handshake not answered")
	}
	closesUnanswered("ApiVersions twice", c, sized(requestFrame(apiVersionsRequest(), 9)))

	c = f.conn()
	if _, closed := send[*kmsg.SASLHandshakeResponse](c, 1, handshakeRequest(sasl.Plain)); closed {
		t.Fatal("handshake closed")
	}
	av, closed := send[*kmsg.ApiVersionsResponse](c, 3, apiVersionsRequest())
	if closed {
		t.Fatal("ApiVersions during the exchange closed unanswered")
	}
	wantCode(t, "ApiVersions during the exchange", av.ErrorCode, kerr.IllegalSaslState)
	if served(c) {
		t.Fatal("served after ILLEGAL_SASL_STATE")
	}
	c = f.conn()
	send[*kmsg.SASLHandshakeResponse](c, 1, handshakeRequest(sasl.Plain))
	closesUnanswered("Metadata during the exchange", c, sized(requestFrame(metadataRequest(), 7)))

	for _, tc := range []struct {
		name string
		msgs []string
	}{
		{"final first", []string{"c=biws,r=abc,p=AAAA"}},
		{"truncated first", []string{"n,,n=ali"}},
		{"first twice", []string{"n,,n=alice,r=abc", "n,,n=alice,r=abc"}},
		{"truncated final", []string{"n,,n=alice,r=abc", "c=biws,r=ab"}},
		{"empty", []string{""}},
	} {
		c := f.conn()
		send[*kmsg.SASLHandshakeResponse](c, 1, handshakeRequest(sasl.ScramSHA256))
		var last *kmsg.SASLAuthenticateResponse
		for _, m := range tc.msgs {
			resp, closed := send[*kmsg.SASLAuthenticateResponse](c, 1, authenticateRequest([]byte(m)))
			if closed {
				t.Fatalf("%s: closed unanswered", tc.name)
			}
			if last = resp; resp.ErrorCode != 0 {
				break
			}
		}
		wantCode(t, tc.name, last.ErrorCode, kerr.SaslAuthenticationFailed)
		if served(c) {
			t.Fatalf("%s: served after the failure", tc.name)
		}
	}
}

// TestSASLAfterAuthentication: once authenticated, when sessions do not
// expire, SaslHandshake and SaslAuthenticate go to the handlers (which
// refuse them with ILLEGAL_SASL_STATE); the connection goes on.
func TestSASLAfterAuthentication(t *testing.T) {
	f := newSASLFixture(t, 0)
	c := f.conn()
	if _, err := authenticate(c, sasl.Plain, sasl.Credentials{Username: "alice", Password: "alice-pw"}, 1, 1); err != nil {
		t.Fatal(err)
	}
	hs := do[*kmsg.SASLHandshakeResponse](c, 1, handshakeRequest(sasl.Plain))
	wantCode(t, "SaslHandshake", hs.ErrorCode, kerr.IllegalSaslState)
	if f.h.others.Load() != 1 || !served(c) {
		t.Fatalf("the handlers saw %d late handshakes; served %v", f.h.others.Load(), served(c))
	}
}

// TestSASLPrincipal: the handlers see the user SASL authenticated, with
// each mechanism; ANONYMOUS never reaches them.
func TestSASLPrincipal(t *testing.T) {
	f := newSASLFixture(t, 0)
	for _, user := range []string{"alice", "bob"} {
		for _, mech := range allMechanisms {
			c := f.conn()
			if _, err := authenticate(c, mech, sasl.Credentials{Username: user, Password: user + "-pw"}, 1, 2); err != nil {
				t.Fatal(err)
			}
			if got := whoami(c); got != "User:"+user {
				t.Errorf("%s over %s: the handlers see %q", user, mech, got)
			}
		}
	}
}

// TestSASLReauthentication (KIP-368) on the fake clock: the session
// lifetime is connections.max.reauth.ms; a SaslHandshake re-authenticates
// with the same mechanism and principal, at most once a second; another
// principal or mechanism fails; a session that expires without one
// closes the connection at its next request.
func TestSASLReauthentication(t *testing.T) {
	const lifetime = time.Minute
	alice := sasl.Credentials{Username: "alice", Password: "alice-pw"}
	synctest.Test(t, func(t *testing.T) {
		f := newSASLFixture(t, lifetime)
		for _, mech := range allMechanisms {
			c := f.conn()
			last, err := authenticate(c, mech, alice, 1, 1)
			if err != nil {
				t.Fatal(err)
			}
			if last.SessionLifetimeMillis != lifetime.Milliseconds() {
				t.Fatalf("%s: session lifetime %d ms; want %d", mech, last.SessionLifetimeMillis, lifetime.Milliseconds())
			}
			time.Sleep(lifetime / 2)
			if !served(c) {
				t.Fatalf("%s: not served within the session", mech)
			}
			if last, err = authenticate(c, mech, alice, 1, 2); err != nil || last.SessionLifetimeMillis != lifetime.Milliseconds() {
				t.Fatalf("%s: re-authentication: %v, %+v", mech, err, last)
			}
			// A second re-authentication within a second goes to the handler.
			hs := do[*kmsg.SASLHandshakeResponse](c, 1, handshakeRequest(mech))
			wantCode(t, "re-authentication too soon", hs.ErrorCode, kerr.IllegalSaslState)
			// The new session runs from the re-authentication: 50 s later
			// (80 s after the first) it still serves, 61 s later it is over.
			time.Sleep(50 * time.Second)
			if !served(c) {
				t.Fatalf("%s: the re-authenticated session ended with the first", mech)
			}
			time.Sleep(11 * time.Second)
			if _, closed := send[*kmsg.ApiVersionsResponse](c, 3, apiVersionsRequest()); !closed {
				t.Fatalf("%s: served after the session expired", mech)
			}

			// An expired session may still re-authenticate, as Kafka allows.
			c = f.conn()
			if _, err := authenticate(c, mech, alice, 1, 1); err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * lifetime)
			if _, err := authenticate(c, mech, alice, 1, 1); err != nil || !served(c) {
				t.Fatalf("%s: re-authentication after expiry: %v", mech, err)
			}

			c = f.conn()
			authenticate(c, mech, alice, 1, 1)
			time.Sleep(2 * time.Second)
			last, err = authenticate(c, mech, sasl.Credentials{Username: "bob", Password: "bob-pw"}, 1, 1)
			if !errors.Is(err, kerr.SaslAuthenticationFailed) || !strings.Contains(*last.ErrorMessage, "Cannot change principals during re-authentication from User.alice: User.bob") {
				t.Fatalf("%s: re-authentication as bob: %v, %v", mech, err, last)
			}
			if served(c) {
				t.Fatalf("%s: served after a failed re-authentication", mech)
			}
		}
		c := f.conn()
		authenticate(c, sasl.Plain, alice, 1, 1)
		time.Sleep(2 * time.Second)
		last, err := authenticate(c, sasl.ScramSHA256, alice, 1, 1)
		if !errors.Is(err, kerr.SaslAuthenticationFailed) || !strings.Contains(*last.ErrorMessage, "not supported for re-authentication of mechanism 'PLAIN'") {
			t.Fatalf("re-authentication with another mechanism: %v, %v", err, last)
		}
	})
}
