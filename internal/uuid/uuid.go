// Package uuid makes the broker's random identifiers the way Kafka makes
// them: topic IDs and cluster IDs (Kafka's Uuid.randomUuid) and the UUID
// part of group member IDs (java.util.UUID.randomUUID). It is the only
// place that draws them.
//
// Invariants of Random:
//  1. Version 4, RFC 4122 variant: byte 6 is 0x4X, byte 8 is 0b10XXXXXX.
//  2. Never one of Kafka's reserved IDs, 0 (no ID) and 1 (the metadata
//     topic's ID): invariant 1 rules both out.
//  3. Its text form never begins with '-', which tools would read as a
//     command-line flag (Kafka's rule too).
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
