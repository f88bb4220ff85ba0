package netpoll

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"samsa/security"
)

// Conn is one client connection of a Server.
type Conn struct {
	// Value is the handler's per-connection state (client id, SASL state,
	// negotiated versions). netpoll never touches it. Serve calls for one
	// connection are sequential, so the handler needs no lock to use it.
	Value any

	id  uint64
	nc  net.Conn // a *tls.Conn on a TLS listener
	raw net.Conn // the socket: nc, or the one under the *tls.Conn
	srv *Server
	ip  netip.Addr // the peer's, for Config.ConnectionsPerIP
	lis *Listener  // the listener it came in on; never nil

	principal atomic.Pointer[security.Principal] // nil: ANONYMOUS
	tlsState  *tls.ConnectionState               // set by the handshake, before the first request

	// Owned by the connection's goroutine.
	prefix [4]byte // size prefix of the response being written
	// head receives the first bytes that arrive on an idle connection: a
	// small request fits whole, so it is read with one syscall, and no
	// pooled buffer is held while waiting.
	head [128]byte
	// rbuf holds bytes received and not yet consumed, (*rbuf)[rpos:rend],
	// starting with the frame being served. It is borrowed from the pools
	// when bytes arrive on an idle connection and returned once every
	// buffered frame has been answered: an idle connection has none.
	rbuf       *[]byte
	rpos, rend int
	armed      bool            // the read deadline for the current frame is set
	iov        [][]byte        // writev scratch; holds no references between responses
	nb         net.Buffers     // the iov being written; a field so WriteTo does not allocate
	rc         syscall.RawConn // for TCP_CORK; set on the first response with a region
	// auth authenticates a SASL listener's connection: frames go to it
	// until it is done, then it is nil.
	auth Authenticator
	// sess is the Authenticator that authenticated the connection when its
	// sessions expire: it sees each later frame first, and takes over as
	// auth again for a re-authentication.
	sess SessionAuthenticator
	// wbuf stages a TLS connection's responses, file regions included
	// (sendfile cannot encrypt): one buffer, borrowed at the connection's
	// first response and kept while frames keep coming, returned with
	// the read buffer when the connection goes idle.
	wbuf *[]byte

	ctxMu  sync.Mutex
	ctx    context.Context    // guarded by ctxMu; made on the first Context call
	cancel context.CancelFunc // guarded by ctxMu
	done   bool               // guarded by ctxMu; the connection has closed
}

// ID returns the connection's number, unique within its Server, from 1.
func (c *Conn) ID() uint64 { return c.id }

// RemoteAddr returns the client's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// LocalAddr returns the address of the listener the client connected to.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// Context returns a context that is canceled when the connection is
// closed (by Close, a failure, or the Server) or the Server begins to shut
// down. Handlers that wait (long polls, acks=-1 produce) select on it.
// netpoll does not read from a connection while its handler runs, so a
// client that goes away is noticed only once the handler has returned.
func (c *Conn) Context() context.Context {
	c.ctxMu.Lock()
	defer c.ctxMu.Unlock()
	if c.ctx == nil {
		c.ctx, c.cancel = context.WithCancel(c.srv.ctx)
		if c.done {
			c.cancel()
		}
	}
	return c.ctx
}

// Close closes the connection at once; it is safe from any goroutine. A
// response being written, or returned by the running handler, is dropped.
// To answer and then close, use Response.CloseAfter.
func (c *Conn) Close() error {
	// The socket, not the TLS layer: its close_notify could wait (up to
	// 5 s in crypto/tls) on a peer that does not read.
	err := c.raw.Close()
	c.cancelContext()
	return err
}

func (c *Conn) cancelContext() {
	c.ctxMu.Lock()
	c.done = true
	if c.cancel != nil {
		c.cancel()
	}
	c.ctxMu.Unlock()
}

