// Package sasl owns the SASL mechanisms a broker serves and the
// credentials they check, as Kafka's common.security.plain,
// common.security.scram and JaasConfig do: PLAIN (RFC 4616) against the
// user_<name> options of a JAAS config, SCRAM-SHA-256 and SCRAM-SHA-512
// (RFC 5802, RFC 7677) against credentials stored as Kafka stores them,
// and the client side of both for a broker's connections to other
// brokers. The Kafka framing of the exchange (SaslHandshake,
// SaslAuthenticate, the state machine before the first request) is
// package kafkaapi's; netpoll runs it before the first request.
//
// # JAAS
//
// ParseJAAS reads sasl.jaas.config values with the grammar of Kafka's
// JaasConfig (a login module, a control flag, key=value options, ';'),
// token for token as Java's StreamTokenizer reads them there.
//
// # SCRAM credentials
//
// A ScramCredential is salt, stored key, server key and iterations; its
// String is Kafka's stored form (part of the format shared with Kafka's
// /config/users/<user> znodes: never change):
//
//	salt=<base64>,stored_key=<base64>,server_key=<base64>,iterations=<n>
//
// CredentialCache holds every user's credentials for the SCRAM servers;
// the server fills it from the metadata store and keeps it current.
//
// # Messages
//
// SCRAM messages are parsed with Kafka's grammar (scrammsg.go) before
// github.com/xdg-go/scram's server conversation sees them. The one
// client-final message the library refuses and Kafka accepts, librdkafka's
// (before 2.6.1) doubled nonce, is verified here (scram.go).
//
// # Invariants
//
//  1. No parser panics, whatever the bytes (FuzzJAAS, FuzzScramMessages,
//     FuzzPlain); what a parser accepts, its writer writes back to
//     something that parses to the same value.
//  2. Every failed Step wraps ErrFailed; its message reaches the client
//     only when it is a *Failure (ClientMessage), which never tells
//     whether a user exists.
//  3. Passwords and proofs are compared in constant time.
//  4. A Server is used by one goroutine; CredentialCache is safe for any
//     number: lookups load an immutable map, updates replace it under
//     CredentialCache.mu (a leaf lock).
package sasl
