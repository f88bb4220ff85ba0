package acl

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"samsa/security"
)

// Principal is who a connection is authenticated as (Kafka's
// KafkaPrincipal): a type ("User") and a name, as package security's
// listeners and authenticators set it. Until a connection authenticates,
// it is Anonymous.
type Principal = security.Principal

// UserType is the principal type of users, the only one Kafka's
// authenticators produce.
const UserType = security.PrincipalTypeUser

// Anonymous is the principal of a connection that did not authenticate
// (PLAINTEXT, or SSL without a client certificate).
var Anonymous = security.Anonymous

// WildcardPrincipal, in an ACL, stands for every user.
var WildcardPrincipal = Principal{Type: UserType, Name: Wildcard}

// ParsePrincipal reads "type:name", split at the first colon as Kafka's
// SecurityUtils.parseKafkaPrincipal does ("User:a:b" is user "a:b").
func ParsePrincipal(s string) (Principal, error) {
	typ, name, ok := strings.Cut(s, ":")
	if !ok || s == "" {
		return Principal{}, fmt.Errorf("%w: expected a principal as principalType:principalName but got %q", ErrInvalid, s)
	}
	return Principal{Type: typ, Name: name}, nil
}

// ParseSuperUsers reads super.users: principals separated by semicolons,
// each trimmed; empty for none.
func ParseSuperUsers(s string) ([]Principal, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []Principal
	for _, part := range strings.Split(s, ";") {
		p, err := ParsePrincipal(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("super.users: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// HostOf is the host an ACL names a client by: its IP address written as
// Java's InetAddress.getHostAddress writes it, since that is the string
// Kafka compares with an ACL's host. IPv4 (also an IPv4-mapped IPv6
// address) is dotted decimal; IPv6 is eight groups of lower-case hex
// without leading zeros and without "::" compression
// (0:0:0:0:0:0:0:1), with "%zone" when it has one. An address that is not
// an IP (an in-memory connection) is its String.
func HostOf(addr net.Addr) string {
	var ap netip.AddrPort
	switch a := addr.(type) {
	case *net.TCPAddr:
		ap = a.AddrPort()
	case *net.UDPAddr:
		ap = a.AddrPort()
	default:
		if addr == nil {
			return ""
		}
		if p, err := netip.ParseAddrPort(addr.String()); err == nil {
			ap = p
		} else {
			return addr.String()
		}
	}
	return javaHostAddress(ap.Addr())
}

func javaHostAddress(a netip.Addr) string {
	if a.Is4In6() {
		a = a.Unmap()
	}
	if a.Is4() || !a.IsValid() {
		return a.String()
	}
	b := a.As16()
	var s strings.Builder
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			s.WriteByte(':')
		}
		s.WriteString(strconv.FormatUint(uint64(b[i])<<8|uint64(b[i+1]), 16))
	}
	if z := a.Zone(); z != "" {
		s.WriteString("%" + z)
	}
	return s.String()
}
