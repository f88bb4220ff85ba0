package saslauth

// SASL authentication of a SASL listener's connections, before their first
// request reaches the handlers (Kafka's SaslServerAuthenticator): netpoll
// hands each frame of a connection to its authenticator until it reports
// the connection authenticated, and then shows it every later frame first
// (netpoll.SessionAuthenticator), for re-authentication and session
// expiry (KIP-368).
//
// The state machine, one per connection. A failure is answered (if the
// row says so) after connection.failed.authentication.delay.ms, then the
// connection closes; "close" closes at once (netpoll.ErrNotSASL), as
// Kafka does for what is not a SASL exchange at all.
//
//	state          frame                                  answer                              next
//	-------------  -------------------------------------  ----------------------------------  ------------
//	initial        ApiVersions                            ApiVersions                         handshake
//	initial        ApiVersions, unsupported version       UNSUPPORTED_VERSION (KIP-511)       initial
//	initial,       SaslHandshake, mechanism enabled       the enabled mechanisms              authenticate
//	 handshake     SaslHandshake, mechanism not enabled   UNSUPPORTED_SASL_MECHANISM          failure
//	initial,       anything else, or bytes that are not   -                                   close
//	 handshake      a request
//	authenticate   v1 handshake: SaslAuthenticate         the mechanism's token; when it is   authenticate
//	                                                       done, the session lifetime (v1+)    or complete
//	authenticate   SaslAuthenticate the mechanism fails   SASL_AUTHENTICATION_FAILED          failure
//	authenticate   another request                        its error ILLEGAL_SASL_STATE        failure
//	authenticate   v0 handshake: the frame is the token   the mechanism's token, unframed     authenticate
//	                (librdkafka's raw framing)             (a failure is not answered)         or complete
//	complete       SaslHandshake, sessions expire, the    the enabled mechanisms              reauthenticate
//	                last re-authentication 1 s ago or more
//	complete       anything, the session expired          -                                   close
//	complete       anything else                          the handlers'                       complete
//	reauthenticate SaslHandshake of the same mechanism    the enabled mechanisms              authenticate
//	reauthenticate SaslHandshake of another mechanism     the enabled mechanisms; the next    failure
//	                                                       token fails
//
// On complete the connection's principal is User:<the authenticated
// name>; a re-authentication must end with the same one. A session
// expires connections.max.reauth.ms (per mechanism) after the
// authentication that began it; 0 means never.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
	"samsa/security"
	"samsa/security/sasl"
)

// Config is a SASL listener's authentication.
type Config struct {
	// Mechanisms are sasl.enabled.mechanisms, as SaslHandshake lists them.
	Mechanisms []string
	// NewServer makes the server side of one exchange of an enabled
	// mechanism.
	NewServer func(mech string) sasl.Server
	// SessionLifetime is connections.max.reauth.ms for a mechanism; 0:
	// sessions do not expire. nil: none expire.
	SessionLifetime func(mech string) time.Duration
	// APIVersions answers ApiVersions before authentication: the broker's
	// handlers, which list what they serve.
	APIVersions netpoll.Handler
	// Logger gets each authentication at DEBUG; nil: none.
	Logger *slog.Logger
}

// New returns the netpoll.Listener's NewAuthenticator of a SASL listener.
func New(cfg Config) func(*netpoll.Conn) netpoll.Authenticator {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return func(*netpoll.Conn) netpoll.Authenticator { return &authenticator{cfg: cfg} }
}

type saslState int

const (
	stateInitial saslState = iota
	stateHandshake
	stateAuthenticate
	stateComplete
	stateReauthenticate
	stateBadMechanism // a re-authentication asked for another mechanism
)

// minReauthInterval: a client may begin a re-authentication at most once
// a second (Kafka's MIN_REAUTH_INTERVAL_ONE_SECOND_NANOS); sooner, its
// SaslHandshake goes to the handlers, which refuse it.
const minReauthInterval = time.Second

// authenticator is one connection's SASL state. netpoll calls it on the
// connection's goroutine only.
type authenticator struct {
	cfg   Config
	state saslState
	raw   bool // SaslHandshake v0: tokens are frames of their own, no request header
	mech  string
	srv   sasl.Server

	// Set by the first authentication.
	user string
	// expires is when the session ends; zero: never.
	expires time.Time
	// reauthStarted is when the last re-authentication began.
	reauthStarted time.Time
	// prevMech is the mechanism a re-authentication must keep.
	prevMech string
}

var _ netpoll.SessionAuthenticator = (*authenticator)(nil)

func notSASL(format string, args ...any) error {
	return fmt.Errorf("%w: %s", netpoll.ErrNotSASL, fmt.Sprintf(format, args...))
}

func (a *authenticator) reauthenticating() bool { return a.prevMech != "" }

