package kafkazk

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"samsa/metadata/kafkazk/zkdata"
)

// ZooKeeper security: the ACLs znodes are created with
// (zookeeper.set.acl), the session's identity (digest credentials, or the
// client certificate of a TLS connection that ZooKeeper's x509 provider
// maps to x509:<subject>), and TLS to ZooKeeper's secure client port.

// ErrNoIdentity: secure ACLs were asked for but the session would have no
// identity for ZooKeeper to give them to.
var ErrNoIdentity = errors.New("kafkazk: secure ACLs need an authenticated session: digest credentials or a TLS client certificate")

var (
	// creatorAll is ZooKeeper's CREATOR_ALL_ACL: the server replaces the
	// "auth" id with every authenticated identity of the creating session.
	creatorAll = zk.ACL{Perms: zk.PermAll, Scheme: "auth", ID: ""}
	worldRead  = zk.ACL{Perms: zk.PermRead, Scheme: "world", ID: "anyone"}
	worldAll   = zk.ACL{Perms: zk.PermAll, Scheme: "world", ID: "anyone"}
)

// acl is the ACL of a znode this client creates; path is relative to the
// chroot.
func (c *Client) acl(path string) []zk.ACL {
	switch zkdata.DefaultACL(c.cfg.SecureACLs, path) {
	case zkdata.ACLCreatorAll:
		return []zk.ACL{creatorAll}
	case zkdata.ACLCreatorAllWorldRead:
		return []zk.ACL{creatorAll, worldRead}
	}
	return []zk.ACL{worldAll}
}

// aclAbs is acl of a server path: the chroot and its parents are judged
// by their own paths, as Kafka's client without a chroot creates them.
func (c *Client) aclAbs(abs string) []zk.ACL {
	if c.chroot != "" && strings.HasPrefix(abs, c.chroot+"/") {
		return c.acl(abs[len(c.chroot):])
	}
	return c.acl(abs)
}

// hasIdentity reports whether a session with cfg authenticates as someone.
func hasIdentity(cfg Config) bool {
	return cfg.Digest != "" || cfg.TLS != nil && (len(cfg.TLS.Certificates) > 0 || cfg.TLS.GetClientCertificate != nil)
}

// authenticate adds the digest credentials to the new session. go-zookeeper
// sends them again on every reconnection before any other request, so the
// session never acts without its identity.
func (c *Client) authenticate(ctx context.Context) error {
	if c.cfg.Digest == "" {
		return nil
	}
	return c.retry(ctx, func(bool) error { return c.conn.AddAuth("digest", []byte(c.cfg.Digest)) })
}

// tlsDialer dials ZooKeeper's secure client port: TCP within
// go-zookeeper's connect timeout (1 s), then the TLS handshake within
// handshake, as long as go-zookeeper waits for a reply: a JVM's first
// handshakes are slow. The certificate is checked against the host as
// configured (staticHosts keeps names).
func tlsDialer(cfg *tls.Config, handshake time.Duration) zk.Dialer {
	return func(network, address string, timeout time.Duration) (net.Conn, error) {
		tc := cfg.Clone()
		if tc.ServerName == "" {
			if host, _, err := net.SplitHostPort(address); err == nil {
				tc.ServerName = host
			}
		}
		raw, err := net.DialTimeout(network, address, timeout)
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), max(timeout, handshake))
		defer cancel()
		conn := tls.Client(raw, tc)
		if err := conn.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		return conn, nil
	}
}

// recordDial wraps a dialer to keep its last error for Connect's message.
func (c *Client) recordDial(d zk.Dialer) zk.Dialer {
	return func(network, address string, timeout time.Duration) (net.Conn, error) {
		conn, err := d(network, address, timeout)
		if err != nil {
			err = fmt.Errorf("%s: %w", address, err)
			c.dialErr.Store(&err)
		} else {
			c.dialErr.Store(nil)
		}
		return conn, err
	}
}

// staticHosts is a zk.HostProvider that hands out the servers as
// configured, round robin. go-zookeeper's default resolves names to
// addresses first, which would leave TLS nothing but an IP address to
// check a certificate's names against.
type staticHosts struct {
	mu      sync.Mutex
	servers []string
	cur     int // the server last handed out
	last    int // the server of the last connection; -1 before the first
}

func (h *staticHosts) Init(servers []string) error {
	if len(servers) == 0 {
		return errors.New("kafkazk: no ZooKeeper servers")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.servers = servers
	h.cur, h.last = -1, -1
	return nil
}

func (h *staticHosts) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.servers)
}

// Next returns the next server; retryStart is true when a whole round
// since the last connection has failed (go-zookeeper then backs off).
func (h *staticHosts) Next() (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cur = (h.cur + 1) % len(h.servers)
	retryStart := h.cur == h.last
	if h.last == -1 {
		h.last = 0
	}
	return h.servers[h.cur], retryStart
}

func (h *staticHosts) Connected() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = h.cur
}
