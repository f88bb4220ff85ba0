// Package compact is log compaction (cleanup.policy=compact), as Kafka's
// log cleaner does it: of every key, keep the record with the highest
// offset; drop null-key records; drop tombstones (null values) once they
// are older than delete.retention.ms; drop the records of aborted
// transactions, and the markers that guard nothing once their delete
// horizon has passed (txn.go).
//
// It owns the key map (offsetmap.go, Kafka's OffsetMap), what a cleaned
// batch keeps (filter.go and txn.go), one pass over a log (Run: the
// cleanable segments, grouped into cleaned ones; Kafka's Cleaner), and the
// Cleaner that runs passes over a log directory's compacted logs when they
// are dirty enough, keeping their first dirty offsets in CheckpointFile
// (cleaner.go; Kafka's LogCleaner and LogCleanerManager).
//
// It works on a log through the Log interface, which package logfile's
// Log provides: the segments a pass may rewrite, held and read batch by
// batch; their aborted transactions; a cleaned file written in order; and
// the swap of a group of segments for it. The swap and its crash safety
// (the commit point, finishing an interrupted swap at open) are the log's:
// this package names no file but its checkpoint and opens none but that.
//
// # Invariants
//
//  1. Offsets never change: a rewritten batch keeps its base offset, its
//     lastOffsetDelta and its producer fields, so fetches, producer state
//     and offset lookups see the same offsets as before, with gaps.
//  2. Of every key the map holds, the record with the highest offset in
//     the cleaned range stays. The map holds the keys of [first dirty
//     offset, end): a bounded map (Options.MaxKeys) that fills ends there,
//     and records at or past its end stay whatever their key; the next
//     pass goes on from there.
//  3. Never cleaned: the active segment, a segment that reaches the last
//     stable offset (so no open transaction is cleaned), and from the
//     first segment younger than min.compaction.lag.ms on.
//  4. A batch that keeps no record goes, unless it is its producer's last
//     batch in the range: idempotent producers need its sequence and
//     epoch, so it stays, empty, as in Kafka.
//  5. A tombstone goes only once older than delete.retention.ms, and only
//     if the pass read every batch of the range: a compressed batch kept
//     unread (Options.KeepCompressed) may hide an older value of its key.
//  6. A pass whose log's segments change under it (retention, truncation)
//     gives up with no change to them (ErrRaced): what it swapped in
//     before stays, and the next pass goes on from there.
//
// # Locks
//
// Cleaner.mu: one pass at a time; it guards the first dirty offsets. A
// pass takes each log's own locks under it (logfile's Log.mu, for the
// swap). Run takes no lock of its own: one pass at a time per log is its
// caller's to ensure.
package compact