// serve is the connection's goroutine: read a frame, call the handler,
// write the response, until the connection ends.
func (c *Conn) serve() {
	s := c.srv
	defer c.finish()
	if c.lis.Protocol.TLS() && !c.handshake() {
		return
	}
	for {
		if c.rbuf == nil {
			// Nothing buffered: wait for the next frame holding no buffer.
			// Set the deadline first, then look at closing: Shutdown sets
			// closing first, then a deadline in the past, so either this
			// goroutine sees closing or Shutdown's deadline overrides ours.
			c.nc.SetReadDeadline(deadline(s.cfg.IdleTimeout))
			if s.closing.Load() {
				return
			}
			n, err := c.nc.Read(c.head[:])
			if n == 0 {
				c.readFailed(err, true)
				return
			}
			c.rbuf = getBuf(readAhead)
			c.rpos, c.rend = 0, copy(*c.rbuf, c.head[:n])
		} else if s.closing.Load() {
			return
		}
		c.armed = false
		if err := c.fill(4); err != nil {
			c.readFailed(err, false)
			return
		}
		buf := *c.rbuf
		size := int32(binary.BigEndian.Uint32(buf[c.rpos:]))
		if c.auth != nil && size > s.cfg.MaxAuthRequestBytes {
			// Kafka: "Failing SASL authentication due to invalid receive size".
			c.authFailed(fmt.Errorf("frame of %d bytes before authentication, over %d", size, s.cfg.MaxAuthRequestBytes))
			return
		}
		if size < 0 || size > s.cfg.MaxRequestBytes {
			s.st.invalid.Add(1)
			s.log.Warn("netpoll: request size out of range; closing connection",
				"conn", c.id, "remote", c.nc.RemoteAddr(), "size", size, "max", s.cfg.MaxRequestBytes)
			return
		}
		if err := c.fill(4 + int(size)); err != nil {
			c.readFailed(err, false)
			return
		}
		buf = *c.rbuf
		req := buf[c.rpos+4 : c.rpos+4+int(size) : c.rpos+4+int(size)]
		c.rpos += 4 + int(size)
		s.st.bytesIn.Add(4 + uint64(size))
		s.st.requests.Add(1)
		if !c.serveFrame(req) {
			return
		}
		if c.rpos == c.rend {
			putBuf(c.rbuf)
			c.rbuf = nil
			c.releaseWriteBuf()
		}
	}
}

