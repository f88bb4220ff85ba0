// Package broker is samsa broker: it runs the broker (package server) with
// Kafka's server.properties keys until a stop signal. It is the one
// command package that imports the broker's layers.
//
// Invariants (the user-visible conventions it keeps):
//  1. The configuration is Kafka's keys from a file (--config FILE, or
//     FILE as the one argument; naming it both ways is a usage error),
//     then each --override key=value in order (kafka-server-start.sh's
//     convention). An unknown key is a logged warning; a value that does
//     not parse prints "samsa broker: ..." on stderr and exits 2.
//  2. The broker logs to stderr, as text or, with log.format=json, JSON
//     lines, at --log-level (debug, info, warn or error; anything else is
//     a usage error).
//  3. A broker that cannot start logs "cannot start" with the reason and
//     exits 1 (2 when the reason is a configuration value).
//  4. The first SIGINT or SIGTERM shuts the broker down cleanly, within
//     30 s, and exits 0 (1 if the shutdown reported an error). The same
//     stop arriving again within a second is ignored; a signal a second
//     or more after the first exits 1 at once, without a clean shutdown.
//     Signals are caught before the broker starts, so one that comes
//     right after "broker started" still gets a clean shutdown.
//
// Locks: none; the command's goroutine waits for the signal, and one more
// goroutine watches for a second one during the shutdown.
package broker
