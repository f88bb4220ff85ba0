package sasl

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// SCRAM messages (RFC 5802 section 7) parsed with the grammar of Kafka's
// ScramMessages, which is stricter than the RFC: the client-first
// message's gs2 header is "n" (no channel binding), names and values are
// 7-bit, nonces printable. Every parser takes untrusted bytes and never
// panics (FuzzScramMessages); what it accepts, its String writes back
// byte for byte.

// ClientFirst is a client-first-message: "n," [a=authzid] "," [m=...,]
// n=saslname,r=nonce [,ext=value]...
type ClientFirst struct {
	AuthzID    string // escaped as sent; "" when absent
	SASLName   string // the user name escaped as sent (=2C, =3D)
	Nonce      string
	Reserved   string // the m= value; "" when absent
	Extensions []Extension
}

// Extension is one key=value extension of a SCRAM message; Kafka knows
// tokenauth (delegation tokens).
type Extension struct{ Key, Value string }

// ClientFinal is a client-final-message: c=<b64 gs2 header>,r=nonce
// [,ext=value]...,p=<b64 proof>.
type ClientFinal struct {
	ChannelBinding []byte
	Nonce          string
	Extensions     []Extension
	Proof          []byte
	// WithoutProof is the message up to the proof, as the client sent it:
	// part of the AuthMessage both sides sign.
	WithoutProof string
}

// ServerFirst is a server-first-message: r=nonce,s=<b64 salt>,i=iterations.
type ServerFirst struct {
	Nonce      string
	Salt       []byte
	Iterations int
}

// ServerFinal is a server-final-message: v=<b64 signature> or e=error.
type ServerFinal struct {
	Signature []byte
	Error     string
}

func badMsg(which, msg string) error {
	return failed("Invalid SCRAM %s message format: %q", which, msg)
}

// valueChar: %x01-7F but for ','; safeChar: and but for '='.
func valueChar(c byte) bool     { return c >= 0x01 && c <= 0x7F && c != ',' }
func safeChar(c byte) bool      { return valueChar(c) && c != '=' }
func printableChar(c byte) bool { return c >= 0x21 && c <= 0x7E && c != ',' }

func allOf(s string, ok func(byte) bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// isSASLName: one or more safe characters or the escapes =2C and =3D.
func isSASLName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '=' {
			if !strings.HasPrefix(s[i:], "=2C") && !strings.HasPrefix(s[i:], "=3D") {
				return false
			}
			i += 2
			continue
		}
		if !safeChar(s[i]) {
			return false
		}
	}
	return true
}

func isAlpha(s string) bool {
	return allOf(s, func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' })
}

// isBase64 is Kafka's BASE64: groups of four, the last possibly padded;
// the empty string too.
func isBase64(s string) bool {
	if len(s)%4 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '+' {
			continue
		}
		// '=' only as padding: the last one, or the last two.
		if c == '=' && (i == len(s)-1 || i == len(s)-2 && s[len(s)-1] == '=') {
			continue
		}
		return false
	}
	return true
}

// parseExtensions reads ",key=value" parts: Kafka's (,ALPHA=VALUE)*.
func parseExtensions(parts []string) ([]Extension, bool) {
	var out []Extension
	for _, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		if !ok || !isAlpha(k) || !allOf(v, valueChar) {
			return nil, false
		}
		out = append(out, Extension{k, v})
	}
	return out, true
}

func appendExtensions(b *strings.Builder, exts []Extension) {
	for _, e := range exts {
		b.WriteString("," + e.Key + "=" + e.Value)
	}
}

// ParseClientFirst parses a client-first-message.
func ParseClientFirst(msg []byte) (ClientFirst, error) {
	s := string(msg)
	var m ClientFirst
	parts := strings.Split(s, ",")
	if len(parts) < 4 || parts[0] != "n" {
		return m, badMsg("client first", s)
	}
	if parts[1] != "" {
		a, ok := strings.CutPrefix(parts[1], "a=")
		if !ok || !isSASLName(a) {
			return m, badMsg("client first", s)
		}
		m.AuthzID = a
	}
	rest := parts[2:]
	if r, ok := strings.CutPrefix(rest[0], "m="); ok {
		if !allOf(r, valueChar) || len(rest) < 3 {
			return m, badMsg("client first", s)
		}
		m.Reserved, rest = r, rest[1:]
	}
	name, ok1 := strings.CutPrefix(rest[0], "n=")
	nonce, ok2 := strings.CutPrefix(rest[1], "r=")
	if !ok1 || !ok2 || !isSASLName(name) || !allOf(nonce, printableChar) {
		return m, badMsg("client first", s)
	}
	m.SASLName, m.Nonce = name, nonce
	var ok bool
	if m.Extensions, ok = parseExtensions(rest[2:]); !ok {
		return m, badMsg("client first", s)
	}
	return m, nil
}

// Bare is the client-first-message-bare: the message without its gs2
// header, part of the AuthMessage.
func (m ClientFirst) Bare() string {
	var b strings.Builder
	if m.Reserved != "" {
		b.WriteString("m=" + m.Reserved + ",")
	}
	b.WriteString("n=" + m.SASLName + ",r=" + m.Nonce)
	appendExtensions(&b, m.Extensions)
	return b.String()
}

