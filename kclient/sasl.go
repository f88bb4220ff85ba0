package kclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/security/sasl"
)

// SASLDial returns a DialFunc that connects with dial (nil: plain TCP)
// and authenticates the connection before it is handed over, as Kafka's
// SaslClientAuthenticator does for a broker's connections to other
// brokers' SASL listeners: SaslHandshake v1 with the mechanism, then
// SaslAuthenticate v1 until the mechanism is done on both sides.
//
// When the server answers a session lifetime (connections.max.reauth.ms,
// KIP-368), a Conn over the connection dials again once 90% of it has
// passed, before its next request, rather than be closed by the server
// when it expires (Kafka's clients re-authenticate between 85% and 95%).
func SASLDial(dial DialFunc, newClient func() (sasl.Client, error)) DialFunc {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		var nc net.Conn
		var err error
		if dial != nil {
			nc, err = dial(ctx, addr)
		} else {
			var d net.Dialer
			nc, err = d.DialContext(ctx, "tcp", addr)
		}
		if err != nil {
			return nil, err
		}
		cl, err := newClient()
		if err != nil {
			nc.Close()
			return nil, err
		}
		start := time.Now()
		lifetime, err := authenticate(ctx, &Conn{addr: addr, clientID: "samsa-sasl", c: nc}, cl)
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("SASL %s to %s: %w", cl.Mechanism(), addr, err)
		}
		sc := &saslConn{Conn: nc}
		if lifetime > 0 {
			sc.renewAt = start.Add(lifetime * 9 / 10)
		}
		return sc, nil
	}
}

// ErrSASL: the peer refused the SASL exchange (a wrong password, a
// mechanism it does not serve).
var ErrSASL = errors.New("kclient: SASL authentication failed")

// authenticate runs the exchange on c's connection and returns the
// session lifetime the server answered.
func authenticate(ctx context.Context, c *Conn, cl sasl.Client) (time.Duration, error) {
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.SetVersion(1)
	hs.Mechanism = cl.Mechanism()
	resp, err := c.roundTrip(ctx, hs)
	if err != nil {
		return 0, err
	}
	if r := resp.(*kmsg.SASLHandshakeResponse); r.ErrorCode != 0 {
		return 0, fmt.Errorf("%w: SaslHandshake: %v (the server enables %v)", ErrSASL, kerr.ErrorForCode(r.ErrorCode), r.SupportedMechanisms)
	}
	var challenge []byte
	var lifetime time.Duration
	for {
		token, done, err := cl.Step(challenge)
		if err != nil {
			return 0, fmt.Errorf("%w: %v", ErrSASL, err)
		}
		if done && token == nil {
			return lifetime, nil
		}
		au := kmsg.NewPtrSASLAuthenticateRequest()
		au.SetVersion(1)
		au.SASLAuthBytes = token
		resp, err := c.roundTrip(ctx, au)
		if err != nil {
			return 0, err
		}
		r := resp.(*kmsg.SASLAuthenticateResponse)
		if r.ErrorCode != 0 {
			msg := ""
			if r.ErrorMessage != nil {
				msg = *r.ErrorMessage
			}
			return 0, fmt.Errorf("%w: %v: %s", ErrSASL, kerr.ErrorForCode(r.ErrorCode), msg)
		}
		challenge = r.SASLAuthBytes
		lifetime = time.Duration(r.SessionLifetimeMillis) * time.Millisecond
	}
}

// saslConn is an authenticated connection and when to replace it.
type saslConn struct {
	net.Conn
	renewAt time.Time // zero: the session does not expire
}

// stale reports whether the connection's session is near its end.
func stale(nc net.Conn) bool {
	sc, ok := nc.(*saslConn)
	return ok && !sc.renewAt.IsZero() && !time.Now().Before(sc.renewAt)
}
