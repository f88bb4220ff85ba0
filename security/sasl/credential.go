package sasl

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"github.com/xdg-go/scram"
)

// ScramMechanism is SCRAM with one hash (Kafka's ScramMechanism).
type ScramMechanism struct {
	Name string // SCRAM-SHA-256 or SCRAM-SHA-512
	// Type is the mechanism's number in DescribeUserScramCredentials and
	// AlterUserScramCredentials (part of the protocol: never change).
	Type int8
	// MinIterations is the fewest iterations a credential may have to
	// authenticate (Kafka's minIterations); AlterUserScramCredentials
	// also refuses more than MaxIterations.
	MinIterations, MaxIterations int
	hash                         scram.HashGeneratorFcn
}

// The SCRAM mechanisms Kafka serves (RFC 7677 and its SHA-512 sibling).
var (
	SHA256 = &ScramMechanism{Name: ScramSHA256, Type: 1, MinIterations: 4096, MaxIterations: 16384,
		hash: func() hash.Hash { return sha256.New() }}
	SHA512 = &ScramMechanism{Name: ScramSHA512, Type: 2, MinIterations: 4096, MaxIterations: 16384,
		hash: func() hash.Hash { return sha512.New() }}
)

// ScramMechanisms lists the SCRAM mechanisms.
var ScramMechanisms = []*ScramMechanism{SHA256, SHA512}

// Scram returns the SCRAM mechanism named name, or nil.
func Scram(name string) *ScramMechanism {
	for _, m := range ScramMechanisms {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// ScramByType returns the SCRAM mechanism of a protocol type number, or nil.
func ScramByType(t int8) *ScramMechanism {
	for _, m := range ScramMechanisms {
		if m.Type == t {
			return m
		}
	}
	return nil
}

// Size is the length of the mechanism's hashes: keys and proofs.
func (m *ScramMechanism) Size() int { return m.hash().Size() }

// ScramCredential is what the broker keeps of a SCRAM user's password
// (RFC 5802 section 3; Kafka's ScramCredential): the salt, the stored key
// H(ClientKey), the server key and the iteration count. The password
// cannot be recovered from it.
type ScramCredential struct {
	Salt       []byte
	StoredKey  []byte
	ServerKey  []byte
	Iterations int
}

// ErrCredential: a credential string that is not Kafka's format.
var ErrCredential = errors.New("sasl: invalid SCRAM credential")

// String is the credential as Kafka stores it in /config/users/<user>
// (ScramCredentialUtils.credentialToString):
// salt=<b64>,stored_key=<b64>,server_key=<b64>,iterations=<n>, standard
// base64 with padding. Part of the format shared with Kafka: never change.
func (c ScramCredential) String() string {
	b64 := base64.StdEncoding.EncodeToString
	return "salt=" + b64(c.Salt) + ",stored_key=" + b64(c.StoredKey) + ",server_key=" + b64(c.ServerKey) +
		",iterations=" + strconv.Itoa(c.Iterations)
}

// ParseScramCredential reads the form String writes, as Kafka's
// credentialFromString: exactly the four keys, in any order, each once,
// split at the first '=' of each comma-separated part.
func ParseScramCredential(s string) (ScramCredential, error) {
	var c ScramCredential
	seen := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || k == "" {
			return c, fmt.Errorf("%w: %q", ErrCredential, s)
		}
		seen[k] = v
	}
	if len(seen) != 4 {
		return c, fmt.Errorf("%w: %q: want salt, stored_key, server_key and iterations", ErrCredential, s)
	}
	var err error
	for _, f := range []struct {
		key string
		dst *[]byte
	}{{"salt", &c.Salt}, {"stored_key", &c.StoredKey}, {"server_key", &c.ServerKey}} {
		v, ok := seen[f.key]
		if !ok {
			return c, fmt.Errorf("%w: %q: no %s", ErrCredential, s, f.key)
		}
		if *f.dst, err = base64.StdEncoding.DecodeString(v); err != nil {
			return c, fmt.Errorf("%w: %s: %v", ErrCredential, f.key, err)
		}
	}
	it, ok := seen["iterations"]
	if !ok {
		return c, fmt.Errorf("%w: %q: no iterations", ErrCredential, s)
	}
	if c.Iterations, err = strconv.Atoi(it); err != nil || c.Iterations <= 0 {
		return c, fmt.Errorf("%w: iterations %q", ErrCredential, it)
	}
	return c, nil
}

// SaltedPassword is Hi(password, salt, iterations) of RFC 5802: PBKDF2
// with the mechanism's HMAC. Like Kafka's ScramFormatter, the password's
// UTF-8 bytes are used as they are (no SASLprep).
func (m *ScramMechanism) SaltedPassword(password string, salt []byte, iterations int) ([]byte, error) {
	return pbkdf2.Key(m.hash, password, salt, iterations, m.Size())
}

// CredentialFromSalted derives the stored credential from a salted
// password, as AlterUserScramCredentials carries it (KIP-554: the client
// salts, the broker derives the keys).
func (m *ScramMechanism) CredentialFromSalted(salt, salted []byte, iterations int) ScramCredential {
	clientKey := m.hmac(salted, []byte("Client Key"))
	h := m.hash()
	h.Write(clientKey)
	return ScramCredential{
		Salt:       append([]byte(nil), salt...),
		StoredKey:  h.Sum(nil),
		ServerKey:  m.hmac(salted, []byte("Server Key")),
		Iterations: iterations,
	}
}

// NewCredential makes the credential of a password with a fresh random
// salt, as kafka-configs.sh --add-config 'SCRAM-SHA-256=[password=...]'
// does.
func (m *ScramMechanism) NewCredential(password string, iterations int) (ScramCredential, error) {
	salt := NewSalt()
	salted, err := m.SaltedPassword(password, salt, iterations)
	if err != nil {
		return ScramCredential{}, err
	}
	return m.CredentialFromSalted(salt, salted, iterations), nil
}

// NewSalt returns a random salt of 32 bytes.
func NewSalt() []byte {
	salt := make([]byte, 32)
	rand.Read(salt)
	return salt
}

func (m *ScramMechanism) hmac(key, data []byte) []byte {
	h := hmac.New(m.hash, key)
	h.Write(data)
	return h.Sum(nil)
}
