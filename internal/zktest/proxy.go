package zktest

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy is a TCP relay between ZooKeeper clients and a server, for making
// network faults that a real deployment has: a partition (Cut) and a write
// that reaches the server while its reply is lost (DropWriteReplies). Clients
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
	drop  bool // replies to writes are discarded
}

type proxyConn struct {
	client, server net.Conn

	// Guarded by Proxy.mu.
	dropXids map[int32]bool // writes whose replies are to be dropped
	tainted  bool           // a reply was dropped: close at Heal
}

// ZooKeeper opcodes that write (create, delete, setData, setACL, check,
// multi, create2, reconfig, createContainer, deleteContainer, createTTL).
var writeOps = map[int32]bool{1: true, 2: true, 5: true, 7: true, 13: true, 14: true, 15: true, 16: true, 19: true, 20: true, 21: true}

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

// DropWriteReplies relays requests as usual, and every reply but those to
// writes: a write sent from now on is applied by the server while its client
// never hears of it (reads, pings and watch events still flow, so the
// connection looks healthy and the write simply hangs). Heal ends this and
// closes the connections that lost a reply, so their clients see the
// connection drop and must find out whether their write was applied.
func (p *Proxy) DropWriteReplies() {
	p.mu.Lock()
	p.drop = true
	p.mu.Unlock()
}

// Heal ends Cut and DropWriteReplies, and closes the connections that lost
// replies, or will: a write relayed while replies were dropped whose reply
// has not come back yet is lost too, so its connection goes now (kept, it
// would hang that write for ever, pings still flowing).
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
	p.drop = false
	for c := range p.conns {
		if c.tainted || len(c.dropXids) > 0 {
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
		c := &proxyConn{client: client, server: server, dropXids: make(map[int32]bool)}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.close()
			continue
		}
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		go p.pump(c, false)
		go p.pump(c, true)
	}
}

// pump relays whole frames (4-byte big-endian length, then the body) in one
// direction. The first frame each way is the session handshake; after it a
// request starts with xid and opcode, a reply with xid.
func (p *Proxy) pump(c *proxyConn, replies bool) {
	src, dst := c.client, c.server
	if replies {
		src, dst = c.server, c.client
	}
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		c.close()
	}()
	var hdr [4]byte
	for first := true; ; first = false {
		if _, err := io.ReadFull(src, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n > 64<<20 {
			return
		}
		frame := make([]byte, 4+n)
		copy(frame, hdr[:])
		if _, err := io.ReadFull(src, frame[4:]); err != nil {
			return
		}
		if !first && n >= 4 {
			xid := int32(binary.BigEndian.Uint32(frame[4:]))
			p.mu.Lock()
			switch {
			case !replies && n >= 8 && p.drop && writeOps[int32(binary.BigEndian.Uint32(frame[8:]))]:
				c.dropXids[xid] = true
			case replies && c.dropXids[xid]:
				delete(c.dropXids, xid)
				c.tainted = true
				p.mu.Unlock()
				continue
			}
			p.mu.Unlock()
		}
		if _, err := dst.Write(frame); err != nil {
			return
		}
	}
}

func (c *proxyConn) close() {
	c.client.Close()
	c.server.Close()
}
