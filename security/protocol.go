package security

import (
	"fmt"
	"strings"
)

// Protocol is a listener's security protocol, Kafka's SecurityProtocol.
// Its value is Kafka's id, which UpdateMetadata carries on the wire (part
// of the protocol: never change).
type Protocol int16

const (
	Plaintext     Protocol = 0 // PLAINTEXT: no TLS, no SASL
	SSL           Protocol = 1 // SSL: TLS, principal from the client certificate
	SASLPlaintext Protocol = 2 // SASL_PLAINTEXT: SASL without TLS
	SASLSSL       Protocol = 3 // SASL_SSL: SASL over TLS
)

// Protocols lists the security protocols in Kafka's order.
var Protocols = []Protocol{Plaintext, SSL, SASLPlaintext, SASLSSL}

var protocolNames = [...]string{"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}

func (p Protocol) String() string {
	if p >= 0 && int(p) < len(protocolNames) {
		return protocolNames[p]
	}
	return fmt.Sprintf("Protocol(%d)", int16(p))
}

// TLS reports whether connections of the protocol are encrypted.
func (p Protocol) TLS() bool { return p == SSL || p == SASLSSL }

// SASL reports whether clients authenticate with SASL before their first
// request.
func (p Protocol) SASL() bool { return p == SASLPlaintext || p == SASLSSL }

// ParseProtocol returns the protocol named s, case-insensitively, as
// Kafka's SecurityProtocol.forName.
func ParseProtocol(s string) (Protocol, error) {
	for i, n := range protocolNames {
		if strings.EqualFold(s, n) {
			return Protocol(i), nil
		}
	}
	return 0, fmt.Errorf("unknown security protocol %q", s)
}

// ProtocolForID returns the protocol with Kafka's id, as UpdateMetadata
// carries it.
func ProtocolForID(id int16) (Protocol, bool) {
	if id < 0 || int(id) >= len(protocolNames) {
		return 0, false
	}
	return Protocol(id), true
}
