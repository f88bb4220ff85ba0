package kclient

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/security/sasl"
)

// saslPeer is a broker's SASL listener reduced to what a Conn sees: the
// exchange of one mechanism (the security/sasl server), its session
// lifetime, then answerMetadata's requests.
type saslPeer struct {
	ln       net.Listener
	mech     string
	lifetime time.Duration
	users    map[string]string
	conns    atomic.Int64 // connections that authenticated
}

func startSASLPeer(t *testing.T, mech string, lifetime time.Duration) *saslPeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &saslPeer{ln: ln, mech: mech, lifetime: lifetime, users: map[string]string{"broker": "broker-pw"}}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(nc)
		}
	}()
	return p
}

func (p *saslPeer) server() sasl.Server {
	if p.mech == sasl.Plain {
		return sasl.NewPlain(func(u string) (string, bool) { pw, ok := p.users[u]; return pw, ok })
	}
	creds := map[string]sasl.ScramCredential{}
	for u, pw := range p.users {
		creds[u], _ = sasl.Scram(p.mech).NewCredential(pw, 4096)
	}
	return sasl.NewScram(sasl.Scram(p.mech), func(_ *sasl.ScramMechanism, u string) (sasl.ScramCredential, bool) {
		c, ok := creds[u]
		return c, ok
	})
}

// serve runs the exchange (SaslHandshake v1, SaslAuthenticate v1), then
// hands the connection to answerMetadata; a failure is answered, then
// closed.
func (p *saslPeer) serve(nc net.Conn) {
	defer nc.Close()
	srv := p.server()
	for !srv.Done() {
		var size [4]byte
		if _, err := io.ReadFull(nc, size[:]); err != nil {
			return
		}
		frame := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(nc, frame); err != nil {
			return
		}
		key := int16(binary.BigEndian.Uint16(frame))
		body := frame[10+int(binary.BigEndian.Uint16(frame[8:])):]
		out := append([]byte(nil), frame[4:8]...)
		failed := false
		switch key {
		case 17:
			req := kmsg.NewPtrSASLHandshakeRequest()
			req.SetVersion(1)
			req.ReadFrom(body)
			resp := kmsg.NewPtrSASLHandshakeResponse()
			resp.SetVersion(1)
			resp.SupportedMechanisms = []string{p.mech}
			if req.Mechanism != p.mech {
				resp.ErrorCode, failed = kerr.UnsupportedSaslMechanism.Code, true
			}
			out = resp.AppendTo(out)
		case 36:
			req := kmsg.NewPtrSASLAuthenticateRequest()
			req.SetVersion(1)
			req.ReadFrom(body)
			resp := kmsg.NewPtrSASLAuthenticateResponse()
			resp.SetVersion(1)
			tok, err := srv.Step(req.SASLAuthBytes)
			if err != nil {
				resp.ErrorCode, failed = kerr.SaslAuthenticationFailed.Code, true
				msg := sasl.ClientMessage(err, p.mech, false)
				resp.ErrorMessage = &msg
			}
			resp.SASLAuthBytes = tok
			if srv.Done() {
				resp.SessionLifetimeMillis = p.lifetime.Milliseconds()
			}
			out = resp.AppendTo(out)
		default:
			return
		}
		if _, err := nc.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(out))), out...)); err != nil || failed {
			return
		}
	}
	p.conns.Add(1)
	answerMetadata(nc)
}

func saslClient(mech string, cr sasl.Credentials) func() (sasl.Client, error) {
	return func() (sasl.Client, error) { return sasl.NewClient(mech, cr) }
}

// TestSASLDial: a Conn over SASLDial authenticates with each mechanism
// before its first request; a wrong password or mechanism is ErrSASL and
// nothing is sent.
func TestSASLDial(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, mech := range sasl.Supported {
		p := startSASLPeer(t, mech, 0)
		c := New(p.ln.Addr().String(), "test", WithDial(SASLDial(nil, saslClient(mech, sasl.Credentials{Username: "broker", Password: "broker-pw"}))))
		resp, err := c.Request(ctx, kmsg.NewPtrMetadataRequest())
		if err != nil {
			t.Fatalf("%s: %v", mech, err)
		}
		if m := resp.(*kmsg.MetadataResponse); len(m.Brokers) != 1 || m.Brokers[0].NodeID != 7 || p.conns.Load() != 1 {
			t.Fatalf("%s: metadata %+v after %d authentications", mech, m, p.conns.Load())
		}
		c.Close()

		bad := New(p.ln.Addr().String(), "test", WithDial(SASLDial(nil, saslClient(mech, sasl.Credentials{Username: "broker", Password: "wrong"}))))
		if _, err := bad.Request(ctx, kmsg.NewPtrMetadataRequest()); !errors.Is(err, ErrSASL) {
			t.Fatalf("%s, wrong password: %v; want ErrSASL", mech, err)
		}
		other := sasl.ScramSHA512
		if mech == other {
			other = sasl.Plain
		}
		wrongMech := New(p.ln.Addr().String(), "test", WithDial(SASLDial(nil, saslClient(other, sasl.Credentials{Username: "broker", Password: "broker-pw"}))))
		if _, err := wrongMech.Request(ctx, kmsg.NewPtrMetadataRequest()); !errors.Is(err, ErrSASL) {
			t.Fatalf("%s server, %s client: %v; want ErrSASL", mech, other, err)
		}
		if p.conns.Load() != 1 {
			t.Fatalf("%s: %d authentications; want 1", mech, p.conns.Load())
		}
	}
}

// TestSASLSessionRenewal: a session the server gave a lifetime is
// replaced by a new authenticated connection once 90% of it has passed,
// before the next request, not used until the server closes it.
func TestSASLSessionRenewal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := startSASLPeer(t, sasl.ScramSHA256, time.Hour)
	c := New(p.ln.Addr().String(), "test", WithDial(SASLDial(nil, saslClient(sasl.ScramSHA256, sasl.Credentials{Username: "broker", Password: "broker-pw"}))))
	defer c.Close()
	for range 2 {
		if _, err := c.Request(ctx, kmsg.NewPtrMetadataRequest()); err != nil {
			t.Fatal(err)
		}
	}
	sc := c.c.(*saslConn)
	if d := time.Until(sc.renewAt); d < 53*time.Minute || d > 54*time.Minute {
		t.Fatalf("renewal in %v; want 90%% of the hour", d)
	}
	if p.conns.Load() != 1 {
		t.Fatalf("%d authentications within the session; want 1", p.conns.Load())
	}
	c.mu.Lock()
	sc.renewAt = time.Now().Add(-time.Millisecond) // the session is near its end
	c.mu.Unlock()
	if _, err := c.Request(ctx, kmsg.NewPtrMetadataRequest()); err != nil {
		t.Fatal(err)
	}
	if p.conns.Load() != 2 || c.c == sc {
		t.Fatalf("%d authentications; want a new connection for the renewal", p.conns.Load())
	}
}
