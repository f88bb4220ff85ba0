package security

import (
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"
)

// PrincipalTypeUser is the type of every principal Kafka's principal
// builder makes.
const PrincipalTypeUser = "User"

// Principal is an authenticated identity, Kafka's KafkaPrincipal: a type
// ("User") and a name. ACLs name principals as "Type:name".
type Principal struct {
	Type string
	Name string
}

// Anonymous is the principal of a connection that did not authenticate:
// PLAINTEXT listeners, and SSL listeners whose client sent no certificate
// (Kafka's KafkaPrincipal.ANONYMOUS).
var Anonymous = Principal{Type: PrincipalTypeUser, Name: "ANONYMOUS"}

// User returns the principal User:name.
func User(name string) Principal { return Principal{Type: PrincipalTypeUser, Name: name} }

// String is "Type:name", the form ACLs and super.users use.
func (p Principal) String() string { return p.Type + ":" + p.Name }

// ParsePrincipal parses "Type:name" (Kafka's SecurityUtils.parseKafkaPrincipal):
// the first colon splits type from name, and neither may be empty.
func ParsePrincipal(s string) (Principal, error) {
	typ, name, ok := strings.Cut(s, ":")
	if !ok || typ == "" || name == "" {
		return Principal{}, fmt.Errorf("principal %q is not of the form Type:name", s)
	}
	return Principal{Type: typ, Name: name}, nil
}

// Short names of attribute types in an RFC 2253 string, as Java's
// X500Principal.getName() writes them; other types are written as their
// dotted OID with a #hex value. This is the distinguished name
// ssl.principal.mapping.rules are matched against, so it must be Java's.
var rfc2253Keywords = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.9":                    "STREET",
	"0.9.2342.19200300.100.1.25": "DC",
	"0.9.2342.19200300.100.1.1":  "UID",
}

// DistinguishedName formats a certificate's raw subject (its DER
// RDNSequence) as RFC 2253 text the way Java's X500Principal.getName()
// does: the most significant RDN last, "CN=alice,OU=eng,O=Example,C=US",
// multi-valued RDNs joined by "+", known keywords by name and other
// attribute types as OID=#hex of the value's DER encoding.
func DistinguishedName(rawSubject []byte) (string, error) {
	var seq []rawRDNSET
	rest, err := asn1.Unmarshal(rawSubject, &seq)
	if err != nil {
		return "", fmt.Errorf("security: subject: %w", err)
	}
	if len(rest) > 0 {
		return "", fmt.Errorf("security: subject: %d trailing bytes", len(rest))
	}
	var b strings.Builder
	for i := len(seq) - 1; i >= 0; i-- {
		if i < len(seq)-1 {
			b.WriteByte(',')
		}
		for j, atv := range seq[i] {
			if j > 0 {
				b.WriteByte('+')
			}
			oid := atv.Type.String()
			kw, known := rfc2253Keywords[oid]
			var s string
			if known {
				if _, err := asn1.Unmarshal(atv.Value.FullBytes, &s); err == nil {
					b.WriteString(kw)
					b.WriteByte('=')
					b.WriteString(escapeRFC2253(s))
					continue
				}
			}
			b.WriteString(oid)
			b.WriteString("=#")
			b.WriteString(hex.EncodeToString(atv.Value.FullBytes))
		}
	}
	return b.String(), nil
}

// rawRDNSET is one relative distinguished name with its values as
// encoded (the SET suffix makes encoding/asn1 read a SET OF).
type rawRDNSET []rawATV

type rawATV struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// escapeRFC2253 escapes a value as RFC 2253 section 2.4 asks: the
// special characters, a leading '#' or space and a trailing space.
func escapeRFC2253(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case strings.ContainsRune(`,+"\<>;`, r),
			i == 0 && (r == '#' || r == ' '),
			i+size == len(s) && r == ' ':
			b.WriteByte('\\')
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String()
}
