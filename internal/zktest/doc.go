// Package zktest runs a real ZooKeeper server for tests: the one Debian's
// `zookeeper` package installs (3.8), started as a child JVM on a free
// loopback port with its own data directory.
//
// The server is tuned for tests: tickTime is 200 ms, so sessions may be as
// short as 400 ms (2 ticks), and as long as 60 s (maxSessionTimeout: a
// session that must outlive a restart of the JVM); the admin HTTP server
// is off; fsync is off; the four-letter words ruok, srvr, stat, mntr, cons,
// dump and wchs answer. Its log goes to zookeeper.log in its directory; a
// server that fails to start, and every test that fails while using one,
// reports the tail of that log.
//
// Two ways to get one:
//
//   - Start(tb) starts a private server, stopped and deleted when the test
//     ends. Tests that stop, restart or kill ZooKeeper use one of these.
//   - Shared(tb) returns the package's one shared server, started on first
//     use. The test package's TestMain must call Main(m), which stops it
//     after the tests. Each test takes its own chroot with ConnectString(tb),
//     so tests sharing the server do not see each other's znodes.
//
// StartWith starts a private server with security: a digest super user,
// and a secure client port (SecureAddr) served by NettyServerCnxnFactory
// with Debian's libnetty-java, asking client certificates or not (with
// "need", a certificate's subject is the session's x509 identity).
//
// A missing java or ZooKeeper jar fails the test (never skips it): the message
// names the Debian package to install.
//
// Every JVM is started with PR_SET_PDEATHSIG=SIGKILL from a thread that lives
// as long as the JVM, so a test binary that dies (panic, timeout) does not
// leave ZooKeeper servers behind.
//
// Invariants:
//  1. Stop, Start, Restart and Kill keep a server's port and data
//     directory, so clients reconnect to the same address and find their
//     sessions and znodes.
//  2. Only a private server may be stopped, started or killed: doing so
//     to the shared one is a programmer error and panics.
//  3. ConnectString's chroot is unique within the test binary.
//  4. The parent of every chroot (/zktest) is created open when a server
//     is new, so a test whose client creates its chroot with secure ACLs
//     cannot lock the other tests out of creating theirs.
//
// Locks: Server.mu guards the server's process (nil while stopped) and is
// released before waiting for the JVM to serve or to exit. The shared
// server's state has its own mutex, taken before a Server.mu (Shared asks
// whether the server runs, Run stops it); Chroot's counter and each
// Proxy's connections and fault switches have one each, leaves.
package zktest
