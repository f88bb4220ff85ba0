package kafkazk

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"samsa/metadata/kafkazk/zkdata"
)

// Kafka's defaults for zookeeper.session.timeout.ms and
// zookeeper.connection.timeout.ms (which defaults to the session timeout).
const DefaultSessionTimeout = 18 * time.Second

// Config configures a Client.
type Config struct {
	// Connect is zookeeper.connect: "host:port[,host:port...][/chroot]".
	// Every path this package names is relative to the chroot, which Connect
	// creates if it is missing, as Kafka does.
	Connect string
	// SessionTimeout is zookeeper.session.timeout.ms (default 18 s). The
	// server clamps it to [2, 20] ticks.
	SessionTimeout time.Duration
	// ConnectionTimeout is zookeeper.connection.timeout.ms: how long Connect
	// waits for the first session (default SessionTimeout).
	ConnectionTimeout time.Duration
	// Logger receives session changes and retries; nil discards them.
	Logger *slog.Logger

	// SecureACLs is zookeeper.set.acl: every znode is created with
	// Kafka's secure ACLs (zkdata.DefaultACL), which ZooKeeper gives to
	// the session's identities; Connect refuses without one (Digest, or a
	// client certificate in TLS).
	SecureACLs bool
	// Digest is "user:password": the session authenticates with
	// ZooKeeper's digest scheme as digest:user:base64(sha1(user:password)).
	// Empty: no digest identity.
	Digest string
	// TLS, when set, connects to ZooKeeper's secure client port with it;
	// an empty ServerName is the host of each server as configured. A
	// certificate in it is the x509 identity ZooKeeper's
	// X509AuthenticationProvider gives the session.
	TLS *tls.Config
}

// Client is Samsa's KafkaZkClient: typed reads and writes of Kafka's znodes
// over one ZooKeeper session at a time. It is safe for concurrent use.
//
// Calls retry a lost connection until the call's ctx is done, waiting at
// most SessionTimeout at a time for a session when ctx has no deadline, and
// a write whose reply was lost is checked (re-read and compared) before it is
// tried again: see doc.go, invariant 7.
type Client struct {
	conn   *zk.Conn
	connP  atomic.Pointer[zk.Conn] // conn, for the event callback, which can run before Connect returns
	chroot string                  // "" or "/a/b": prefixed to every path
	cfg    Config
	log    *slog.Logger
	quit   chan struct{} // closed by Close
	loop   chan struct{} // closed when sessionLoop has exited

	dialErr atomic.Pointer[error] // the last failed dial; nil after a success

	mu       sync.Mutex
	changed  chan struct{}      // closed and replaced at every connection state event
	events   []sessionEvent     // not yet seen by sessionLoop
	wake     chan struct{}      // cap 1: events is non-empty
	session  int64              // the current (last established) session, 0 before the first
	sessions map[int64]struct{} // every session this client has held
	hooks    map[int]func(int64)
	nextHook int
	closed   bool
}