// Authenticate serves one frame before (re-)authentication is complete.
func (a *authenticator) Authenticate(c *netpoll.Conn, frame []byte) (*netpoll.Response, bool, error) {
	switch a.state {
	case stateInitial, stateHandshake, stateReauthenticate:
		return a.handshake(c, frame)
	case stateAuthenticate:
		if a.raw {
			return a.rawToken(c, frame)
		}
		return a.authenticateRequest(c, frame)
	case stateBadMechanism:
		err := sasl.ErrFailed
		msg := fmt.Sprintf("SASL mechanism '%s' requested by client is not supported for re-authentication of mechanism '%s'", a.mech, a.prevMech)
		if a.raw {
			return nil, false, fmt.Errorf("%w: %s", err, msg)
		}
		r, derr := decode(frame)
		if derr != nil || r.key != saslAuthenticateKey {
			return nil, false, fmt.Errorf("%w: %s", err, msg)
		}
		return authFailure(r, msg), false, fmt.Errorf("%w: %s", err, msg)
	}
	return nil, false, notSASL("frame in SASL state %d", a.state)
}

// handshake serves ApiVersions and SaslHandshake before the exchange.
func (a *authenticator) handshake(c *netpoll.Conn, frame []byte) (*netpoll.Response, bool, error) {
	if isAPIVersions(frame) && a.state == stateInitial {
		// The handlers' answer, unsupported versions' included (KIP-511);
		// only a good one moves on, as Kafka's does.
		resp := a.cfg.APIVersions.Serve(c, frame)
		if resp == nil {
			return nil, false, notSASL("ApiVersions not answered")
		}
		if validAPIVersions(frame) {
			a.state = stateHandshake
		}
		return resp, false, nil
	}
	r, err := decode(frame)
	switch {
	case err != nil:
		return nil, false, notSASL("Invalid request, potential reasons: kafka client configured with the wrong security protocol, it does not support KIP-43 or it is not a kafka client (%v)", err)
	case r.key != saslHandshakeKey:
		return nil, false, notSASL("Unexpected Kafka request of type %s during SASL handshake", kmsg.NameForKey(r.key))
	}
	mech := r.req.(*kmsg.SASLHandshakeRequest).Mechanism
	resp := kmsg.NewPtrSASLHandshakeResponse()
	resp.SupportedMechanisms = a.cfg.Mechanisms
	if !enabled(a.cfg.Mechanisms, mech) {
		resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		return r.respond(resp), false, fmt.Errorf("%w: Unsupported SASL mechanism %s", sasl.ErrFailed, mech)
	}
	a.raw = r.version == 0
	a.mech = mech
	if a.reauthenticating() && mech != a.prevMech {
		a.state = stateBadMechanism
		return r.respond(resp), false, nil
	}
	a.srv = a.cfg.NewServer(mech)
	a.state = stateAuthenticate
	return r.respond(resp), false, nil
}

func enabled(mechs []string, m string) bool {
	for _, e := range mechs {
		if e == m {
			return true
		}
	}
	return false
}

// authenticateRequest serves a frame of the exchange after SaslHandshake
// v1: SaslAuthenticate, or a request that has no business here.
func (a *authenticator) authenticateRequest(c *netpoll.Conn, frame []byte) (*netpoll.Response, bool, error) {
	r, err := decode(frame)
	if errors.Is(err, errUnsupported) && len(frame) >= 2 {
		// Another request: answered in its own type where it can carry the
		// error, as Kafka's IllegalSaslStateException is.
		key := int16(binary.BigEndian.Uint16(frame))
		msg := "Unexpected Kafka request of type " + kmsg.NameForKey(key) + " during SASL authentication."
		return illegalSASLState(frame, msg), false, fmt.Errorf("%w: %s", sasl.ErrFailed, msg)
	}
	if err != nil {
		return nil, false, notSASL("request not served during SASL authentication (%v)", err)
	}
	if r.key != saslAuthenticateKey {
		msg := "Unexpected Kafka request of type " + kmsg.NameForKey(r.key) + " during SASL authentication."
		return illegalSASLState(frame, msg), false, fmt.Errorf("%w: %s", sasl.ErrFailed, msg)
	}
	out, err := a.srv.Step(r.req.(*kmsg.SASLAuthenticateRequest).SASLAuthBytes)
	if err != nil {
		msg := sasl.ClientMessage(err, a.mech, a.reauthenticating())
		return authFailure(r, msg), false, fmt.Errorf("SASL %s: %w", a.mech, err)
	}
	resp := kmsg.NewPtrSASLAuthenticateResponse()
	resp.SASLAuthBytes = out
	if out == nil {
		resp.SASLAuthBytes = []byte{}
	}
	if !a.srv.Done() {
		return r.respond(resp), false, nil
	}
	lifetime, err := a.complete(c)
	if err != nil {
		return authFailure(r, err.Error()), false, err
	}
	resp.SessionLifetimeMillis = lifetime.Milliseconds()
	return r.respond(resp), true, nil
}

