package netpoll

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// ioTimeout bounds every client read and write in tests, so a bug fails
// the test instead of hanging it.
const ioTimeout = 10 * time.Second

// testServer is a Server listening on 127.0.0.1.
type testServer struct {
	*Server
	addr   string
	logs   *logRecorder
	served chan error // Serve's result
}

func startServer(tb testing.TB, cfg Config, h Handler) *testServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return serveOn(tb, ln, cfg, h)
}

func serveOn(tb testing.TB, ln net.Listener, cfg Config, h Handler) *testServer {
	tb.Helper()
	logs := &logRecorder{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(logs)
	}
	ts := &testServer{Server: NewServer(cfg, h), addr: ln.Addr().String(), logs: logs, served: make(chan error, 1)}
	go func() { ts.served <- ts.Serve(ln) }()
	tb.Cleanup(func() {
		ts.Close()
		if err := <-ts.served; !errors.Is(err, ErrServerClosed) {
			tb.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		waitFor(tb, "all connections closed", func() bool { return ts.NumConns() == 0 })
	})
	return ts
}

func dial(tb testing.TB, addr string) net.Conn {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func frame(b []byte) []byte {
	f := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(b)), uint32(len(b)))
	return append(f, b...)
}

func writeFrame(c net.Conn, b []byte) error {
	c.SetWriteDeadline(time.Now().Add(ioTimeout))
	_, err := c.Write(frame(b))
	return err
}

func readFrame(c net.Conn) ([]byte, error) {
	c.SetReadDeadline(time.Now().Add(ioTimeout))
	var p [4]byte
	if _, err := io.ReadFull(c, p[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(p[:]))
	_, err := io.ReadFull(c, b)
	return b, err
}

// roundTrip sends req and returns the response, failing the test on error.
func roundTrip(tb testing.TB, c net.Conn, req []byte) []byte {
	tb.Helper()
	if err := writeFrame(c, req); err != nil {
		tb.Fatalf("write: %v", err)
	}
	resp, err := readFrame(c)
	if err != nil {
		tb.Fatalf("read: %v", err)
	}
	return resp
}

// expectClosed fails unless the server closes c (EOF or reset) before
// sending anything more.
func expectClosed(tb testing.TB, c net.Conn) {
	tb.Helper()
	c.SetReadDeadline(time.Now().Add(ioTimeout))
	var b [1]byte
	n, err := c.Read(b[:])
	if n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		tb.Fatalf("read = %d, %v; want the connection closed", n, err)
	}
}

// waitFor polls cond until it holds, failing the test after ioTimeout.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(ioTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// echo answers every request with its own bytes (a response may alias req).
var echo = HandlerFunc(func(c *Conn, req []byte) *Response { return NewResponse(req) })

// logRecorder is a slog.Handler that keeps records for assertions.
type logRecorder struct {
	mu   sync.Mutex
	recs []string // "LEVEL msg key=value..."
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var sb strings.Builder
	sb.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool {
		sb.WriteString(" " + a.String())
		return true
	})
	l.mu.Lock()
	l.recs = append(l.recs, sb.String())
	l.mu.Unlock()
	return nil
}

// find returns the first record starting with prefix.
func (l *logRecorder) find(prefix string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.recs {
		if strings.HasPrefix(r, prefix) {
			return r, true
		}
	}
	return "", false
}
