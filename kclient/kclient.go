package kclient

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/tags"
)

// ErrUnsupported: the peer does not serve the request's API key.
var ErrUnsupported = errors.New("kclient: API not served by the peer")

// maxResponse bounds a response frame (a follower's fetch answers at most
// replica.fetch.response.max.bytes, 10 MiB by default).
const maxResponse = 256 << 20

// Conn is a connection to one broker.
type Conn struct {
	addr     string
	clientID string
	dialTO   time.Duration
	dialFn   DialFunc // nil: plain TCP

	mu       sync.Mutex // one request at a time
	c        net.Conn
	versions map[int16]int16 // the peer's max version per key
	corr     int32
	// out and in are Fetch's request and answer frames, kept from one
	// Fetch to the next and grown as needed (invariant 7).
	out, in []byte
	size    [4]byte // a response's size, as read
	// watched is the Done channel of the context whose end ends the I/O
	// on watchedConn, armed by Fetch once for a caller that passes the
	// same context each time; unwatch disarms it.
	watched     <-chan struct{}
	watchedConn net.Conn
	unwatch     func() bool
}

// DialFunc opens a connection to addr, bounded by ctx: the broker's
// inter-broker listener may need TLS (security.Dialer makes one).
type DialFunc func(ctx context.Context, addr string) (net.Conn, error)

// Option configures a Conn.
type Option func(*Conn)

// WithDial makes the Conn connect with dial instead of plain TCP.
func WithDial(dial DialFunc) Option { return func(c *Conn) { c.dialFn = dial } }

// New returns a Conn to addr (host:port); it dials on first use.
func New(addr, clientID string, opts ...Option) *Conn {
	c := &Conn{addr: addr, clientID: clientID, dialTO: 10 * time.Second}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Addr is the peer's address.
func (c *Conn) Addr() string { return c.addr }

// Close closes the connection; a later Request dials again.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeLocked()
}

func (c *Conn) closeLocked() error {
	c.unwatchLocked()
	if c.c == nil {
		return nil
	}
	err := c.c.Close()
	c.c, c.versions = nil, nil
	return err
}

// Request sends req at the highest version both sides know and returns the
// response. The context bounds dialing, writing and reading.
func (c *Conn) Request(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	return c.RequestAtLeast(ctx, req, 0)
}

// RequestAtLeast is Request for a request whose meaning needs version
// minVersion or above (AddPartitionsToTxn's verify-only form is v4+): if
// that is above the highest version both know, it is ErrUnsupported and
// nothing is sent.
func (c *Conn) RequestAtLeast(ctx context.Context, req kmsg.Request, minVersion int16) (kmsg.Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c != nil && stale(c.c) {
		c.closeLocked() // a SASL session near its end: authenticate anew
	}
	if c.c == nil {
		if err := c.dial(ctx); err != nil {
			return nil, err
		}
	}
	max, ok := c.versions[req.Key()]
	if !ok {
		return nil, fmt.Errorf("%w: %s at %s", ErrUnsupported, kmsg.NameForKey(req.Key()), c.addr)
	}
	if v := min(req.MaxVersion(), max); v >= minVersion {
		req.SetVersion(v)
	} else {
		return nil, fmt.Errorf("%w: %s v%d at %s (it serves up to v%d)", ErrUnsupported, kmsg.NameForKey(req.Key()), minVersion, c.addr, max)
	}
	resp, err := c.roundTrip(ctx, req)
	if err != nil {
		c.closeLocked()
		return nil, fmt.Errorf("kclient: %s to %s: %w", kmsg.NameForKey(req.Key()), c.addr, err)
	}
	return resp, nil
}

func (c *Conn) dial(ctx context.Context) error {
	var nc net.Conn
	var err error
	if c.dialFn != nil {
		dctx, cancel := context.WithTimeout(ctx, c.dialTO)
		nc, err = c.dialFn(dctx, c.addr)
		cancel()
	} else {
		d := net.Dialer{Timeout: c.dialTO}
		nc, err = d.DialContext(ctx, "tcp", c.addr)
	}
	if err != nil {
		return fmt.Errorf("kclient: dial %s: %w", c.addr, err)
	}
	c.c = nc
	av := kmsg.NewPtrApiVersionsRequest()
	av.SetVersion(3)
	av.ClientSoftwareName, av.ClientSoftwareVersion = "samsa", "1"
	resp, err := c.roundTrip(ctx, av)
	if err == nil {
		r := resp.(*kmsg.ApiVersionsResponse)
		if r.ErrorCode != 0 {
			err = fmt.Errorf("ApiVersions error %d", r.ErrorCode)
		} else {
			c.versions = make(map[int16]int16, len(r.ApiKeys))
			for _, k := range r.ApiKeys {
				c.versions[k.ApiKey] = k.MaxVersion
			}
		}
	}
	if err != nil {
		c.closeLocked()
		return fmt.Errorf("kclient: ApiVersions to %s: %w", c.addr, err)
	}
	return nil
}

