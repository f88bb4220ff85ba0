// Package saslauth authenticates the connections of a SASL listener
// before their first request reaches the handlers, as Kafka's
// SaslServerAuthenticator does: ApiVersions, SaslHandshake and
// SaslAuthenticate (KIP-152) or, after SaslHandshake v0, the raw token
// framing librdkafka uses, in front of a mechanism of package
// security/sasl; and, when connections.max.reauth.ms is set, the session
// that follows, its expiry and re-authentication on the open connection
// (KIP-368). netpoll runs it (netpoll.SessionAuthenticator); the state
// machine is the table at the top of authenticator.go.
//
// Requests are decoded as kafkaapi decodes them: header tags bounded by
// internal/tags, flexible bodies walked by kafkaapi/reqcheck before kmsg
// reads them. ApiVersions is answered by the handlers themselves
// (Config.APIVersions), so that a client sees the same versions before and
// after authentication.
//
// Invariants:
//  1. No request but ApiVersions, SaslHandshake and SaslAuthenticate is
//     served before authentication completes; one inside the exchange is
//     answered ILLEGAL_SASL_STATE where its response can say so, and the
//     connection closes (netpoll delays the answer to a failure by
//     connection.failed.authentication.delay.ms); what is not a SASL
//     exchange at all closes at once (netpoll.ErrNotSASL).
//  2. The principal is set (User:<name>) only when the mechanism has
//     succeeded, and a re-authentication cannot change it.
//  3. Decoding never panics, whatever the bytes (FuzzAuthenticate).
//  4. An authenticator belongs to one connection and runs on its
//     goroutine: it has no lock.
package saslauth