// fill reads until at least need bytes are buffered, making room in the
// read buffer when it must: moving the unread bytes to its front, or to a
// larger buffer. Past growFrom the buffer grows only when it is full and
// at most doubles, so memory follows the bytes received, not the size a
// prefix claims. It is called only when no request or response refers to
// the buffer any more.
func (c *Conn) fill(need int) error {
	for c.rend-c.rpos < need {
		buf := *c.rbuf
		full := c.rend == len(buf)
		if c.rpos+need > len(buf) && (need <= len(buf) || full || len(buf) < growFrom) {
			unread := c.rend - c.rpos
			if need <= len(buf) {
				copy(buf, buf[c.rpos:c.rend])
			} else {
				size := need
				if need > growFrom {
					size = min(need, max(2*len(buf), growFrom))
				}
				nb := getBuf(size)
				copy(*nb, buf[c.rpos:c.rend])
				putBuf(c.rbuf)
				c.rbuf, buf = nb, *nb
			}
			c.rpos, c.rend = 0, unread
		}
		if !c.armed {
			c.nc.SetReadDeadline(deadline(c.srv.cfg.ReadTimeout))
			c.armed = true
		}
		n, err := c.nc.Read(buf[c.rend:])
		c.rend += n
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// serveFrame hands a frame to the Authenticator or the Handler and writes
// the answer; it reports whether the connection may go on.
func (c *Conn) serveFrame(req []byte) bool {
	if c.auth == nil && c.sess != nil {
		reauth, err := c.checkSession(req)
		if errors.Is(err, errPanicked) {
			return false
		}
		if err != nil {
			c.srv.st.expired.Add(1)
			c.srv.log.Info("netpoll: closing connection: authentication session expired",
				"conn", c.id, "remote", c.nc.RemoteAddr(), "listener", c.lis.Name, "err", err)
			return false
		}
		if reauth {
			c.auth = c.sess
		}
	}
	if c.auth != nil {
		return c.authenticate(req)
	}
	resp, ok := c.call(req)
	if ok && resp != nil {
		ok = c.write(resp)
	}
	return ok
}

// call runs the handler, turning a panic into a closed connection.
func (c *Conn) call(req []byte) (resp *Response, ok bool) {
	defer func() {
		if v := recover(); v != nil {
			c.srv.st.panics.Add(1)
			c.srv.log.Error("netpoll: handler panicked; closing connection",
				"conn", c.id, "remote", c.nc.RemoteAddr(), "panic", v, "stack", string(debug.Stack()))
			resp, ok = nil, false
		}
	}()
	return c.srv.h.Serve(c, req), true
}

// authenticate hands a frame to the connection's Authenticator and
// writes its answer; it reports whether the connection may go on.
func (c *Conn) authenticate(req []byte) bool {
	resp, done, err := c.callAuth(req)
	if errors.Is(err, ErrNotSASL) {
		c.srv.log.Info("netpoll: closing connection: not a SASL exchange",
			"conn", c.id, "remote", c.nc.RemoteAddr(), "listener", c.lis.Name, "err", err)
		return false
	}
	if err != nil {
		c.authFailed(err)
		if resp != nil {
			c.write(resp)
		}
		return false
	}
	if resp != nil && !c.write(resp) {
		return false
	}
	if done {
		c.srv.st.authentications.Add(1)
		if sa, ok := c.auth.(SessionAuthenticator); ok {
			c.sess = sa
		}
		c.auth = nil
	}
	return true
}

// authFailed counts and logs a failed authentication, then waits
// Config.FailedAuthDelay (less if the server shuts down) before the
// caller answers and closes.
func (c *Conn) authFailed(err error) {
	s := c.srv
	s.st.authFailures.Add(1)
	s.log.Info("netpoll: failed authentication; closing connection",
		"conn", c.id, "remote", c.nc.RemoteAddr(), "listener", c.lis.Name, "err", err)
	if s.cfg.FailedAuthDelay <= 0 {
		return
	}
	t := time.NewTimer(s.cfg.FailedAuthDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.ctx.Done():
	}
}

var errPanicked = errors.New("authenticator panicked")

// checkSession asks the SessionAuthenticator about a frame, turning a
// panic into a closed connection.
func (c *Conn) checkSession(req []byte) (reauth bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			c.srv.st.panics.Add(1)
			c.srv.log.Error("netpoll: authenticator panicked; closing connection",
				"conn", c.id, "remote", c.nc.RemoteAddr(), "panic", v, "stack", string(debug.Stack()))
			reauth, err = false, errPanicked
		}
	}()
	return c.sess.Check(c, req)
}

// callAuth runs the Authenticator, turning a panic into a closed
// connection as call does for the Handler.
func (c *Conn) callAuth(req []byte) (resp *Response, done bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			c.srv.st.panics.Add(1)
			c.srv.log.Error("netpoll: authenticator panicked; closing connection",
				"conn", c.id, "remote", c.nc.RemoteAddr(), "panic", v, "stack", string(debug.Stack()))
			resp, done, err = nil, false, errors.New("authenticator panicked")
		}
	}()
	return c.auth.Authenticate(c, req)
}

// readFailed logs why reading ended; idle says whether the connection was
// between frames.
func (c *Conn) readFailed(err error, idle bool) {
	s := c.srv
	var msg string
	switch {
	case s.closing.Load():
		msg = "server shutting down"
	case idle && err == io.EOF:
		msg = "closed by client"
	case errors.Is(err, os.ErrDeadlineExceeded) && idle:
		s.st.idle.Add(1)
		msg = "idle timeout"
	case errors.Is(err, os.ErrDeadlineExceeded):
		msg = "request read timeout"
	case errors.Is(err, io.ErrUnexpectedEOF):
		msg = "truncated request"
	case errors.Is(err, net.ErrClosed):
		msg = "closed"
	default:
		msg = "read failed"
	}
	s.log.Debug("netpoll: closing connection: "+msg, "conn", c.id, "remote", c.nc.RemoteAddr(), "err", err)
}

// finish closes the connection and tells the Server.
func (c *Conn) finish() {
	c.nc.Close()
	if c.rbuf != nil {
		putBuf(c.rbuf)
		c.rbuf = nil
	}
	c.releaseWriteBuf()
	c.cancelContext()
	c.srv.forget(c)
}

// deadline turns a timeout into a deadline; negative means none.
func deadline(d time.Duration) time.Time {
	if d < 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}
