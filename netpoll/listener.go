package netpoll

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"samsa/security"
)

// Listener is what a listener's connections are served with: its name and
// security protocol, the TLS it handshakes, and for SASL listeners the
// authentication that comes before the first request.
type Listener struct {
	Name     string // the listener's name: Conn.Listener
	Protocol security.Protocol
	// TLS serves the handshake of SSL and SASL_SSL listeners; its
	// Principal is the principal of an SSL connection. Required for them,
	// ignored for the others.
	TLS *security.ServerTLS
	// NewAuthenticator, for SASL listeners, makes the authenticator of a
	// new connection: every frame goes to it, none to the Handler, until it
	// reports the connection authenticated (Kafka's
	// SaslServerAuthenticator). Required for SASL listeners.
	NewAuthenticator func(c *Conn) Authenticator
}

// Authenticator authenticates one connection of a SASL listener before
// any Kafka request reaches the Handler. It is called on the connection's
// goroutine, one frame at a time, in order, as the Handler is.
type Authenticator interface {
	// Authenticate is given each request frame (ApiVersions,
	// SaslHandshake, SaslAuthenticate: what comes before authentication)
	// until it returns done. resp, if not nil, is written first. done
	// means the connection is authenticated: the Authenticator has set its
	// principal (Conn.SetPrincipal) and later frames go to the Handler. A
	// non-nil err is a failed authentication: resp is written after
	// Config.FailedAuthDelay, then the connection closes (Kafka answers a
	// failed authentication late, then closes).
	Authenticate(c *Conn, req []byte) (resp *Response, done bool, err error)
}

// SessionAuthenticator is an Authenticator whose sessions expire and may
// be renewed on the open connection (KIP-368). Once it has authenticated
// the connection, each frame is shown to Check before the Handler sees it.
type SessionAuthenticator interface {
	Authenticator
	// Check is called with each frame of the authenticated connection.
	// reauth: the frame begins a re-authentication; it and the frames after
	// it go to Authenticate until that is done again. A non-nil err: the
	// session has expired; the connection closes without an answer.
	Check(c *Conn, req []byte) (reauth bool, err error)
}

// ErrNotSASL, wrapped in an Authenticator's error, says the frame was not
// part of a SASL exchange at all (a client of another protocol or security
// protocol, one that skipped the handshake): the connection closes at
// once, not counted or delayed as a failed authentication, as Kafka
// closes it.
var ErrNotSASL = errors.New("netpoll: not a SASL exchange")

// ErrNoTLS: a TLS listener was given no TLS configuration; ErrNoAuthenticator:
// a SASL listener no authenticator.
var (
	ErrNoTLS           = errors.New("netpoll: TLS listener without a TLS configuration")
	ErrNoAuthenticator = errors.New("netpoll: SASL listener without an authenticator")
)

// DefaultHandshakeTimeout bounds a TLS handshake.
const DefaultHandshakeTimeout = 10 * time.Second

// plaintext is the listener Serve serves.
var plaintext = Listener{Name: "PLAINTEXT", Protocol: security.Plaintext}

// ServeListener is Serve for a listener that may need TLS and
// authentication: each connection handshakes (SSL, SASL_SSL) and
// authenticates (SASL_*) before its first request reaches the Handler.
func (s *Server) ServeListener(ln net.Listener, l Listener) error {
	if l.Protocol.TLS() && l.TLS == nil {
		ln.Close()
		return ErrNoTLS
	}
	if l.Protocol.SASL() && l.NewAuthenticator == nil {
		ln.Close()
		return ErrNoAuthenticator
	}
	return s.serve(ln, &l)
}

// Listener returns the name of the listener the connection came in on.
func (c *Conn) Listener() string { return c.lis.Name }

// SecurityProtocol returns the connection's listener's protocol.
func (c *Conn) SecurityProtocol() security.Protocol { return c.lis.Protocol }

// Principal returns who the connection authenticated as: ANONYMOUS on a
// PLAINTEXT listener and for an SSL client without a certificate, the
// mapped certificate subject on SSL, what SASL set on SASL listeners.
// Safe from any goroutine.
func (c *Conn) Principal() security.Principal {
	if p := c.principal.Load(); p != nil {
		return *p
	}
	return security.Anonymous
}

// SetPrincipal sets the connection's principal (a SASL authentication,
// or its renewal).
func (c *Conn) SetPrincipal(p security.Principal) { c.principal.Store(&p) }

// TLS returns the connection's TLS state after its handshake, or nil on a
// listener without TLS.
func (c *Conn) TLS() *tls.ConnectionState { return c.tlsState }

// handshake runs the TLS handshake of a new connection and takes its
// principal, within the handshake timeout; Shutdown aborts it. It reports
// whether the connection may go on.
func (c *Conn) handshake() bool {
	s := c.srv
	c.nc.SetDeadline(deadline(s.cfg.HandshakeTimeout))
	if s.closing.Load() {
		return false
	}
	tc := c.nc.(*tls.Conn)
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	err := tc.HandshakeContext(ctx)
	if err == nil {
		st := tc.ConnectionState()
		c.tlsState = &st
		var p security.Principal
		if p, err = c.lis.TLS.Principal(&st); err == nil {
			c.SetPrincipal(p)
			c.nc.SetDeadline(time.Time{})
			return true
		}
	}
	if s.closing.Load() {
		return false
	}
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
		// The peer went away mid-handshake (a client closing a
		// connection it no longer needs): not a failed authentication,
		// as Kafka's EOF during the handshake is not one.
		s.log.Debug("netpoll: connection closed during its TLS handshake",
			"conn", c.id, "remote", c.nc.RemoteAddr(), "listener", c.lis.Name, "err", err)
		return false
	}
	s.st.authFailures.Add(1)
	// Kafka logs failed SSL authentication at INFO: an operator looks
	// for it when a client cannot connect.
	s.log.Info("netpoll: failed authentication: TLS handshake failed; closing connection",
		"conn", c.id, "remote", c.nc.RemoteAddr(), "listener", c.lis.Name, "err", err)
	return false
}
