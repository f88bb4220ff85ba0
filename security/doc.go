// Package security owns what a connection's security depends on, as
// Kafka's common.security and KafkaConfig's listener code do: the
// listeners (names, security protocols, advertised endpoints, the
// inter-broker and control-plane listeners), each listener's TLS
// configuration loaded from Kafka's keystore types, and the Principal a
// connection authenticates as.
//
// # Listeners
//
// ResolveListeners reads Kafka's keys together (listeners,
// advertised.listeners, listener.security.protocol.map,
// inter.broker.listener.name or security.inter.broker.protocol,
// control.plane.listener.name) and checks them in Kafka's order with
// Kafka's messages (KafkaConfigTest's cases are this package's tests).
// Listener names are upper case; a listener's own keys are
// listener.name.<name in lower case>.<key> (ConfigPrefix).
//
// # TLS
//
// SSLConfig is a listener's ssl.* keys. LoadKeystore and LoadTruststore
// read PEM (files, or inline ssl.keystore.key / certificate.chain with an
// encrypted PKCS#8 key under ssl.key.password), PKCS12
// (software.sslmate.com/src/go-pkcs12) and JKS
// (github.com/pavlo-v-chernykh/keystore-go), with Kafka's rules for which
// keys go together. ServerTLS serves a listener: its tls.Config hands each
// handshake the state in force, which Reload replaces (KIP-226 dynamic
// keystores: new connections get the new certificate, open ones keep
// theirs). ClientTLS and Dialer are the other end, for a broker
// connecting to another's TLS listener with
// ssl.endpoint.identification.algorithm.
//
// # Principals
//
// Principal is Kafka's KafkaPrincipal. A PLAINTEXT connection, and an SSL
// one whose client sent no certificate, is Anonymous. A client
// certificate's subject, written as Java's X500Principal.getName() writes
// it (DistinguishedName), goes through ssl.principal.mapping.rules
// (PrincipalMapper, Kafka's SslPrincipalMapper) to User:<name>. A SASL
// mechanism sets the principal of SASL listeners' connections; netpoll
// carries it on each connection for the handlers and the authorizer.
//
// # Invariants
//
//  1. Nothing here holds a lock across I/O: ServerTLS's state is an
//     immutable value behind an atomic pointer; a handshake reads it once.
//  2. A refused Reload changes nothing; an accepted one is seen by every
//     handshake that starts after it returns.
//  3. Loading a store never panics on bad bytes: every store type fails
//     with an error wrapping ErrKeystore (and ErrWrongPassword when a
//     password check fails).
//  4. The package imports nothing of the module: config, netpoll, server
//     and the handlers all import it.
package security