// rawToken serves a token after SaslHandshake v0: the frame is the token
// and the answer is the mechanism's token, framed by its size alone. A
// failure is not answered: the client has no way to read one.
func (a *authenticator) rawToken(c *netpoll.Conn, token []byte) (*netpoll.Response, bool, error) {
	out, err := a.srv.Step(token)
	if err != nil {
		return nil, false, fmt.Errorf("SASL %s (unframed): %w", a.mech, err)
	}
	if !a.srv.Done() {
		return netpoll.NewResponse(out), false, nil
	}
	if _, err := a.complete(c); err != nil {
		return nil, false, err
	}
	return netpoll.NewResponse(out), true, nil
}

// complete ends a successful exchange: the principal, the session's
// lifetime and expiry.
func (a *authenticator) complete(c *netpoll.Conn) (time.Duration, error) {
	user := a.srv.Username()
	if a.reauthenticating() && user != a.user {
		return 0, &sasl.Failure{Msg: fmt.Sprintf("Cannot change principals during re-authentication from %s.%s: %s.%s",
			security.PrincipalTypeUser, a.user, security.PrincipalTypeUser, user)}
	}
	var lifetime time.Duration
	if a.cfg.SessionLifetime != nil {
		lifetime = max(a.cfg.SessionLifetime(a.mech), 0)
	}
	a.expires = time.Time{}
	if lifetime > 0 {
		a.expires = time.Now().Add(lifetime)
	}
	a.user, a.state, a.srv = user, stateComplete, nil
	c.SetPrincipal(security.User(user))
	a.cfg.Logger.Debug("SASL authentication complete", "mechanism", a.mech, "principal", "User:"+user,
		"reauthentication", a.reauthenticating(), "session.lifetime.ms", lifetime.Milliseconds())
	return lifetime, nil
}

// Check sees each frame after authentication: a SaslHandshake begins a
// re-authentication when sessions expire and the last one began a second
// ago or more (Kafka's maybeBeginServerReauthentication); otherwise an
// expired session closes the connection.
func (a *authenticator) Check(c *netpoll.Conn, frame []byte) (bool, error) {
	if a.expires.IsZero() {
		return false, nil // sessions do not expire: SaslHandshake is the handlers' to refuse
	}
	now := time.Now()
	if len(frame) >= 2 && int16(binary.BigEndian.Uint16(frame)) == saslHandshakeKey &&
		(a.reauthStarted.IsZero() || now.Sub(a.reauthStarted) >= minReauthInterval) {
		a.reauthStarted = now
		a.prevMech = a.mech
		a.state = stateReauthenticate
		return true, nil
	}
	if !now.Before(a.expires) {
		return false, fmt.Errorf("the session of User:%s (%s) expired at %s", a.user, a.mech, a.expires.Format(time.RFC3339Nano))
	}
	return false, nil
}

// authFailure answers a failed SaslAuthenticate.
func authFailure(r request, msg string) *netpoll.Response {
	resp := kmsg.NewPtrSASLAuthenticateResponse()
	resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
	resp.ErrorMessage = &msg
	resp.SASLAuthBytes = []byte{}
	return r.respond(resp)
}

// illegalSASLState answers a request that came during the exchange with
// its own response type carrying ILLEGAL_SASL_STATE, as Kafka's
// getErrorResponse does, where the response has a top-level error code at
// the request's version; nil (no answer) otherwise. The request's body is
// not read.
func illegalSASLState(frame []byte, msg string) *netpoll.Response {
	if len(frame) < 8 {
		return nil
	}
	r := request{key: int16(binary.BigEndian.Uint16(frame)), version: int16(binary.BigEndian.Uint16(frame[2:])),
		corr: int32(binary.BigEndian.Uint32(frame[4:]))}
	req := kmsg.RequestForKey(r.key)
	if req == nil || r.version < 0 || r.version > req.MaxVersion() {
		return nil
	}
	resp := req.ResponseKind()
	v := reflect.ValueOf(resp).Elem()
	f := v.FieldByName("ErrorCode")
	if !f.IsValid() || f.Kind() != reflect.Int16 || !f.CanSet() {
		return nil
	}
	f.SetInt(int64(kerr.IllegalSaslState.Code))
	if m := v.FieldByName("ErrorMessage"); m.IsValid() && m.Type() == reflect.TypeOf((*string)(nil)) && m.CanSet() {
		m.Set(reflect.ValueOf(&msg))
	}
	// The field may not be on the wire at this version (Metadata's is
	// v13+): an answer without the error would read as a success.
	resp.SetVersion(r.version)
	back := req.ResponseKind()
	back.SetVersion(r.version)
	if back.ReadFrom(resp.AppendTo(nil)) != nil ||
		reflect.ValueOf(back).Elem().FieldByName("ErrorCode").Int() != int64(kerr.IllegalSaslState.Code) {
		return nil
	}
	return r.respond(resp)
}