// GS2Header is "n," [a=authzid] ",".
func (m ClientFirst) GS2Header() string {
	if m.AuthzID == "" {
		return "n,,"
	}
	return "n,a=" + m.AuthzID + ","
}

func (m ClientFirst) String() string { return m.GS2Header() + m.Bare() }

// Extension returns the value of the extension key, if sent.
func (m ClientFirst) Extension(key string) (string, bool) {
	for _, e := range m.Extensions {
		if e.Key == key {
			return e.Value, true
		}
	}
	return "", false
}

// Username decodes a saslname (RFC 5802: =2C is ',' and =3D is '='), as
// Kafka's ScramFormatter.username.
func Username(saslName string) string {
	return strings.ReplaceAll(strings.ReplaceAll(saslName, "=2C", ","), "=3D", "=")
}

// SASLName encodes a user name as a saslname.
func SASLName(user string) string {
	return strings.ReplaceAll(strings.ReplaceAll(user, "=", "=3D"), ",", "=2C")
}

// ParseClientFinal parses a client-final-message.
func ParseClientFinal(msg []byte) (ClientFinal, error) {
	s := string(msg)
	var m ClientFinal
	parts := strings.Split(s, ",")
	if len(parts) < 3 {
		return m, badMsg("client final", s)
	}
	c, ok1 := strings.CutPrefix(parts[0], "c=")
	r, ok2 := strings.CutPrefix(parts[1], "r=")
	p, ok3 := strings.CutPrefix(parts[len(parts)-1], "p=")
	if !ok1 || !ok2 || !ok3 || !isBase64(c) || !allOf(r, printableChar) || !isBase64(p) {
		return m, badMsg("client final", s)
	}
	exts, ok := parseExtensions(parts[2 : len(parts)-1])
	if !ok {
		return m, badMsg("client final", s)
	}
	var err1, err2 error
	m.ChannelBinding, err1 = base64.StdEncoding.DecodeString(c)
	m.Proof, err2 = base64.StdEncoding.DecodeString(p)
	if err1 != nil || err2 != nil {
		return m, badMsg("client final", s)
	}
	m.Nonce, m.Extensions = r, exts
	m.WithoutProof = s[:strings.LastIndexByte(s, ',')]
	return m, nil
}

func (m ClientFinal) String() string {
	var b strings.Builder
	b.WriteString("c=" + base64.StdEncoding.EncodeToString(m.ChannelBinding) + ",r=" + m.Nonce)
	appendExtensions(&b, m.Extensions)
	b.WriteString(",p=" + base64.StdEncoding.EncodeToString(m.Proof))
	return b.String()
}

// ParseServerFirst parses a server-first-message (the client's side).
func ParseServerFirst(msg []byte) (ServerFirst, error) {
	s := string(msg)
	var m ServerFirst
	parts := strings.Split(s, ",")
	if len(parts) > 0 && strings.HasPrefix(parts[0], "m=") {
		parts = parts[1:]
	}
	if len(parts) < 3 {
		return m, badMsg("server first", s)
	}
	r, ok1 := strings.CutPrefix(parts[0], "r=")
	salt, ok2 := strings.CutPrefix(parts[1], "s=")
	it, ok3 := strings.CutPrefix(parts[2], "i=")
	if !ok1 || !ok2 || !ok3 || !allOf(r, printableChar) || !isBase64(salt) ||
		!allOf(it, func(c byte) bool { return c >= '0' && c <= '9' }) {
		return m, badMsg("server first", s)
	}
	if _, ok := parseExtensions(parts[3:]); !ok {
		return m, badMsg("server first", s)
	}
	n, err := strconv.Atoi(it)
	if err != nil || n <= 0 {
		return m, badMsg("server first", s)
	}
	m.Nonce, m.Iterations = r, n
	if m.Salt, err = base64.StdEncoding.DecodeString(salt); err != nil {
		return m, badMsg("server first", s)
	}
	return m, nil
}

func (m ServerFirst) String() string {
	return "r=" + m.Nonce + ",s=" + base64.StdEncoding.EncodeToString(m.Salt) + ",i=" + strconv.Itoa(m.Iterations)
}

// ParseServerFinal parses a server-final-message (the client's side).
func ParseServerFinal(msg []byte) (ServerFinal, error) {
	s := string(msg)
	var m ServerFinal
	if e, ok := strings.CutPrefix(s, "e="); ok {
		if !allOf(e, safeChar) {
			return m, badMsg("server final", s)
		}
		m.Error = e
		return m, nil
	}
	parts := strings.Split(s, ",")
	v, ok := strings.CutPrefix(parts[0], "v=")
	if !ok || !isBase64(v) {
		return m, badMsg("server final", s)
	}
	if _, ok := parseExtensions(parts[1:]); !ok {
		return m, badMsg("server final", s)
	}
	sig, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return m, badMsg("server final", s)
	}
	m.Signature = sig
	return m, nil
}

func (m ServerFinal) String() string {
	if m.Error != "" {
		return "e=" + m.Error
	}
	return "v=" + base64.StdEncoding.EncodeToString(m.Signature)
}
