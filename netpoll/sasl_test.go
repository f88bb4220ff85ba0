package netpoll

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"samsa/security"
)

// sessionSASL is fakeSASL whose sessions expire: after authentication,
// "reauth <name>" begins a re-authentication and "expire" ends the
// session (the next frame is refused).
type sessionSASL struct {
	fakeSASL
	checked *atomic.Int64
	expired bool
}

func (a *sessionSASL) Check(c *Conn, req []byte) (bool, error) {
	a.checked.Add(1)
	if a.expired {
		return false, errors.New("session expired")
	}
	if string(req) == "expire" {
		a.expired = true
	}
	return strings.HasPrefix(string(req), "reauth "), nil
}

func (a *sessionSASL) Authenticate(c *Conn, req []byte) (*Response, bool, error) {
	if name, ok := strings.CutPrefix(string(req), "reauth "); ok {
		req = []byte("auth " + name)
	}
	return a.fakeSASL.Authenticate(c, req)
}

// TestSessionAuthenticator: after authentication every frame is checked
// first; a re-authentication goes to the Authenticator, not the handler,
// and may change the principal; an expired session closes the connection
// without an answer and is counted.
func TestSessionAuthenticator(t *testing.T) {
	var authFrames, checked, served atomic.Int64
	h := HandlerFunc(func(c *Conn, req []byte) *Response {
		served.Add(1)
		return whoami(c, req)
	})
	l := Listener{Name: "SASL_PLAINTEXT", Protocol: security.SASLPlaintext,
		NewAuthenticator: func(*Conn) Authenticator { return &sessionSASL{fakeSASL{&authFrames}, &checked, false} }}
	ts := startTLS(t, Config{}, h, l)
	c := dial(t, ts.addr)
	if got := string(roundTrip(t, c, []byte("auth alice"))); got != "welcome alice" {
		t.Fatalf("authenticating: %q", got)
	}
	if got := string(roundTrip(t, c, []byte("who"))); !strings.HasSuffix(got, "User:alice") {
		t.Fatalf("after authentication: %q", got)
	}
	if got := string(roundTrip(t, c, []byte("reauth bob"))); got != "welcome bob" {
		t.Fatalf("re-authenticating: %q", got)
	}
	if got := string(roundTrip(t, c, []byte("who"))); !strings.HasSuffix(got, "User:bob") {
		t.Fatalf("after re-authentication: %q", got)
	}
	if authFrames.Load() != 2 || served.Load() != 2 || checked.Load() != 3 {
		t.Fatalf("authenticator %d frames, handler %d, checks %d; want 2, 2, 3", authFrames.Load(), served.Load(), checked.Load())
	}
	if got := string(roundTrip(t, c, []byte("expire"))); !strings.HasSuffix(got, "User:bob") {
		t.Fatalf("last frame of the session: %q", got)
	}
	if err := writeFrame(c, []byte("who")); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, c)
	if st := ts.Stats(); served.Load() != 3 || st.ExpiredSessions != 1 || st.Authentications != 2 || st.AuthFailures != 0 {
		t.Fatalf("served %d; stats %+v", served.Load(), st)
	}
}

// TestFailedAuthDelay: a failed authentication is answered no sooner than
// the delay, then closed; meanwhile other connections, authenticating
// or not, are served; Shutdown does not wait for the delay.
func TestFailedAuthDelay(t *testing.T) {
	const short = 150 * time.Millisecond
	var frames atomic.Int64
	l := Listener{Name: "SASL_PLAINTEXT", Protocol: security.SASLPlaintext,
		NewAuthenticator: func(*Conn) Authenticator { return fakeSASL{&frames} }}

	t.Run("answered after the delay", func(t *testing.T) {
		ts := startTLS(t, Config{FailedAuthDelay: short}, whoami, l)
		c := dial(t, ts.addr)
		start := time.Now()
		if got := string(roundTrip(t, c, []byte("auth bad"))); got != "authentication failed" {
			t.Fatalf("answered %q", got)
		}
		if d := time.Since(start); d < short {
			t.Fatalf("answered after %v; want at least %v", d, short)
		}
		expectClosed(t, c)
	})

	t.Run("others unaffected", func(t *testing.T) {
		// A delay no test outlives: the failed connection is still waiting
		// when the others are done, and Shutdown ends its wait.
		ts := startTLS(t, Config{FailedAuthDelay: time.Hour}, whoami, l)
		bad := dial(t, ts.addr)
		if err := writeFrame(bad, []byte("auth bad")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the failure counted", func() bool { return ts.Stats().AuthFailures == 1 })
		for i := range 3 {
			good := dial(t, ts.addr)
			if got := string(roundTrip(t, good, []byte("auth alice"))); got != "welcome alice" {
				t.Fatalf("client %d: %q", i, got)
			}
			if got := string(roundTrip(t, good, []byte("who"))); !strings.HasSuffix(got, "User:alice") {
				t.Fatalf("client %d: %q", i, got)
			}
		}
		bad.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		var b [1]byte
		if n, err := bad.Read(b[:]); n != 0 || err == nil || !strings.Contains(err.Error(), "timeout") {
			t.Fatalf("the failed connection was answered before its delay: %d, %v", n, err)
		}
		done := make(chan error, 1)
		go func() { done <- ts.Shutdown(t.Context()) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(ioTimeout):
			t.Fatal("Shutdown waited for the failed authentication's delay")
		}
	})
}

// TestMaxAuthRequestBytes: before authentication a frame over the bound
// fails the authentication unread; after it, the same frame is served.
func TestMaxAuthRequestBytes(t *testing.T) {
	var frames atomic.Int64
	l := Listener{Name: "SASL_PLAINTEXT", Protocol: security.SASLPlaintext,
		NewAuthenticator: func(*Conn) Authenticator { return fakeSASL{&frames} }}
	ts := startTLS(t, Config{MaxAuthRequestBytes: 64}, whoami, l)
	big := bytes.Repeat([]byte("x"), 65)

	c := dial(t, ts.addr)
	if err := writeFrame(c, big); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, c)
	if frames.Load() != 0 || ts.Stats().AuthFailures != 1 {
		t.Fatalf("authenticator saw %d frames, failures %d", frames.Load(), ts.Stats().AuthFailures)
	}

	c = dial(t, ts.addr)
	roundTrip(t, c, []byte("auth alice"))
	if got := string(roundTrip(t, c, big)); !strings.HasSuffix(got, "User:alice") {
		t.Fatalf("after authentication: %q", got)
	}
}

// junkSASL refuses every frame as not a SASL exchange.
type junkSASL struct{}

func (junkSASL) Authenticate(*Conn, []byte) (*Response, bool, error) {
	return nil, false, fmt.Errorf("%w: not a request", ErrNotSASL)
}

// TestNotSASL: a frame the Authenticator says is no SASL exchange closes
// the connection at once: not delayed, not counted as a failed
// authentication.
func TestNotSASL(t *testing.T) {
	l := Listener{Name: "SASL_PLAINTEXT", Protocol: security.SASLPlaintext,
		NewAuthenticator: func(*Conn) Authenticator { return junkSASL{} }}
	ts := startTLS(t, Config{FailedAuthDelay: time.Hour}, whoami, l)
	c := dial(t, ts.addr)
	if err := writeFrame(c, []byte("GET / HTTP/1.1")); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, c)
	if st := ts.Stats(); st.AuthFailures != 0 {
		t.Fatalf("counted as a failed authentication: %+v", st)
	}
}
