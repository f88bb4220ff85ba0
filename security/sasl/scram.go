package sasl

import (
	"crypto/hmac"
	"encoding/base64"
	"strings"

	"github.com/xdg-go/scram"
)

// The server side of SCRAM is github.com/xdg-go/scram's
// ServerConversation: it holds the exchange's state, makes the server
// nonce and checks the proof in constant time. Each message is first
// parsed here with Kafka's grammar, which keeps from the library what it
// does not check: a client-first message whose gs2 flag is missing and a
// proof longer than the hash both panic in its parser.
//
// One client-final message the library refuses is checked here instead:
// librdkafka before 2.6.1 (kcat, confluent-kafka) sends back its own nonce
// followed by the whole server nonce, which already begins with it
// (librdkafka#4895). Kafka 3.8.1 and later accept a nonce that ends with
// the server's for that reason (the fix of CVE-2024-56128 compares with
// endsWith); so does this server, verifying the proof over the message as
// the client signed it (verifyDoubledNonce).

// CredentialLookup returns a SCRAM user's credential for a mechanism.
type CredentialLookup func(mech *ScramMechanism, user string) (ScramCredential, bool)

type scramServer struct {
	mech   *ScramMechanism
	lookup CredentialLookup
	conv   *scram.ServerConversation
	// first and serverFirst are the messages of the first step, for the
	// proof of a librdkafka client-final message.
	first       ClientFirst
	serverFirst string
	cred        ScramCredential
	// nonce, if set, makes the server's nonces (tests: RFC 7677's example).
	nonce  scram.NonceGeneratorFcn
	user   string
	done   bool
	failed bool
}

// NewScram returns the server side of a SCRAM exchange with mech,
// checking proofs against the credentials lookup returns.
func NewScram(mech *ScramMechanism, lookup CredentialLookup) Server {
	return &scramServer{mech: mech, lookup: lookup}
}

func (s *scramServer) Step(msg []byte) ([]byte, error) {
	if s.failed || s.done {
		return nil, failed("unexpected SCRAM message in state %s", s.state())
	}
	resp, err := s.step(msg)
	if err != nil {
		s.failed = true
		s.conv = nil
	}
	return resp, err
}

func (s *scramServer) state() string {
	switch {
	case s.failed:
		return "FAILED"
	case s.done:
		return "COMPLETE"
	case s.conv != nil:
		return "RECEIVE_CLIENT_FINAL_MESSAGE"
	}
	return "RECEIVE_CLIENT_FIRST_MESSAGE"
}

func (s *scramServer) step(msg []byte) ([]byte, error) {
	if s.conv == nil {
		first, err := ParseClientFirst(msg)
		if err != nil {
			return nil, err
		}
		user := Username(first.SASLName)
		if v, _ := first.Extension("tokenauth"); v == "true" {
			return nil, failed("Token Authentication failed: Invalid tokenId : %s", user)
		}
		cred, ok := s.lookup(s.mech, user)
		if !ok {
			return nil, failed("Authentication failed: Invalid user credentials")
		}
		if first.AuthzID != "" && Username(first.AuthzID) != user {
			return nil, failf("Authentication failed: Client requested an authorization id that is different from username")
		}
		if cred.Iterations < s.mech.MinIterations {
			return nil, failed("Iterations %d is less than the minimum %d for %s", cred.Iterations, s.mech.MinIterations, s.mech.Name)
		}
		if len(cred.StoredKey) != s.mech.Size() || len(cred.ServerKey) != s.mech.Size() {
			return nil, failed("stored credential of %s does not fit %s", user, s.mech.Name)
		}
		srv, err := s.mech.hash.NewServer(func(string) (scram.StoredCredentials, error) {
			return scram.StoredCredentials{
				KeyFactors: scram.KeyFactors{Salt: string(cred.Salt), Iters: cred.Iterations},
				StoredKey:  cred.StoredKey,
				ServerKey:  cred.ServerKey,
			}, nil
		})
		if err != nil {
			return nil, failed("%v", err)
		}
		if s.nonce != nil {
			srv = srv.WithNonceGenerator(s.nonce)
		}
		s.conv = srv.NewConversation()
		resp, err := s.conv.Step(string(msg))
		if err != nil {
			return nil, failed("%v", err)
		}
		s.user, s.first, s.serverFirst, s.cred = user, first, resp, cred
		return []byte(resp), nil
	}
	final, err := ParseClientFinal(msg)
	if err != nil {
		return nil, err
	}
	if len(final.Proof) != s.mech.Size() {
		return nil, failed("Authentication failed: Invalid client final message")
	}
	if serverNonce := s.serverNonce(); final.Nonce != serverNonce && final.Nonce == s.first.Nonce+serverNonce {
		resp, err := s.verifyDoubledNonce(final)
		if err != nil {
			return nil, err
		}
		s.done, s.conv = true, nil
		return resp, nil
	}
	resp, err := s.conv.Step(string(msg))
	if err != nil || !s.conv.Valid() {
		return nil, failed("Invalid client credentials: %v", err)
	}
	s.done, s.conv = true, nil
	return []byte(resp), nil
}

// serverNonce is the nonce of the server-first message: r=...
func (s *scramServer) serverNonce() string {
	r, _, _ := strings.Cut(strings.TrimPrefix(s.serverFirst, "r="), ",")
	return r
}

// verifyDoubledNonce checks a client-final message whose nonce is the
// client's nonce then the server's (librdkafka before 2.6.1), as RFC 5802
// section 3 checks any: the channel binding is the gs2 header, and the
// proof XORed with HMAC(StoredKey, AuthMessage) hashes to StoredKey, the
// AuthMessage holding the final message as the client sent it. It
// returns the server-final message.
func (s *scramServer) verifyDoubledNonce(final ClientFinal) ([]byte, error) {
	if string(final.ChannelBinding) != s.first.GS2Header() {
		return nil, failed("channel binding does not match the gs2 header")
	}
	authMsg := []byte(s.first.Bare() + "," + s.serverFirst + "," + final.WithoutProof)
	sig := s.mech.hmac(s.cred.StoredKey, authMsg)
	clientKey := make([]byte, len(sig))
	for i := range sig {
		clientKey[i] = final.Proof[i] ^ sig[i]
	}
	h := s.mech.hash()
	h.Write(clientKey)
	if !hmac.Equal(h.Sum(nil), s.cred.StoredKey) {
		return nil, failed("Invalid client credentials")
	}
	return []byte("v=" + base64.StdEncoding.EncodeToString(s.mech.hmac(s.cred.ServerKey, authMsg))), nil
}

func (s *scramServer) Done() bool { return s.done }

func (s *scramServer) Username() string {
	if !s.done {
		return ""
	}
	return s.user
}
