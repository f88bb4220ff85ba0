// Package kclient is the broker's own Kafka protocol client (Kafka's
// NetworkClient as brokers use it), for requests one broker sends another:
// the controller's LeaderAndIsr, UpdateMetadata and StopReplica, a
// broker's ControlledShutdown and AlterPartition, a follower's Fetch
// (fetch.go: buffers reused, the answer decoded in place).
// Messages are kmsg's; a Conn holds one connection to one broker. A
// broker's inter-broker listener may need TLS (WithDial with
// security.Dialer) and SASL (SASLDial: the exchange runs when the
// connection is made, before the Conn sends anything).
//
// Invariants:
//  1. One request at a time per Conn, in the order callers get its lock;
//     a response whose correlation id is not the request's is an error.
//  2. A request goes at the highest version both sides know: the lower of
//     kmsg's and the peer's maximum, from the ApiVersions (v3) sent when
//     the connection is made. A key the peer does not serve is
//     ErrUnsupported, and nothing is sent; so is a request whose caller
//     needs a version the peer does not reach (RequestAtLeast).
//  3. A Conn never retries: a failed round trip closes the connection and
//     returns the error, and the next Request dials and negotiates again.
//     A caller retries by calling Request again, knowing that a request
//     whose answer was lost may have been applied (a controller request's
//     epochs make a repeat harmless).
//  4. Every round trip is bounded: by ctx's deadline, or 30 s when it has
//     none, and cancelling ctx ends it at once; dialing takes at most 10 s.
//  5. A response frame is refused before it is allocated when its size is
//     below 4 or above 256 MiB.
//  6. A SASL connection is used only after its exchange succeeded on both
//     sides (SCRAM: the server's signature verified), and not after 90% of
//     the session lifetime the server gave it: the next Request dials and
//     authenticates again.
//  7. Fetch, a follower's request, allocates nothing in the steady state:
//     it encodes the request into a frame the Conn keeps, reads the answer
//     into another (each grown when too small, never shrunk), decodes it
//     in place into the caller's response (readFetchResponse, held to
//     kmsg's decoding by its tests), and arms the watch of the caller's
//     context once. The answer's record batches and topic names alias the
//     Conn's frame until its next Fetch; nothing else a Conn returns
//     aliases anything.
//
// Locks: Conn.mu serializes the requests of a Conn and guards its
// connection, the peer's versions, the correlation id, Fetch's frames and
// the context watch; it is held for the whole round trip, dial included,
// and is a leaf.
package kclient
