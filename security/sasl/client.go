package sasl

import (
	"errors"
	"fmt"

	"github.com/xdg-go/scram"
)

// Client is the client's side of an exchange: what a broker runs when it
// connects to another broker's SASL listener (Kafka's SaslClient).
type Client interface {
	// Mechanism is the name asked for in SaslHandshake.
	Mechanism() string
	// Step takes the server's last token (nil at first) and returns the
	// next to send. done: the exchange has succeeded on the client's side;
	// when resp is nil too, nothing more is sent.
	Step(challenge []byte) (resp []byte, done bool, err error)
}

// Credentials are a user name and password for the client side.
type Credentials struct{ Username, Password string }

// JAASCredentials are the username and password options of a JAAS
// config's entry for module: a broker's own credentials for other
// brokers' SASL listeners.
func JAASCredentials(entries []JAASEntry, module string) (Credentials, bool) {
	u, ok1 := Option(entries, module, "username")
	p, ok2 := Option(entries, module, "password")
	return Credentials{u, p}, ok1 && ok2
}

// NewClient returns the client side of an exchange with mech as user.
func NewClient(mech string, cr Credentials) (Client, error) {
	if mech == Plain {
		return &plainClient{cr: cr}, nil
	}
	m := Scram(mech)
	if m == nil {
		return nil, fmt.Errorf("sasl: mechanism %q is not supported", mech)
	}
	// Unprepped: Kafka's ScramFormatter does not SASLprep passwords.
	c, err := m.hash.NewClientUnprepped(cr.Username, cr.Password, "")
	if err != nil {
		return nil, err
	}
	return &scramClient{mech: m, conv: c.WithMinIterations(m.MinIterations).NewConversation()}, nil
}

type plainClient struct {
	cr   Credentials
	sent bool
}

func (p *plainClient) Mechanism() string { return Plain }

func (p *plainClient) Step([]byte) ([]byte, bool, error) {
	if p.sent {
		return nil, true, nil
	}
	p.sent = true
	return []byte("\x00" + p.cr.Username + "\x00" + p.cr.Password), false, nil
}

type scramClient struct {
	mech *ScramMechanism
	conv *scram.ClientConversation
	step int
}

func (s *scramClient) Mechanism() string { return s.mech.Name }

func (s *scramClient) Step(challenge []byte) ([]byte, bool, error) {
	s.step++
	switch s.step {
	case 1:
		resp, err := s.conv.Step("")
		return []byte(resp), false, err
	case 2:
		if _, err := ParseServerFirst(challenge); err != nil {
			return nil, false, err
		}
		resp, err := s.conv.Step(string(challenge))
		return []byte(resp), false, err
	case 3:
		if _, err := ParseServerFinal(challenge); err != nil {
			return nil, false, err
		}
		if _, err := s.conv.Step(string(challenge)); err != nil || !s.conv.Valid() {
			return nil, false, fmt.Errorf("sasl: the server's signature does not verify: %v", err)
		}
		return nil, true, nil
	}
	return nil, false, errors.New("sasl: SCRAM exchange already complete")
}
