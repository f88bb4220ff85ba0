package uuid

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
)

// UUID is a 128-bit identifier.
type UUID [16]byte

// Random returns a new random UUID (see the package invariants).
func Random() UUID {
	for {
		var u UUID
		rand.Read(u[:]) // never returns an error: crypto/rand crashes the program instead
		u[6] = u[6]&0x0f | 0x40
		u[8] = u[8]&0x3f | 0x80
		if u.String()[0] != '-' {
			return u
		}
	}
}

// String is Kafka's text form (Uuid.toString): URL-safe base64 without
// padding, 22 characters.
func (u UUID) String() string { return base64.RawURLEncoding.EncodeToString(u[:]) }

// Canonical is RFC 4122's text form, as java.util.UUID.toString writes it:
// 36 characters, lowercase hex digits in groups of 8-4-4-4-12.
func (u UUID) Canonical() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], u[10:16])
	return string(b[:])
}
