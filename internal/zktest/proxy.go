package zktest

import (
	"net"
	"sync"
	"testing"
)

// Proxy is a TCP relay between ZooKeeper clients and a server, for making
// network faults that a real deployment has: a partition (Cut) and a request
// that reaches the server while its reply is lost (DropReplies). Clients
// connect to Addr() instead of the server.
//
// Cutting a client off for longer than its session timeout while the server
// keeps running is how tests make the server expire a session for real.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns map[*proxyConn]struct{}
	cut   bool // new connections are closed at once
	drop  bool // replies to clients are discarded
}

type proxyConn struct {
	client, server net.Conn
	tainted        bool // a reply was dropped: the stream is broken; guarded by Proxy.mu
}

// NewProxy listens on a free loopback port and relays to target
// ("host:port"). It is closed when tb ends.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("zktest: proxy listen: %v", err)
	}
	p := &Proxy{ln: ln, target: target, conns: make(map[*proxyConn]struct{})}
	go p.accept()
	tb.Cleanup(p.close)
	return p
}

// Addr is the proxy's "127.0.0.1:port".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every relayed connection and refuses new ones (accepts and
// closes them at once) until Heal.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.close()
		delete(p.conns, c)
	}
}

// DropReplies keeps relaying requests to the server but discards what the
// server sends back, on open and new connections, until Heal. A write sent
// meanwhile is applied by the server while its client never hears of it.
func (p *Proxy) DropReplies() {
	p.mu.Lock()
	p.drop = true
	p.mu.Unlock()
}

// Heal ends Cut and DropReplies. Connections that lost replies are closed (a
// byte stream with holes is no use), so their clients reconnect.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
	p.drop = false
	for c := range p.conns {
		if c.tainted {
			c.close()
			delete(p.conns, c)
		}
	}
}

func (p *Proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.close()
		delete(p.conns, c)
	}
}

func (p *Proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		cut := p.cut
		p.mu.Unlock()
		if cut {
			client.Close()
			continue
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		c := &proxyConn{client: client, server: server}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.close()
			continue
		}
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		go p.pump(c, c.server, c.client, false)
		go p.pump(c, c.client, c.server, true)
	}
}

// pump copies src to dst; replies (server to client) are discarded while
// drop is set.
func (p *Proxy) pump(c *proxyConn, dst, src net.Conn, replies bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if replies {
				p.mu.Lock()
				if p.drop {
					c.tainted = true
					p.mu.Unlock()
					continue
				}
				p.mu.Unlock()
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			p.mu.Lock()
			delete(p.conns, c)
			p.mu.Unlock()
			c.close()
			return
		}
	}
}

func (c *proxyConn) close() {
	c.client.Close()
	c.server.Close()
}
