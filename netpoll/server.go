package netpoll

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults, Kafka's where Kafka has the setting.
const (
	DefaultMaxRequestBytes = 104857600        // socket.request.max.bytes
	DefaultIdleTimeout     = 10 * time.Minute // connections.max.idle.ms
	DefaultReadTimeout     = time.Minute
	DefaultWriteTimeout    = time.Minute
	// DefaultMaxAuthRequestBytes is sasl.server.max.receive.size's default.
	DefaultMaxAuthRequestBytes = 524288
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("netpoll: server closed")

// Config configures a Server. The zero value gives Kafka's defaults.
type Config struct {
	// MaxRequestBytes is the largest request frame accepted, size prefix
	// excluded (socket.request.max.bytes). 0 means DefaultMaxRequestBytes.
	MaxRequestBytes int32
	// IdleTimeout closes a connection that sends no frame for this long
	// (connections.max.idle.ms). 0 means DefaultIdleTimeout; negative, never.
	IdleTimeout time.Duration
	// ReadTimeout bounds receiving one frame once its first byte has
	// arrived. Clients write whole frames, so only a stalled or hostile
	// peer meets it. 0 means DefaultReadTimeout; negative, no bound.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one response, file regions included.
	// 0 means DefaultWriteTimeout; negative, no bound.
	WriteTimeout time.Duration
	// MaxConnections bounds the connections served at once; connections
	// accepted beyond it are closed at once. 0 means no bound.
	MaxConnections int
	// ConnectionsPerIP, if set, bounds the connections served at once from
	// one peer address: a connection accepted from an address that has
	// that many already is closed at once. A negative limit is no bound.
	ConnectionsPerIP func(ip netip.Addr) int
	// HandshakeTimeout bounds a TLS handshake. 0 means
	// DefaultHandshakeTimeout; negative, no bound.
	HandshakeTimeout time.Duration
	// MaxAuthRequestBytes bounds a frame of a SASL listener's connection
	// before it has authenticated (sasl.server.max.receive.size): a larger
	// one is a failed authentication. 0 means DefaultMaxAuthRequestBytes.
	MaxAuthRequestBytes int32
	// FailedAuthDelay delays the answer to a failed SASL authentication,
	// and the close after it (connection.failed.authentication.delay.ms):
	// a client guessing passwords gets one guess per delay per
	// connection, and other connections wait for nothing. 0: no delay.
	FailedAuthDelay time.Duration
	// Logger receives connection errors. nil means slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.MaxAuthRequestBytes == 0 {
		c.MaxAuthRequestBytes = DefaultMaxAuthRequestBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Handler serves the requests of all connections of a Server.
type Handler interface {
	// Serve is called once per request frame, in the order frames arrive
	// on c, never concurrently for one connection. req is the frame
	// without its size prefix; it is valid until the returned response
	// has been written (a response may alias it) and must not be kept
	// after that. Serve returns the response to write, or nil for none
	// (an acks=0 produce).
	Serve(c *Conn, req []byte) *Response
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(c *Conn, req []byte) *Response

// Serve calls f(c, req).
func (f HandlerFunc) Serve(c *Conn, req []byte) *Response { return f(c, req) }

// Stats are the Server's counters since NewServer.
type Stats struct {
	Open          int64  // connections being served now
	Accepted      uint64 // connections accepted and served
	Rejected      uint64 // connections closed at accept: MaxConnections or ConnectionsPerIP reached
	Closed        uint64 // served connections closed, for any reason
	Requests      uint64 // frames handed to the handler
	BytesIn       uint64 // request bytes read, size prefixes included
	BytesOut      uint64 // response bytes written, size prefixes included
	InvalidFrames uint64 // connections closed for a size prefix out of range
	HandlerPanics uint64 // handler panics recovered
	IdleTimeouts  uint64 // connections closed by IdleTimeout
	WriteFailures uint64 // responses that could not be written completely
	AuthFailures  uint64 // connections closed for a failed TLS handshake or authentication
	// Authentications counts SASL authentications and re-authentications
	// that succeeded (Kafka's successful-authentication-total).
	Authentications uint64
	// ExpiredSessions counts connections closed because their SASL
	// session expired without a re-authentication (Kafka's
	// expired-connections-killed-count).
	ExpiredSessions uint64
}

// Server serves Kafka-framed connections. Create it with NewServer.
type Server struct {
	cfg Config
	h   Handler
	log *slog.Logger
	// cork sets TCP_CORK around responses holding a file region so the
	// size prefix and header bytes leave in the same segment as the first
	// region bytes. Tests switch it off to measure it.
	cork bool

	// ctx is the parent of every Conn.Context; cancel runs when Shutdown
	// or Close begins.
	ctx    context.Context
	cancel context.CancelFunc
	nextID atomic.Uint64
	// closing is set, under mu, when Shutdown or Close begins; it never
	// clears. A conn goroutine checks it after setting its idle deadline,
	// so Shutdown's deadline-in-the-past always wins (see Conn.serve).
	closing atomic.Bool

	mu        sync.Mutex
	listeners map[net.Listener]struct{} // guarded by mu
	conns     map[*Conn]struct{}        // guarded by mu; the served connections
	perIP     map[netip.Addr]int        // guarded by mu; connections by peer address
	wg        sync.WaitGroup            // one per served connection; Add under mu while !closing

	st struct {
		open                                 atomic.Int64
		accepted, rejected, closed, requests atomic.Uint64
		bytesIn, bytesOut, invalid, panics   atomic.Uint64
		idle, writeFailures, authFailures    atomic.Uint64
		authentications, expired             atomic.Uint64
	}
}

// NewServer returns a Server that hands request frames to h.
func NewServer(cfg Config, h Handler) *Server {
	s := &Server{
		cfg:       cfg.withDefaults(),
		h:         h,
		cork:      true,
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*Conn]struct{}),
		perIP:     make(map[netip.Addr]int),
	}
	s.log = s.cfg.Logger
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Serve accepts connections on ln and serves each on its own goroutine
// until Shutdown or Close, when it returns ErrServerClosed, or until ln
// fails. Serve may be called for several listeners at once. Its
// connections are a PLAINTEXT listener's; see ServeListener.
func (s *Server) Serve(ln net.Listener) error { return s.serve(ln, &plaintext) }

func (s *Server) serve(ln net.Listener, l *Listener) error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			if !retryable(err) {
				return err
			}
			// Out of descriptors or memory: wait for connections to close
			// rather than spin (as net/http does).
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("netpoll: accept failed; retrying", "addr", ln.Addr(), "err", err, "backoff", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		s.serveConn(nc, l)
	}
}

func retryable(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM) ||
		errors.Is(err, syscall.ECONNABORTED)
}

