package zkdata

import (
	"encoding/base64"
	"fmt"
	"strings"

	"samsa/internal/uuid"
)

// Uuid is Kafka's 128-bit identifier (topic IDs, cluster IDs). Its text form
// is URL-safe base64 without padding: 22 characters.
type Uuid [16]byte

// ZeroUuid means "no ID".
var ZeroUuid Uuid

// String is Kafka's Uuid.toString.
func (u Uuid) String() string { return base64.RawURLEncoding.EncodeToString(u[:]) }

// IsZero reports whether u is the zero UUID.
func (u Uuid) IsZero() bool { return u == ZeroUuid }

// ParseUuid parses Kafka's text form. Like Kafka it takes at most 24
// characters, with or without padding, that decode to exactly 16 bytes.
func ParseUuid(s string) (Uuid, error) {
	var u Uuid
	if len(s) > 24 {
		return u, fmt.Errorf("uuid %q: longer than 24 characters", s)
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return u, fmt.Errorf("uuid %q: %v", s, err)
	}
	if len(b) != 16 {
		return u, fmt.Errorf("uuid %q: %d bytes, want 16", s, len(b))
	}
	copy(u[:], b)
	return u, nil
}

// RandomUuid returns a random (version 4) UUID that, like Kafka's
// Uuid.randomUuid, is neither 0 nor 1 and whose text does not start with '-'
// (it would read as a command-line flag): uuid.Random.
func RandomUuid() Uuid { return Uuid(uuid.Random()) }
