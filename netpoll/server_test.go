package netpoll

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestEcho(t *testing.T) {
	ts := startServer(t, Config{}, echo)
	c := dial(t, ts.addr)
	rng := rand.NewChaCha8([32]byte{7})
	var bytesIn uint64
	for _, n := range []int{0, 1, 100, 511, 512, 513, 64 << 10, growFrom, growFrom + 1, 3*growFrom + 7} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			req := make([]byte, n)
			rng.Read(req)
			if resp := roundTrip(t, c, req); !bytes.Equal(resp, req) {
				t.Fatalf("response of %d bytes differs from the request", len(resp))
			}
			bytesIn += 4 + uint64(n)
		})
	}
	// BytesOut counts a response once its write returns, which may be
	// after the client has read it.
	waitFor(t, "bytes out counted", func() bool { return ts.Stats().BytesOut == bytesIn })
	st := ts.Stats()
	if st.BytesIn != bytesIn || st.Accepted != 1 || st.Open != 1 {
		t.Fatalf("stats = %+v; want %d bytes each way on one open connection", st, bytesIn)
	}
}

// TestPipelined sends many requests on each of several connections before
// reading any response; responses come back in request order, and requests
// with no response (acks=0) are skipped without disturbing the order.
func TestPipelined(t *testing.T) {
	const conns, reqs = 8, 300
	var active sync.Map // conn id -> in a handler; to catch concurrent calls
	ts := startServer(t, Config{}, HandlerFunc(func(c *Conn, req []byte) *Response {
		if _, busy := active.LoadOrStore(c.ID(), true); busy {
			panic("concurrent Serve calls for one connection")
		}
		defer active.Delete(c.ID())
		if binary.BigEndian.Uint32(req)%3 == 2 {
			return nil
		}
		return NewResponse(req)
	}))
	var wg sync.WaitGroup
	for range conns {
		c := dial(t, ts.addr)
		wg.Go(func() {
			var out []byte
			for i := range reqs {
				out = append(out, frame(binary.BigEndian.AppendUint32(nil, uint32(i)))...)
			}
			c.SetWriteDeadline(time.Now().Add(ioTimeout))
			if _, err := c.Write(out); err != nil {
				t.Error(err)
				return
			}
			for i := range reqs {
				if i%3 == 2 {
					continue
				}
				resp, err := readFrame(c)
				if err != nil {
					t.Error(err)
					return
				}
				if got := binary.BigEndian.Uint32(resp); got != uint32(i) {
					t.Errorf("response %d answers request %d", i, got)
					return
				}
			}
		})
	}
	wg.Wait()
	// The last request of each connection has no response: wait for it.
	waitFor(t, "every request served", func() bool { return ts.Stats().Requests == conns*reqs })
	if st := ts.Stats(); st.HandlerPanics != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

// TestInvalidFrames sends bad size prefixes: each closes its connection
// only, is logged, never reaches the handler; other connections go on.
func TestInvalidFrames(t *testing.T) {
	const limit = 1000
	var calls atomic.Int64
	ts := startServer(t, Config{MaxRequestBytes: limit}, HandlerFunc(func(c *Conn, req []byte) *Response {
		calls.Add(1)
		return NewResponse(req)
	}))
	other := dial(t, ts.addr)
	roundTrip(t, other, []byte("before"))
	cases := []struct {
		name  string
		bytes []byte
	}{
		{"over the limit", binary.BigEndian.AppendUint32(nil, limit+1)},
		{"negative", binary.BigEndian.AppendUint32(nil, 0xffffffff)},
		{"min int32", binary.BigEndian.AppendUint32(nil, 0x80000000)},
		{"http request", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
		{"tls client hello", []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, ts.addr)
			c.Write(tc.bytes)
			expectClosed(t, c)
			if got := ts.Stats().InvalidFrames; got != uint64(i+1) {
				t.Fatalf("InvalidFrames = %d, want %d", got, i+1)
			}
			if resp := roundTrip(t, other, []byte(tc.name)); string(resp) != tc.name {
				t.Fatalf("other connection got %q", resp)
			}
		})
	}
	if _, ok := ts.logs.find("WARN netpoll: request size out of range"); !ok {
		t.Fatal("no warning logged")
	}
	// A frame of exactly the limit is served.
	req := bytes.Repeat([]byte{'x'}, limit)
	if resp := roundTrip(t, other, req); !bytes.Equal(resp, req) {
		t.Fatal("frame at the limit not echoed")
	}
	if got := calls.Load(); got != int64(len(cases))+2 {
		t.Fatalf("handler called %d times, want %d", got, len(cases)+2)
	}
}