func (s *Server) serveConn(nc net.Conn, l *Listener) {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if s.cfg.MaxConnections > 0 && len(s.conns) >= s.cfg.MaxConnections {
		s.mu.Unlock()
		s.st.rejected.Add(1)
		nc.Close()
		s.log.Debug("netpoll: connection limit reached; closing new connection",
			"remote", nc.RemoteAddr(), "max", s.cfg.MaxConnections)
		return
	}
	ip := peerIP(nc)
	if s.cfg.ConnectionsPerIP != nil {
		if limit := s.cfg.ConnectionsPerIP(ip); limit >= 0 && s.perIP[ip] >= limit {
			s.mu.Unlock()
			s.st.rejected.Add(1)
			nc.Close()
			s.log.Info("netpoll: connection limit of the address reached; closing new connection",
				"remote", nc.RemoteAddr(), "max", limit)
			return
		}
		s.perIP[ip]++
	}
	c := &Conn{id: s.nextID.Add(1), nc: nc, raw: nc, srv: s, ip: ip, lis: l}
	if l.Protocol.TLS() {
		// No I/O yet: the connection's goroutine handshakes.
		c.nc = tls.Server(nc, l.TLS.Config())
	}
	if l.NewAuthenticator != nil && l.Protocol.SASL() {
		c.auth = l.NewAuthenticator(c)
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	s.st.open.Add(1)
	s.st.accepted.Add(1)
	go c.serve()
}

// forget removes a closed connection.
func (s *Server) forget(c *Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	if s.cfg.ConnectionsPerIP != nil {
		if s.perIP[c.ip]--; s.perIP[c.ip] <= 0 {
			delete(s.perIP, c.ip)
		}
	}
	s.mu.Unlock()
	s.st.open.Add(-1)
	s.st.closed.Add(1)
	s.wg.Done()
}

// NumConns returns the number of connections being served.
func (s *Server) NumConns() int { return int(s.st.open.Load()) }

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() Stats {
	return Stats{
		Open:          s.st.open.Load(),
		Accepted:      s.st.accepted.Load(),
		Rejected:      s.st.rejected.Load(),
		Closed:        s.st.closed.Load(),
		Requests:      s.st.requests.Load(),
		BytesIn:       s.st.bytesIn.Load(),
		BytesOut:      s.st.bytesOut.Load(),
		InvalidFrames: s.st.invalid.Load(),
		HandlerPanics: s.st.panics.Load(),
		IdleTimeouts:  s.st.idle.Load(),
		WriteFailures: s.st.writeFailures.Load(),
		AuthFailures:  s.st.authFailures.Load(),

		Authentications: s.st.authentications.Load(),
		ExpiredSessions: s.st.expired.Load(),
	}
}

// beginClose stops accepting and returns the connections being served.
func (s *Server) beginClose() []*Conn {
	s.mu.Lock()
	s.closing.Store(true)
	for ln := range s.listeners {
		ln.Close()
	}
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	s.cancel()
	return conns
}

// Shutdown stops accepting connections and cancels every Conn.Context
// (handlers that wait for events, such as long-polling fetches, should
// return what they have). It then waits until every running handler has
// returned and its response has been written, closing each connection as
// it becomes idle. If ctx ends first, Shutdown closes every connection and
// returns ctx.Err(); a handler that ignores its context may still be
// running then.
func (s *Server) Shutdown(ctx context.Context) error {
	conns := s.beginClose()
	// Wake the goroutines parked in a read: each sees closing and exits.
	// Those in a handler or a write see it before reading again.
	now := time.Now()
	for _, c := range conns {
		c.nc.SetReadDeadline(now)
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.closeAll()
		return ctx.Err()
	}
}

// Close stops accepting connections and closes every connection at once.
// Responses being written are cut off.
func (s *Server) Close() error {
	s.beginClose()
	s.closeAll()
	return nil
}

func (s *Server) closeAll() {
	s.mu.Lock()
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// peerIP is the address a connection comes from, IPv4 unmapped; the zero
// Addr for a connection that is not IP.
func peerIP(nc net.Conn) netip.Addr {
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}
