package kafkazk

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"samsa/internal/zktest"
)

// Every test here runs against a real ZooKeeper: the shared server with a
// chroot of its own, or a private server when it stops ZooKeeper.
func TestMain(m *testing.M) { zktest.Main(m) }

// env is one test's view of ZooKeeper: the server, the test's chroot and a
// raw client that reads znodes as they are, bypassing the package.
type env struct {
	t      *testing.T
	srv    *zktest.Server
	chroot string
	raw    *zk.Conn
}

func newEnv(t *testing.T, srv *zktest.Server) *env {
	t.Helper()
	e := &env{t: t, srv: srv, chroot: zktest.Chroot(t)}
	e.raw = rawConn(t, srv.Addr())
	return e
}

// rawConn is a plain go-zookeeper connection with a session.
func rawConn(t *testing.T, addr string) *zk.Conn {
	t.Helper()
	raw, _, err := zk.Connect([]string{addr}, 4*time.Second, zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(raw.Close)
	waitFor(t, "a raw ZooKeeper session", 20*time.Second, func() bool { return raw.State() == zk.StateHasSession })
	return raw
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}

func sharedEnv(t *testing.T) *env { return newEnv(t, zktest.Shared(t)) }

// connect makes a client of the test's chroot through addr (the server's,
// or a proxy's).
func (e *env) connect(addr string, session time.Duration) *Client {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := Connect(ctx, Config{Connect: addr + e.chroot, SessionTimeout: session, Logger: testLogger(e.t)})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

func (e *env) client() *Client { return e.connect(e.srv.Addr(), 4*time.Second) }

// get reads a znode of the test's chroot directly.
func (e *env) get(path string) ([]byte, *zk.Stat) {
	e.t.Helper()
	data, st, err := e.raw.Get(e.chroot + path)
	if err != nil {
		e.t.Fatalf("raw get %s: %v", path, err)
	}
	return data, st
}

func (e *env) exists(path string) bool {
	e.t.Helper()
	ok, _, err := e.raw.Exists(e.chroot + path)
	if err != nil {
		e.t.Fatalf("raw exists %s: %v", path, err)
	}
	return ok
}

// set writes raw bytes to a znode of the chroot, creating it.
func (e *env) set(path string, data []byte) {
	e.t.Helper()
	full := e.chroot + path
	parts := strings.Split(strings.TrimPrefix(full, "/"), "/")
	for i := 1; i < len(parts); i++ {
		e.raw.Create("/"+strings.Join(parts[:i], "/"), nil, 0, zk.WorldACL(zk.PermAll))
	}
	if _, err := e.raw.Create(full, data, 0, zk.WorldACL(zk.PermAll)); err == zk.ErrNodeExists {
		_, err = e.raw.Set(full, data, -1)
		if err != nil {
			e.t.Fatal(err)
		}
	} else if err != nil {
		e.t.Fatal(err)
	}
}

// shape compares a znode's JSON with want, as JSON values. Fields named in
// timestamps must be strings of digits and are then ignored.
func (e *env) shape(path, want string, timestamps ...string) {
	e.t.Helper()
	data, _ := e.get(path)
	var got, w map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		e.t.Fatalf("%s: %q: %v", path, data, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		e.t.Fatal(err)
	}
	for _, f := range timestamps {
		s, ok := got[f].(string)
		if !ok || s == "" || strings.Trim(s, "0123456789") != "" {
			e.t.Errorf("%s: %s = %#v, want a string of digits", path, f, got[f])
		}
		delete(got, f)
	}
	if !reflect.DeepEqual(got, w) {
		e.t.Errorf("%s:\n got %s\nwant %s", path, data, want)
	}
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond) // poll interval
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// testLogger logs to t until the test's cleanups are done.
func testLogger(t *testing.T) *slog.Logger {
	w := &tWriter{t: t}
	t.Cleanup(w.stop) // registered before the client's Close: runs after it
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *tWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *tWriter) stop() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func hex(sid int64) string { return fmt.Sprintf("0x%x", sid) }