// Connect connects to ZooKeeper, waits up to cfg.ConnectionTimeout for a
// session, creates the chroot and Kafka's top-level persistent paths.
func Connect(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = DefaultSessionTimeout
	}
	if cfg.ConnectionTimeout <= 0 {
		cfg.ConnectionTimeout = cfg.SessionTimeout
	}
	servers, chroot, err := parseConnect(cfg.Connect)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		chroot:   chroot,
		cfg:      cfg,
		log:      log.With("zookeeper", cfg.Connect),
		quit:     make(chan struct{}),
		loop:     make(chan struct{}),
		changed:  make(chan struct{}),
		wake:     make(chan struct{}, 1),
		sessions: make(map[int64]struct{}),
		hooks:    make(map[int]func(int64)),
	}
	if cfg.SecureACLs && !hasIdentity(cfg) {
		return nil, ErrNoIdentity
	}
	// The event channel Connect returns drops events when nobody reads it;
	// session states come through the callback instead, which never drops.
	dialer, hosts := zk.Dialer(net.DialTimeout), zk.HostProvider(zk.NewDNSHostProvider()) // go-zookeeper's defaults
	if cfg.TLS != nil {
		dialer, hosts = tlsDialer(cfg.TLS, cfg.SessionTimeout*2/3), &staticHosts{}
	}
	conn, _, err := zk.Connect(servers, cfg.SessionTimeout,
		zk.WithEventCallback(c.onEvent),
		zk.WithLogger(zkLogger{c.log}),
		zk.WithLogInfo(false),
		zk.WithDialer(c.recordDial(dialer)),
		zk.WithHostProvider(hosts))
	if err != nil {
		return nil, fmt.Errorf("kafkazk: connect %s: %w", cfg.Connect, err)
	}
	c.conn = conn
	c.connP.Store(conn)
	go c.sessionLoop()

	cctx, cancel := context.WithTimeout(ctx, cfg.ConnectionTimeout)
	defer cancel()
	if err := c.waitSession(cctx); err != nil {
		c.Close()
		if de := c.dialErr.Load(); de != nil {
			// go-zookeeper only logs why it could not connect: a refused
			// port or a failed TLS handshake is worth the message.
			return nil, fmt.Errorf("kafkazk: connect %s: %w (last attempt: %w)", cfg.Connect, err, *de)
		}
		return nil, fmt.Errorf("kafkazk: connect %s: %w", cfg.Connect, err)
	}
	if err := c.authenticate(cctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("kafkazk: authenticate to %s: %w", cfg.Connect, err)
	}
	if chroot != "" {
		if err := c.ensureAbs(ctx, chroot); err != nil {
			c.Close()
			return nil, fmt.Errorf("kafkazk: create chroot %s: %w", chroot, err)
		}
	}
	if err := c.CreateTopLevelPaths(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// parseConnect splits "h1:p1,h2:p2/chroot" into servers and chroot ("" for
// none or "/").
func parseConnect(s string) (servers []string, chroot string, err error) {
	hosts := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		hosts, chroot = s[:i], s[i:]
	}
	if chroot == "/" {
		chroot = ""
	}
	if chroot != "" && (strings.HasSuffix(chroot, "/") || strings.Contains(chroot, "//")) {
		return nil, "", fmt.Errorf("kafkazk: zookeeper.connect %q: bad chroot %q", s, chroot)
	}
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			servers = append(servers, h)
		}
	}
	if len(servers) == 0 {
		return nil, "", fmt.Errorf("kafkazk: zookeeper.connect %q names no server", s)
	}
	return servers, chroot, nil
}

// Close ends the session (its ephemeral znodes go at once) and stops the
// client's goroutines. Watchers stop; calls in flight fail with ErrClosed.
// Close must not be called from an OnNewSession hook.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.quit)
	c.mu.Unlock()
	c.conn.Close()
	<-c.loop
	return nil
}

// SessionID is the current ZooKeeper session's ID (0 while a lost session
// is being replaced).
func (c *Client) SessionID() int64 { return c.conn.SessionID() }

// OnNewSession registers fn to run each time the client has had to open a
// new session because the previous one expired. By then every ephemeral znode
// of the old session is gone: fn re-registers the broker (a new broker
// epoch) and runs the controller election again. Hooks run one at a time on
// the client's session goroutine, in registration order; they may call the
// client but not Close. The returned func removes the hook.
func (c *Client) OnNewSession(fn func(sessionID int64)) (remove func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.nextHook
	c.nextHook++
	c.hooks[id] = fn
	return func() {
		c.mu.Lock()
		delete(c.hooks, id)
		c.mu.Unlock()
	}
}

// ownSession reports whether sid is a session this client has held.
func (c *Client) ownSession(sid int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.sessions[sid]
	return ok || (sid != 0 && sid == c.conn.SessionID())
}

type sessionEvent struct {
	state zk.State
	sid   int64 // the session at StateHasSession; 0 if not known yet
}

