// Package netwatch is how samsa's client commands notice that the brokers
// are gone, and say so (package command's sessions use it).
//
// franz-go retries a broker it cannot reach for as long as it is asked to:
// a consumer polls forever, and an idempotent producer must not fail a
// record it has sent until it knows whether the broker wrote it. So the
// commands watch the connections themselves: a Watch is a kgo hook that
// sees every dial, write and read; when nothing has succeeded for
// --timeout since a failure, the watchdog ends the session's context with
// an error naming the broker and what went wrong. The same record turns
// kadm's and kgo's errors ("request ListGroups has 1 separate shard
// errors, first: unable to dial: ...") into ones that name the broker.
//
// Invariants:
//  1. Only a response read counts as a broker being there: a dial or a
//     write that succeeds does not end a failure (a stopped broker's
//     kernel still accepts connections and takes writes), and errors of
//     the command's own doing (a canceled context, a closed client) are
//     not failures.
//  2. Connections gives up, with an *UnreachableError naming the last
//     broker that failed and how, once failures have gone on for the
//     timeout with no response read in between; with quiet set, also
//     once no response at all has come for quiet.
//  3. Progress gives up once records have been outstanding for the
//     timeout with no acknowledgement: naming the failing broker if there
//     is one, else the last one that answered ("no acknowledgement of N
//     records").
//  4. A watchdog checks every timeout/20, between 10 ms and 250 ms, so it
//     gives up at most that long after the timeout; it ends with the
//     session's context and cancels it at most once.
//  5. Explain returns an *UnreachableError, and any error that is neither
//     a network failure, a deadline nor kadm's shard errors, unchanged. A
//     network failure becomes "cannot reach BROKER: REASON" (the reason in
//     a few words), a deadline names the broker last seen failing or the
//     seeds, and kadm's shard errors become one message naming each
//     broker once, "partly failed" when some shards succeeded.
//
// Locks: Watch.mu guards what the hooks record (when failures began, the
// last error and its broker, the last response and its broker); a leaf.
// Progress is atomics, as producers' promises update it from kgo's
// goroutines.
package netwatch