func (c *Conn) roundTrip(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Second)
	}
	frame, err := c.exchange(ctx, req, deadline, false)
	if err != nil {
		return nil, err
	}
	body := frame[4:]
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	if resp.IsFlexible() && req.Key() != 18 { // ApiVersions answers with header v0
		var err error
		if body, err = tags.Skip(body); err != nil {
			return nil, fmt.Errorf("response header: %w", err)
		}
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("decode %s v%d: %w", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	return resp, nil
}

// exchange writes req and returns its answer's frame, correlation id
// checked, bounded by deadline and by ctx. With reuse (Fetch), the request
// is encoded into c.out and the answer read into c.in, each kept for the
// next exchange and grown when too small; ctx's watch stays armed after
// it. Without, both frames are new and the watch lasts the exchange.
func (c *Conn) exchange(ctx context.Context, req kmsg.Request, deadline time.Time, reuse bool) ([]byte, error) {
	nc := c.c
	if reuse {
		c.watch(ctx, nc)
	} else {
		// The AfterFunc may run after this returns and the caller has
		// closed the connection (c.c nil): it touches only the one it was
		// armed for.
		c.unwatchLocked()
		stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	nc.SetDeadline(deadline)
	if err := ctx.Err(); err != nil {
		return nil, err // it ended before the deadline above replaced the watch's
	}

	c.corr++
	corr := c.corr
	var buf []byte
	if reuse {
		buf = c.out[:0]
	} else {
		buf = make([]byte, 0, 64)
	}
	buf = append(buf, 0, 0, 0, 0) // the size, set below
	buf = binary.BigEndian.AppendUint16(buf, uint16(req.Key()))
	buf = binary.BigEndian.AppendUint16(buf, uint16(req.GetVersion()))
	buf = binary.BigEndian.AppendUint32(buf, uint32(corr))
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(c.clientID)))
	buf = append(buf, c.clientID...)
	if req.IsFlexible() {
		buf = append(buf, 0) // no header tags
	}
	if fr, ok := req.(*kmsg.FetchRequest); ok && reuse && plainFetchRequest(fr) {
		buf = appendFetchRequest(buf, fr)
	} else {
		buf = req.AppendTo(buf)
	}
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
	if reuse {
		c.out = buf
	}
	if _, err := nc.Write(buf); err != nil {
		return nil, ctxErr(ctx, err)
	}
	size := c.size[:] // in the Conn: a local array would escape to the heap
	if _, err := io.ReadFull(nc, size); err != nil {
		return nil, ctxErr(ctx, err)
	}
	n := binary.BigEndian.Uint32(size)
	if n < 4 || n > maxResponse {
		return nil, fmt.Errorf("response size %d", n)
	}
	var frame []byte
	switch {
	case reuse && int(n) <= cap(c.in):
		frame = c.in[:n]
	case reuse:
		frame = make([]byte, n)
		c.in = frame
	default:
		frame = make([]byte, n)
	}
	if _, err := io.ReadFull(nc, frame); err != nil {
		return nil, ctxErr(ctx, err)
	}
	if got := int32(binary.BigEndian.Uint32(frame)); got != corr {
		return nil, fmt.Errorf("correlation id %d, want %d", got, corr)
	}
	return frame, nil
}

// watch makes the end of ctx end the I/O on nc at once (a deadline in the
// past), armed once for each connection and cancellation (contexts that
// share a Done channel end together): a caller that passes the same
// context to every Fetch (a follower's loop) arms it once. A context that
// never ends needs no watch.
func (c *Conn) watch(ctx context.Context, nc net.Conn) {
	done := ctx.Done()
	if c.unwatch != nil && c.watched == done && c.watchedConn == nc {
		return
	}
	c.unwatchLocked()
	if done != nil {
		c.watched, c.watchedConn = done, nc
		c.unwatch = context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	}
}

func (c *Conn) unwatchLocked() {
	if c.unwatch != nil {
		c.unwatch()
	}
	c.watched, c.watchedConn, c.unwatch = nil, nil, nil
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