// onEvent is go-zookeeper's event callback. It must not block: it records
// session states for sessionLoop and wakes whoever waits for a session.
// The session ID is taken here, at the event, so that no session goes
// unrecorded however fast they follow each other.
func (c *Client) onEvent(ev zk.Event) {
	if ev.Type != zk.EventSession {
		return
	}
	se := sessionEvent{state: ev.State}
	if conn := c.connP.Load(); conn != nil && ev.State == zk.StateHasSession {
		se.sid = conn.SessionID()
	}
	c.mu.Lock()
	close(c.changed)
	c.changed = make(chan struct{})
	c.events = append(c.events, se)
	if se.sid != 0 {
		c.sessions[se.sid] = struct{}{}
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// sessionLoop follows the session: it logs state changes and, when a new
// session replaces an expired one, runs the hooks.
func (c *Client) sessionLoop() {
	defer close(c.loop)
	for {
		select {
		case <-c.quit:
			return
		case <-c.wake:
		}
		c.mu.Lock()
		states := c.events
		c.events = nil
		c.mu.Unlock()
		for _, ev := range states {
			switch ev.state {
			case zk.StateExpired:
				c.log.Warn("kafkazk: ZooKeeper session expired; its ephemeral znodes are gone")
			case zk.StateDisconnected:
				c.log.Info("kafkazk: disconnected from ZooKeeper")
			case zk.StateHasSession:
				sid := ev.sid
				if sid == 0 {
					sid = c.conn.SessionID() // the event came before Connect returned
				}
				if sid == 0 {
					continue
				}
				c.mu.Lock()
				prev := c.session
				c.session = sid
				c.sessions[sid] = struct{}{}
				var hooks []func(int64)
				if prev != 0 && prev != sid {
					for id := 0; id < c.nextHook; id++ {
						if h, ok := c.hooks[id]; ok {
							hooks = append(hooks, h)
						}
					}
				}
				c.mu.Unlock()
				switch {
				case prev == 0:
					c.log.Info("kafkazk: ZooKeeper session established", "session", fmt.Sprintf("0x%x", sid))
				case prev != sid:
					c.log.Warn("kafkazk: new ZooKeeper session replaces an expired one",
						"old", fmt.Sprintf("0x%x", prev), "new", fmt.Sprintf("0x%x", sid))
					for _, h := range hooks {
						h(sid)
					}
				default:
					c.log.Info("kafkazk: reconnected to ZooKeeper", "session", fmt.Sprintf("0x%x", sid))
				}
			}
		}
	}
}

// waitSession waits until the client has a session. Without a deadline in
// ctx it waits at most SessionTimeout.
func (c *Client) waitSession(ctx context.Context) error {
	var timeout <-chan time.Time
	if _, ok := ctx.Deadline(); !ok {
		t := time.NewTimer(c.cfg.SessionTimeout)
		defer t.Stop()
		timeout = t.C
	}
	for {
		c.mu.Lock()
		closed, changed := c.closed, c.changed
		c.mu.Unlock()
		if closed {
			return ErrClosed
		}
		if c.conn.State() == zk.StateHasSession {
			return nil
		}
		select {
		case <-changed:
		case <-c.quit:
			return ErrClosed
		case <-ctx.Done():
			return fmt.Errorf("%w: %v", ErrNotConnected, ctx.Err())
		case <-timeout:
			return fmt.Errorf("%w within the session timeout %v", ErrNotConnected, c.cfg.SessionTimeout)
		}
	}
}

// connLoss reports whether err means the request may or may not have reached
// the server: the reply was lost with the connection or the session.
func connLoss(err error) bool {
	if errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrNoServer) ||
		errors.Is(err, zk.ErrSessionExpired) || errors.Is(err, zk.ErrSessionMoved) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// retry runs op until it succeeds or fails for a reason other than a lost
// connection. op's argument is true when an earlier attempt's reply was lost,
// so a write must first find out whether that attempt was applied.
func (c *Client) retry(ctx context.Context, op func(lost bool) error) error {
	backoff := 5 * time.Millisecond
	for lost := false; ; lost = true {
		err := op(lost)
		if err == nil || !connLoss(err) {
			if errors.Is(err, zk.ErrClosing) {
				return ErrClosed
			}
			return err
		}
		c.log.Debug("kafkazk: connection lost during a request; retrying", "err", err)
		if werr := c.waitSession(ctx); werr != nil {
			return fmt.Errorf("%w (after: %v)", werr, err)
		}
		// Pace retries: the library may fail requests at once until it
		// notices the connection is gone.
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return fmt.Errorf("%w: %v", ErrNotConnected, ctx.Err())
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

// abs maps a Kafka path to the server's path under the chroot.
func (c *Client) abs(p string) string {
	if c.chroot == "" {
		return p
	}
	if p == "/" {
		return c.chroot
	}
	return c.chroot + p
}

// Stat is the part of a znode's ZooKeeper stat that Kafka's data depends on.
type Stat struct {
	Czxid          int64 // zxid of the create: a broker's epoch
	Ctime          int64 // time of the create, ms since the epoch (notifications expire by it)
	Mzxid          int64 // zxid of the last write
	Version        int32 // data version: a partition's epoch
	EphemeralOwner int64 // session that owns an ephemeral znode, else 0
	NumChildren    int32
}

func toStat(s *zk.Stat) Stat {
	if s == nil {
		return Stat{}
	}
	return Stat{Czxid: s.Czxid, Ctime: s.Ctime, Mzxid: s.Mzxid, Version: s.Version, EphemeralOwner: s.EphemeralOwner, NumChildren: s.NumChildren}
}

// get reads a znode; ErrNotFound when it is absent.
func (c *Client) get(ctx context.Context, path string) (data []byte, st Stat, err error) {
	err = c.retry(ctx, func(bool) error {
		d, s, err := c.conn.Get(c.abs(path))
		if err == nil {
			data, st = d, toStat(s)
		}
		return err
	})
	if errors.Is(err, zk.ErrNoNode) {
		return nil, Stat{}, pathErr(path, ErrNotFound)
	}
	if err != nil {
		return nil, Stat{}, fmt.Errorf("kafkazk: get %s: %w", path, err)
	}
	return data, st, nil
}

// children lists a znode's children; ErrNotFound when it is absent.
func (c *Client) children(ctx context.Context, path string) ([]string, error) {
	var kids []string
	err := c.retry(ctx, func(bool) error {
		k, _, err := c.conn.Children(c.abs(path))
		kids = k
		return err
	})
	if errors.Is(err, zk.ErrNoNode) {
		return nil, pathErr(path, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("kafkazk: children of %s: %w", path, err)
	}
	return kids, nil
}

func (c *Client) exists(ctx context.Context, path string) (bool, error) {
	var ok bool
	err := c.retry(ctx, func(bool) error {
		e, _, err := c.conn.Exists(c.abs(path))
		ok = e
		return err
	})
	if err != nil {
		return false, fmt.Errorf("kafkazk: exists %s: %w", path, err)
	}
	return ok, nil
}

// create creates a persistent znode with data, and its missing parents
// (empty). ErrExists if it exists with other data; if it exists with the same
// data after a lost reply, the lost attempt made it and create succeeds.
func (c *Client) create(ctx context.Context, path string, data []byte) error {
	err := c.retry(ctx, func(lost bool) error {
		_, err := c.conn.Create(c.abs(path), data, 0, c.acl(path))
		if errors.Is(err, zk.ErrNoNode) {
			if err := c.ensureAbs(ctx, c.abs(parent(path))); err != nil {
				return err
			}
			_, err = c.conn.Create(c.abs(path), data, 0, c.acl(path))
		}
		if errors.Is(err, zk.ErrNodeExists) && lost {
			d, _, gerr := c.conn.Get(c.abs(path))
			if gerr != nil {
				return gerr
			}
			if bytes.Equal(d, data) {
				return nil
			}
		}
		return err
	})
	if errors.Is(err, zk.ErrNodeExists) {
		return pathErr(path, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("kafkazk: create %s: %w", path, err)
	}
	return nil
}

// setOrCreate writes data to a persistent znode whatever its version,
// creating it (and its parents) if it is missing. Lost replies need no
// check: the write is idempotent.
func (c *Client) setOrCreate(ctx context.Context, path string, data []byte) error {
	err := c.retry(ctx, func(bool) error {
		_, err := c.conn.Set(c.abs(path), data, -1)
		if errors.Is(err, zk.ErrNoNode) {
			err = c.create(ctx, path, data)
			if errors.Is(err, ErrExists) {
				_, err = c.conn.Set(c.abs(path), data, -1)
			}
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("kafkazk: write %s: %w", path, err)
	}
	return nil
}

// ensureAbs makes sure an absolute (server) path exists, creating it and its
// parents empty.
func (c *Client) ensureAbs(ctx context.Context, abs string) error {
	if abs == "/" || abs == "" {
		return nil
	}
	return c.retry(ctx, func(bool) error {
		_, err := c.conn.Create(abs, nil, 0, c.aclAbs(abs))
		if errors.Is(err, zk.ErrNoNode) {
			if err := c.ensureAbs(ctx, parent(abs)); err != nil {
				return err
			}
			_, err = c.conn.Create(abs, nil, 0, c.aclAbs(abs))
		}
		if errors.Is(err, zk.ErrNodeExists) {
			return nil
		}
		return err
	})
}

func parent(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// CreateTopLevelPaths makes sure Kafka's persistent top-level znodes exist
// (/brokers/ids, /brokers/topics, /brokers/seqid, /config/changes,
// /config/<entity type>, /admin/delete_topics, ...). Connect calls it.
func (c *Client) CreateTopLevelPaths(ctx context.Context) error {
	for _, p := range zkdata.PersistentPaths() {
		if err := c.ensureAbs(ctx, c.abs(p)); err != nil {
			return fmt.Errorf("kafkazk: create %s: %w", p, err)
		}
	}
	return nil
}

// zkLogger sends go-zookeeper's own messages to slog at debug level.
type zkLogger struct{ l *slog.Logger }

func (z zkLogger) Printf(format string, args ...any) {
	z.l.Debug("zk: " + fmt.Sprintf(format, args...))
}