// TestClaimedSizeNotAllocated claims 100 MiB frames and sends only part of
// them: the server's memory follows the bytes sent (growFrom at first, then
// at most twice the bytes received), not the size claimed.
func TestClaimedSizeNotAllocated(t *testing.T) {
	chunk := make([]byte, 64<<10)
	for _, sent := range []int{10, 3 << 20} {
		t.Run(fmt.Sprint(sent), func(t *testing.T) {
			ts := startServer(t, Config{}, echo)
			c := dial(t, ts.addr)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			c.Write(binary.BigEndian.AppendUint32(nil, DefaultMaxRequestBytes))
			for left := sent; left > 0; left -= len(chunk) {
				c.Write(chunk[:min(left, len(chunk))])
			}
			c.Close()
			waitFor(t, "connection closed", func() bool { return ts.Stats().Closed == 1 })
			runtime.ReadMemStats(&after)
			// Buffers of 1, 2 and 4 MiB hold 3 MiB; allow for the runtime.
			limit := uint64(max(2*sent, growFrom)) + 5<<20
			if grew := after.TotalAlloc - before.TotalAlloc; grew > limit {
				t.Fatalf("allocated %d bytes for a frame claiming %d and sending %d", grew, DefaultMaxRequestBytes, sent)
			}
		})
	}
}

// TestTruncated closes the client side in the middle of a frame: the
// server closes that connection without calling the handler.
func TestTruncated(t *testing.T) {
	var calls atomic.Int64
	ts := startServer(t, Config{}, HandlerFunc(func(c *Conn, req []byte) *Response {
		calls.Add(1)
		return NewResponse(req)
	}))
	cases := []struct {
		name  string
		bytes []byte
	}{
		{"in the size", []byte{0, 0}},
		{"in a small body", append(binary.BigEndian.AppendUint32(nil, 100), make([]byte, 50)...)},
		{"in a growing body", append(binary.BigEndian.AppendUint32(nil, 3*growFrom), make([]byte, growFrom+10)...)},
		{"after a whole frame", append(frame([]byte("ok")), 0, 0, 0, 9, 1)},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, ts.addr)
			c.Write(tc.bytes)
			c.(*net.TCPConn).CloseWrite()
			waitFor(t, "connection closed", func() bool { return ts.Stats().Closed == uint64(i+1) })
		})
	}
	if got := calls.Load(); got != 1 {
		t.Fatalf("handler called %d times, want 1", got)
	}
}

func TestTimeouts(t *testing.T) {
	cases := []struct {
		name  string
		cfg   Config
		send  []byte
		idle  uint64 // expected IdleTimeouts
		least time.Duration
	}{
		{"idle", Config{IdleTimeout: 200 * time.Millisecond}, nil, 1, 200 * time.Millisecond},
		{"stalled size", Config{ReadTimeout: 200 * time.Millisecond}, []byte{0, 0}, 0, 200 * time.Millisecond},
		{"stalled frame", Config{ReadTimeout: 200 * time.Millisecond}, []byte{0, 0, 0, 10, 1, 2}, 0, 200 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, tc.cfg, echo)
			start := time.Now()
			c := dial(t, ts.addr)
			c.Write(tc.send)
			expectClosed(t, c)
			if took := time.Since(start); took < tc.least {
				t.Fatalf("closed after %v, before the %v timeout", took, tc.least)
			}
			waitFor(t, "close counted", func() bool { return ts.Stats().Closed == 1 })
			if got := ts.Stats().IdleTimeouts; got != tc.idle {
				t.Fatalf("IdleTimeouts = %d, want %d", got, tc.idle)
			}
		})
	}
}

func TestMaxConnections(t *testing.T) {
	ts := startServer(t, Config{MaxConnections: 3}, echo)
	var cs []net.Conn
	for i := range 3 {
		c := dial(t, ts.addr)
		roundTrip(t, c, []byte{byte(i)})
		cs = append(cs, c)
	}
	extra := dial(t, ts.addr)
	expectClosed(t, extra)
	if st := ts.Stats(); st.Rejected != 1 || st.Open != 3 {
		t.Fatalf("stats = %+v; want 1 rejected, 3 open", st)
	}
	cs[0].Close()
	waitFor(t, "a slot to free", func() bool { return ts.NumConns() == 2 })
	roundTrip(t, dial(t, ts.addr), []byte("again"))
	for _, c := range cs[1:] {
		roundTrip(t, c, []byte("still"))
	}
}

