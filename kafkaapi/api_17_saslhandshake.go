package kafkaapi

// SaslHandshake (key 17), versions 0-1.
//
// On a SASL listener the handshake is served before the connection's
// first request, by its authenticator (sasl.go), which v0 and v1 select
// the framing of the tokens after it (KIP-152); and again after it, when
// sessions expire, to begin a re-authentication (KIP-368). What reaches
// this handler is a handshake nobody expects: on a listener without SASL,
// or on an authenticated connection that may not re-authenticate now. It
// is answered ILLEGAL_SASL_STATE with no mechanisms, as Kafka's KafkaApis
// answers it.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

const saslHandshakeKey = 17

func init() { register(saslHandshakeKey, 0, 1, serveSASLHandshake) }

func serveSASLHandshake(rc *reqCtx, _ kmsg.Request) *netpoll.Response {
	resp := kmsg.NewPtrSASLHandshakeResponse()
	resp.ErrorCode = kerr.IllegalSaslState.Code
	return rc.respond(resp)
}
