// Package netpoll is the connection layer of the broker (the part of
// Kafka's SocketServer that accepts, reads and writes): it accepts TCP
// connections, cuts the byte stream into Kafka request frames, hands each
// frame to a [Handler] and writes the handler's [Response] back, with file
// regions sent by sendfile(2) through package zerocopy.
//
// # Framing
//
// Kafka frames requests and responses the same way (part of the wire
// format: never change):
//
//	+----------------+--------------------------------------+
//	| size int32 BE  | size bytes                           |
//	+----------------+--------------------------------------+
//	  request:  size bytes = request header + request body
//	  response: size bytes = response header + response body
//
// netpoll does not look inside a frame: the handler parses the request
// header (api key, version, correlation id, client id) itself. A response
// is a sequence of parts, byte slices and file regions; netpoll computes
// its size prefix from the parts.
//
// # Model
//
// One goroutine serves one connection: read a frame, call the handler,
// write the response, repeat. As in Kafka, a connection has at most one
// request in processing at a time; requests a client pipelines wait in the
// socket buffer. A handler may block (a long-polling fetch) without
// holding up any other connection.
//
// Each response is written as soon as the handler returns it, never held
// back to be coalesced with the next: a later request on the connection
// may be one that blocks, and an earlier response must not wait for it.
// Byte parts go out with one writev; file regions follow with sendfile;
// TCP_CORK around a response with regions makes its header bytes share a
// segment with the region's first bytes (one segment instead of two for a
// small fetch, measured with TCP_INFO in BenchmarkFetchResponse).
//
// # Listeners and security
//
// Serve serves a PLAINTEXT listener; ServeListener any listener
// (Listener: its name, security protocol, TLS, authenticator). A
// connection of a TLS listener (SSL, SASL_SSL) handshakes on its own
// goroutine before its first frame, within Config.HandshakeTimeout; a
// connection of a SASL listener hands its frames to the listener's
// Authenticator, not to the Handler, until that reports it authenticated
// (the seam SASL mechanisms plug into, as Kafka's
// SaslServerAuthenticator). Before then a frame is bounded by
// Config.MaxAuthRequestBytes (sasl.server.max.receive.size), and a failed
// authentication is answered only after Config.FailedAuthDelay
// (connection.failed.authentication.delay.ms), then closed: one guess per
// delay per connection, while the other connections' goroutines go on. A
// SessionAuthenticator's sessions expire (KIP-368): it sees each later
// frame first, takes a re-authentication back from the Handler, and
// closes a connection whose session has expired. Each Conn carries its listener's name and
// protocol and its security.Principal: ANONYMOUS on PLAINTEXT, the
// certificate's mapped subject on SSL (ANONYMOUS without a client
// certificate), what the Authenticator set on SASL listeners. Handlers
// read it (Conn.Principal) to authorize requests.
//
// sendfile cannot encrypt: on a TLS connection a response, file regions
// included, is copied with pread into one write buffer of the connection
// (zerocopy.CopyBufferSize) and written through crypto/tls as full
// records; the plaintext path is unchanged and stays zero-copy. (Kernel
// TLS would restore sendfile; Go's crypto/tls does not offer it.)
//
// # Invariants
//
//  1. A size prefix is checked against Config.MaxRequestBytes before any
//     memory is taken for the frame. A negative size or one over the limit
//     closes the connection (Kafka's InvalidReceiveException) and is logged;
//     it never panics and never allocates the claimed size.
//  2. An idle connection holds no pooled buffer: its goroutine waits in a
//     read into a 128-byte array of its Conn, so its cost is that goroutine,
//     the net.Conn and the Conn (about 3 KiB). When bytes arrive the
//     connection borrows a read buffer from size-classed pools (4 KiB, or
//     the frame's size class) and returns it once every buffered frame has
//     been answered. Pipelined frames that arrive together are read with
//     one syscall and served in place, without copies. A frame larger than
//     1 MiB grows its buffer, at most doubling, as its bytes arrive, so a
//     size prefix alone cannot make the server take more than 1 MiB.
//  3. Handler.Serve is called once per frame, in arrival order, never
//     concurrently for one connection. Responses are written in the same
//     order, each completely before the next frame goes to the handler.
//  4. For every Response a handler returns, each region's release callback
//     and the OnDone callback run exactly once: after the part has been
//     written, or when the write fails or the connection has closed. (A
//     handler that panics returns no Response; releasing what it had
//     acquired is its own business.)
//  5. A handler panic is recovered, logged with its stack, and closes only
//     that connection.
//  6. Time is bounded everywhere a peer can stall: waiting for the next
//     frame (Config.IdleTimeout), receiving a frame once its first byte has
//     arrived (Config.ReadTimeout), writing one response, sendfile included
//     (Config.WriteTimeout), a TLS handshake (Config.HandshakeTimeout).
//     Expiry closes the connection.
//  7. At most Config.MaxConnections connections are served, and at most
//     Config.ConnectionsPerIP(ip) from one peer address; one accepted
//     beyond either is closed at once.
//  8. Shutdown stops accepting, cancels every Conn.Context, lets handlers
//     that are running finish and their responses be written, closes
//     connections waiting for a frame, and force-closes the rest when its
//     context ends. A frame still arriving when Shutdown begins is dropped
//     with its connection; clients retry on another connection.
//  9. No frame of a TLS listener's connection reaches the Handler before
//     its handshake has succeeded and its principal is set; a failed
//     handshake (plaintext bytes, garbage, a truncated handshake at the
//     timeout, a refused client certificate) closes the connection, is
//     logged at INFO and counted in Stats.AuthFailures. No frame of a SASL
//     listener's connection reaches the Handler before its Authenticator
//     is done; an authentication error is answered after
//     Config.FailedAuthDelay, then closes; a frame before authentication
//     larger than Config.MaxAuthRequestBytes is a failed authentication
//     and is never read. After authentication no frame reaches the Handler
//     that its SessionAuthenticator refused (an expired session) or took
//     for a re-authentication.
//  10. A TLS connection holds its write buffer only while it has frames to
//     answer, as the read buffer (invariant 2); the heap does not grow
//     with the size of the regions it sends.
//
// # Locks
//
// Each connection's state belongs to its goroutine (invariant 3). Two
// mutexes, both leaves (nothing is taken under them):
//
//   - Server.mu guards the listeners, the served connections and the
//     count of connections per peer address; Server.closing is set under
//     it, so no connection is added once Shutdown or Close has begun.
//   - Conn.ctxMu guards the connection's Context, made on first use, and
//     whether the connection has closed, so a Context asked for after the
//     close is already canceled.
//
// A connection's principal is an atomic pointer: SetPrincipal may race
// with readers on other goroutines. Counters are atomics.
package netpoll
