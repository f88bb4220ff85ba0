package kafkaapi

// SaslAuthenticate (key 36), versions 0-2.
//
// The tokens of a SASL exchange after SaslHandshake v1 (KIP-152), served
// by a SASL listener's authenticator (sasl.go) before the connection's
// first request: the mechanism's token back, SASL_AUTHENTICATION_FAILED
// with Kafka's message on a failure, and from v1 the session's lifetime
// (connections.max.reauth.ms, KIP-368) when the exchange completes; v2 is
// the flexible version. What reaches this handler comes after the
// exchange, or on a listener without SASL: ILLEGAL_SASL_STATE, as Kafka's
// KafkaApis answers it.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

const saslAuthenticateKey = 36

func init() { register(saslAuthenticateKey, 0, 2, serveSASLAuthenticate) }

func serveSASLAuthenticate(rc *reqCtx, _ kmsg.Request) *netpoll.Response {
	resp := kmsg.NewPtrSASLAuthenticateResponse()
	resp.ErrorCode = kerr.IllegalSaslState.Code
	resp.ErrorMessage = strptr("SaslAuthenticate request received after successful authentication")
	resp.SASLAuthBytes = []byte{}
	return rc.respond(resp)
}
