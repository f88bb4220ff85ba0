package sasl

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
)

// Mechanism names, as clients ask for them in SaslHandshake (part of the
// protocol: never change).
const (
	Plain       = "PLAIN"
	ScramSHA256 = "SCRAM-SHA-256"
	ScramSHA512 = "SCRAM-SHA-512"
)

// Supported lists the mechanisms this broker serves.
var Supported = []string{Plain, ScramSHA256, ScramSHA512}

// IsSupported reports whether the broker serves the mechanism.
func IsSupported(mech string) bool {
	for _, m := range Supported {
		if m == mech {
			return true
		}
	}
	return false
}

// ErrFailed is the class of every authentication failure: errors.Is(err,
// ErrFailed) holds for what a Server's Step returns.
var ErrFailed = errors.New("sasl: authentication failed")

// Failure is a failed authentication whose message the client may read
// (Kafka's SaslAuthenticationException: it carries nothing an
// unauthenticated client must not learn). Other failures answer a
// generic message.
type Failure struct{ Msg string }

func (f *Failure) Error() string { return f.Msg }

// Is makes a Failure an ErrFailed.
func (f *Failure) Is(target error) bool { return target == ErrFailed }

func failf(format string, args ...any) error { return &Failure{Msg: fmt.Sprintf(format, args...)} }

// failed wraps a reason the client is not told (Kafka's SaslException).
func failed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFailed, fmt.Sprintf(format, args...))
}

// ClientMessage is what a client is told of err, a failure of an
// authentication with mech: a Failure's own message, otherwise Kafka's
// generic one, which does not say whether the user exists.
func ClientMessage(err error, mech string, reauth bool) string {
	var f *Failure
	if errors.As(err, &f) {
		return f.Msg
	}
	what := "authentication"
	if reauth {
		what = "re-authentication"
	}
	return "Authentication failed during " + what + " due to invalid credentials with SASL mechanism " + mech
}

// Server is the broker's side of one authentication exchange (Kafka's
// SaslServer). It is used by one goroutine.
type Server interface {
	// Step takes the client's next token and returns the token to send
	// back. An error, which wraps ErrFailed, ends the exchange.
	Step(token []byte) ([]byte, error)
	// Done reports whether the exchange has succeeded.
	Done() bool
	// Username is the authenticated user (the principal's name) once Done.
	Username() string
}

// PlainUsers looks up the password of a PLAIN user.
type PlainUsers func(user string) (password string, ok bool)

// JAASPlainUsers are the user_<name>="<password>" options of the
// PlainLoginModule entries of a JAAS config (Kafka's
// PlainServerCallbackHandler).
func JAASPlainUsers(entries []JAASEntry) PlainUsers {
	return func(user string) (string, bool) { return Option(entries, PlainLoginModule, "user_"+user) }
}

// plainServer is RFC 4616 PLAIN as Kafka's PlainSaslServer serves it.
type plainServer struct {
	users PlainUsers
	user  string
	done  bool
}

// NewPlain returns the server side of a PLAIN exchange checking
// passwords against users.
func NewPlain(users PlainUsers) Server { return &plainServer{users: users} }

// ParsePlain splits a PLAIN message, [authzid] NUL authcid NUL passwd,
// into its three parts as Kafka does: exactly three, any of them empty.
func ParsePlain(msg []byte) (authzid, user, password string, err error) {
	parts := strings.SplitN(string(msg), "\x00", 4)
	if len(parts) != 3 {
		return "", "", "", failf("Invalid SASL/PLAIN response: expected 3 tokens, got %d", min(len(parts), 4))
	}
	return parts[0], parts[1], parts[2], nil
}

func (p *plainServer) Step(msg []byte) ([]byte, error) {
	if p.done {
		return nil, failed("PLAIN exchange already complete")
	}
	authzid, user, password, err := ParsePlain(msg)
	if err != nil {
		return nil, err
	}
	if user == "" {
		return nil, failf("Authentication failed: username not specified")
	}
	if password == "" {
		return nil, failf("Authentication failed: password not specified")
	}
	want, ok := p.users(user)
	// Compare even for an unknown user, so that timing does not tell.
	eq := subtle.ConstantTimeCompare([]byte(password), []byte(want)) == 1
	if !ok || !eq {
		return nil, failf("Authentication failed: Invalid username or password")
	}
	if authzid != "" && authzid != user {
		return nil, failf("Authentication failed: Client requested an authorization id that is different from username")
	}
	p.user, p.done = user, true
	return []byte{}, nil
}

func (p *plainServer) Done() bool       { return p.done }
func (p *plainServer) Username() string { return p.user }