// TestConnectionsPerIP: each peer address gets as many connections as
// ConnectionsPerIP allows it (loopback has 127.0.0.0/8 to dial from); a
// closed one frees its address's slot, and other addresses are unaffected.
func TestConnectionsPerIP(t *testing.T) {
	limits := map[string]int{"127.0.0.2": 1, "127.0.0.3": 0}
	ts := startServer(t, Config{ConnectionsPerIP: func(ip netip.Addr) int {
		if n, ok := limits[ip.String()]; ok {
			return n
		}
		return 2
	}}, echo)
	from := func(src string) net.Conn {
		t.Helper()
		d := net.Dialer{Timeout: ioTimeout, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		c, err := d.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	a1, a2 := from("127.0.0.1"), from("127.0.0.1")
	roundTrip(t, a1, []byte("a1"))
	roundTrip(t, a2, []byte("a2"))
	expectClosed(t, from("127.0.0.1"))
	b1 := from("127.0.0.2")
	roundTrip(t, b1, []byte("b1"))
	expectClosed(t, from("127.0.0.2"))
	expectClosed(t, from("127.0.0.3"))
	if st := ts.Stats(); st.Rejected != 3 || st.Open != 3 {
		t.Fatalf("stats = %+v; want 3 rejected, 3 open", st)
	}
	a1.Close()
	waitFor(t, "127.0.0.1's slot to free", func() bool { return ts.NumConns() == 2 })
	roundTrip(t, from("127.0.0.1"), []byte("again"))
	roundTrip(t, a2, []byte("still"))
	roundTrip(t, b1, []byte("still"))
}

func TestHandlerPanic(t *testing.T) {
	ts := startServer(t, Config{}, HandlerFunc(func(c *Conn, req []byte) *Response {
		if string(req) == "panic" {
			panic("handler bug")
		}
		return NewResponse(req)
	}))
	a, b := dial(t, ts.addr), dial(t, ts.addr)
	roundTrip(t, a, []byte("a"))
	writeFrame(a, []byte("panic"))
	expectClosed(t, a)
	if resp := roundTrip(t, b, []byte("b")); string(resp) != "b" {
		t.Fatalf("other connection got %q", resp)
	}
	if st := ts.Stats(); st.HandlerPanics != 1 {
		t.Fatalf("HandlerPanics = %d", st.HandlerPanics)
	}
	rec, ok := ts.logs.find("ERROR netpoll: handler panicked")
	if !ok || !strings.Contains(rec, "handler bug") || !strings.Contains(rec, "server_test.go") {
		t.Fatalf("panic log = %q; want the value and the stack", rec)
	}
	roundTrip(t, dial(t, ts.addr), []byte("new"))
}

// TestConnInfo checks what a handler sees of its connection: a stable,
// distinct id, the client's address, the listener's address, and Value
// kept across requests.
func TestConnInfo(t *testing.T) {
	ts := startServer(t, Config{}, HandlerFunc(func(c *Conn, req []byte) *Response {
		n, _ := c.Value.(int)
		c.Value = n + 1
		return NewResponse(fmt.Appendf(nil, "%d %s %s %d", c.ID(), c.RemoteAddr(), c.LocalAddr(), n+1))
	}))
	a, b := dial(t, ts.addr), dial(t, ts.addr)
	ids := map[net.Conn]uint64{}
	for i := 1; i <= 3; i++ {
		for _, c := range []net.Conn{a, b} {
			var id uint64
			var remote, local string
			var n int
			fmt.Sscanf(string(roundTrip(t, c, nil)), "%d %s %s %d", &id, &remote, &local, &n)
			if remote != c.LocalAddr().String() || local != ts.addr || n != i {
				t.Fatalf("handler saw %s -> %s, count %d; want %s -> %s, %d", remote, local, n, c.LocalAddr(), ts.addr, i)
			}
			if prev, ok := ids[c]; id == 0 || ok && prev != id {
				t.Fatalf("connection id %d, was %d", id, prev)
			}
			ids[c] = id
		}
	}
	if ids[a] == ids[b] {
		t.Fatalf("two connections share id %d", ids[a])
	}
}

// TestConnClose closes a connection from another goroutine while its
// handler waits on the connection's context: the handler wakes.
func TestConnClose(t *testing.T) {
	waiting := make(chan *Conn)
	woke := make(chan error, 1)
	ts := startServer(t, Config{}, HandlerFunc(func(c *Conn, req []byte) *Response {
		waiting <- c
		<-c.Context().Done()
		woke <- c.Context().Err()
		return NewResponse(req)
	}))
	c := dial(t, ts.addr)
	writeFrame(c, []byte("long poll"))
	sc := <-waiting
	if err := sc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-woke; !errors.Is(err, context.Canceled) {
		t.Fatalf("context error %v", err)
	}
	expectClosed(t, c)
	waitFor(t, "connection closed", func() bool { return ts.NumConns() == 0 })
	if st := ts.Stats(); st.WriteFailures != 1 {
		t.Fatalf("WriteFailures = %d; the response to a closed connection is dropped", st.WriteFailures)
	}
}

func TestCloseAfter(t *testing.T) {
	ts := startServer(t, Config{}, HandlerFunc(func(c *Conn, req []byte) *Response {
		r := NewResponse([]byte("denied"))
		r.CloseAfter()
		return r
	}))
	c := dial(t, ts.addr)
	// The second request is never answered: the connection closes after
	// the first response.
	c.Write(append(frame([]byte("1")), frame([]byte("2"))...))
	if resp, err := readFrame(c); err != nil || string(resp) != "denied" {
		t.Fatalf("got %q, %v", resp, err)
	}
	expectClosed(t, c)
	if st := ts.Stats(); st.Requests != 1 {
		t.Fatalf("Requests = %d, want 1", st.Requests)
	}
}

// TestShutdownWaits runs Shutdown while a handler is blocked: the server
// stops accepting and closes idle connections at once, then waits for the
// handler and writes its response before Shutdown returns.
func TestShutdownWaits(t *testing.T) {
	started, unblock := make(chan struct{}), make(chan struct{})
	ts := startServer(t, Config{}, HandlerFunc(func(c *Conn, req []byte) *Response {
		if string(req) == "slow" {
			close(started)
			<-unblock // ignores c.Context()
		}
		return NewResponse(req)
	}))
	busy, idle := dial(t, ts.addr), dial(t, ts.addr)
	roundTrip(t, idle, []byte("hello"))
	writeFrame(busy, []byte("slow"))
	<-started

	shut := make(chan error, 1)
	go func() { shut <- ts.Shutdown(context.Background()) }()
	expectClosed(t, idle)
	if err := <-ts.served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve = %v", err)
	}
	ts.served <- ErrServerClosed // for the cleanup
	if c, err := net.DialTimeout("tcp", ts.addr, ioTimeout); err == nil {
		expectClosed(t, c)
		c.Close()
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v while a handler was running", err)
	default:
	}
	close(unblock)
	if resp, err := readFrame(busy); err != nil || string(resp) != "slow" {
		t.Fatalf("in-flight response = %q, %v", resp, err)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	expectClosed(t, busy)
	if n := ts.NumConns(); n != 0 {
		t.Fatalf("%d connections open after Shutdown", n)
	}
}

// TestShutdownCancelsContext: a long-polling handler sees its context end
// when Shutdown begins and still gets its response out.
func TestShutdownCancelsContext(t *testing.T) {
	started := make(chan struct{})
	ts := startServer(t, Config{}, HandlerFunc(func(c *Conn, req []byte) *Response {
		close(started)
		<-c.Context().Done()
		return NewResponse([]byte("partial fetch"))
	}))
	c := dial(t, ts.addr)
	writeFrame(c, []byte("fetch"))
	<-started
	if err := ts.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if resp, err := readFrame(c); err != nil || string(resp) != "partial fetch" {
		t.Fatalf("got %q, %v", resp, err)
	}
}

// TestShutdownDeadline: a handler that never returns cannot hold Shutdown
// past its context; the connection is closed.
func TestShutdownDeadline(t *testing.T) {
	started, unblock := make(chan struct{}), make(chan struct{})
	defer close(unblock)
	ts := startServer(t, Config{}, HandlerFunc(func(c *Conn, req []byte) *Response {
		close(started)
		<-unblock
		return nil
	}))
	c := dial(t, ts.addr)
	writeFrame(c, []byte("stuck"))
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := ts.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
	}
	expectClosed(t, c)
}

func TestServeAfterClose(t *testing.T) {
	s := NewServer(Config{}, echo)
	s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(ln); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve = %v", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("listener still open")
	}
}
