// Package logfile is one partition's log, stored as Kafka stores it: a
// directory of segments, each a .log of RecordBatch v2 bytes exactly as the
// producer sent them plus a sparse .index and a .timeindex (package
// mmapindex).
//
// # Directory layout (part of the format: never change)
//
//	<log.dirs>/
//	  recovery-point-offset-checkpoint   text: version, count, "topic partition offset" lines
//	  log-start-offset-checkpoint        same format
//	  cleaner-offset-checkpoint          same format: first dirty offset of compacted logs
//	  .kafka_cleanshutdown               present only between a clean Close and the next open
//	  <topic>-<partition>/
//	    00000000000000000000.log         segment named by its base offset, %020d
//	    00000000000000000000.index       int32 relOffset, int32 position
//	    00000000000000000000.timeindex   int64 timestamp, int32 relOffset
//	    <base>.log.cleaned, <base>.log.<next>.swap   compaction in progress (compact.go)
//
// The batches are RecordBatch v2 as package record defines them (its
// doc.go has the byte layout); this package reads their headers through
// record.ParseHeader when it scans a segment, and appends a record.Batches
// whose headers were parsed once by whoever validated them (the produce
// path, a follower's fetch): it stamps base offsets with
// Batches.AssignOffsets and indexes from the carried headers.
// A batch that fails record's checks is record.ErrCorrupt, and so is a
// segment whose indexes disagree with its batches.
//
// # Invariants
//
//  1. One goroutine at a time changes a Log (append, roll, truncate,
//     retention; Log.mu). Readers take no lock: they load the segment list
//     and the published end offset atomically, and read no byte past a
//     segment's published size, so they never see a partial batch.
//  2. Offsets are contiguous from a batch's baseOffset to baseOffset +
//     lastOffsetDelta, and strictly increase across batches and segments.
//  3. An index entry is written only after the batch it points to is in the
//     .log; a published size is stored only after its bytes and entries.
//  4. A segment's files stay open and mapped while any Region or lookup holds
//     a reference to it, even after retention or truncation replaced it.
//  5. A failed write (a batch, an index's next step of reserved disk, an
//     fsync) makes the log refuse appends until it is reopened (the error
//     is sticky), and nothing of the failed append becomes visible, index
//     entries included.
//  6. Every segment from the recovery point on is scanned after an unclean
//     shutdown; the log is cut at the first invalid batch and later segments
//     are deleted. Everything below the recovery point has been fsynced.
//  7. Opening costs what the valid index entries and the scanned batches
//     cost, never what the maximum index size costs: a rebuild zeroes
//     only the entries a load found (or truncates a corrupt file, or
//     replaces the files while an older segment object may still map
//     them), and a healthy empty segment is neither rebuilt nor read.
package logfile
