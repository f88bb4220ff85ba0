// Package logfile is one partition's log, stored as Kafka stores it: a
// directory of segments, each a .log of RecordBatch v2 bytes exactly as the
// producer sent them plus a sparse .index and a .timeindex (package
// mmapindex), and once an ABORT marker lands in it a .txnindex (package
// txnindex).
//
// It owns: Log, one partition's log (Kafka's UnifiedLog, LocalLog and
// LogSegment): append, reads as file regions (read.go), roll, flush,
// retention and DeleteRecords (retention.go), truncation (truncate.go),
// recovery (recover.go), keeping its leader epoch cache (package
// logfile/epochcache, Kafka's LeaderEpochFileCache) in step (epochs.go);
// Dir, one entry of log.dirs
// (Kafka's LogManager): its lock file, checkpoints (checkpoint.go),
// clean-shutdown marker and background loops for retention, flush.ms,
// checkpoints and the cleaner (dir.go); Cleaner with Log.Compact, log
// compaction (compact.go, Kafka's LogCleaner; compact_txn.go for
// transactions); and each segment's transaction index, when it is
// written, rebuilt and read (txnindex.go), with the last stable offset
// its owner's producer state sets the rule of (SetLastStableFunc). Every
// file but the lock file goes through package logfile/vfs, so tests can
// break it.
//
// # Directory layout (part of the format: never change)
//
//	<log.dirs>/
//	  .lock                              flock(2)ed while a Dir has the directory open
//	  recovery-point-offset-checkpoint   text: version, count, "topic partition offset" lines
//	  log-start-offset-checkpoint        same format
//	  replication-offset-checkpoint      same format: high watermarks (ManualHighWatermark only)
//	  cleaner-offset-checkpoint          same format: first dirty offset of compacted logs
//	  .kafka_cleanshutdown               present only between a clean Close and the next open
//	  <topic>-<partition>/
//	    00000000000000000000.log         segment named by its base offset, %020d
//	    00000000000000000000.index       int32 relOffset, int32 position
//	    00000000000000000000.timeindex   int64 timestamp, int32 relOffset
//	    00000000000000000000.txnindex    aborted transactions (package txnindex), once there is one
//	    leader-epoch-checkpoint          text: version 0, count, "epoch startOffset" lines
//	    <base>.<suffix>.deleted          a segment file removed while readers may hold it
//	    <base>.log.cleaned, <base>.log.<next>.swap   compaction in progress (compact.go)
//	  <topic>-<partition>.<nanos>-delete a deleted partition, removed in the background
//
// (Producer state's <base>.snapshot files live in the partition
// directories too; package producerstate owns them.)
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
//     shutdown; the log is cut at the first invalid batch, or at a hole in
//     the offsets between segments (not in a compacted log), and later
//     segments are deleted. Everything below the recovery point has been
//     fsynced, with the directory entries of the segments holding it.
//  7. Opening costs what the valid index entries and the scanned batches
//     cost, never what the maximum index size costs: a rebuild zeroes
//     only the entries a load found (or truncates a corrupt file, or
//     replaces the files while an older segment object may still map
//     them), and a healthy empty segment is neither rebuilt nor read.
//  8. A truncation is durable when it returns: the partition directory is
//     fsynced and, for a log of a Dir, the checkpoints are rewritten, so
//     no checkpoint claims a recovery point above the truncation. The
//     rewrite is group-committed: it waits for a write that began after
//     it, shared with every caller that came meanwhile.
//  9. The leader-epoch-checkpoint on disk covers every batch on disk: an
//     epoch assigned without a write (AssignEpochDeferred: a leadership,
//     fetched batches) is written before the first batch appended after
//     it.
//  10. A segment's transaction index entries have strictly increasing
//     lastOffsets, all in the segment's offsets [base, next): the markers
//     are its own. An entry is written, under Log.mu, by the append of its
//     marker, before that append is published or flushed, so a flush that
//     covers the marker covers the entry (Log.AppendValidatedTxn,
//     AppendAsFollowerTxn).
//  11. The entries a reader sees (AbortedTxns) are an immutable slice per
//     segment, replaced whole: fetches read them without locks or I/O.
//  12. After an unclean shutdown the entries of every scanned segment that
//     holds a control batch are rebuilt from the log by the producer
//     state's replay (TxnIndexRebuildFrom, RebuildTxnIndex); until then
//     the recovery point stays at or below the first such segment, so a
//     crash before the rebuild scans them again. A segment that holds no
//     control batch has no entry. An index that fails its sanity checks
//     (framing, version, order, offsets outside its segment), or that an
//     interrupted compaction swapped in, is rebuilt the same way; the
//     cleaner waits for the rebuild.
//
// # Locks
//
// Taken in this order, never the other way:
//
//  1. Cleaner.mu: one compaction pass at a time; guards the first dirty
//     offsets. A pass takes each log's Log.mu to swap its cleaned segments
//     in.
//  2. Log.mu: every change to the segment list and to the active
//     segment's bytes (append, roll, truncation, retention, DeleteRecords,
//     the swap of compacted segments, Close).
//  3. Log.flushMu: fsyncs and the recovery point. Taken under Log.mu by an
//     append that flush.messages makes durable, by a truncation and by
//     Close; alone by the background flush after a roll and by flush.ms.
//  4. Dir.ckSem: the checkpoint write slot. A truncation waits for a write
//     under its log's Log.mu and flushMu, to have the checkpoints
//     rewritten before it returns. Dir.ckMu, which guards the round of
//     callers waiting for the next write, is a leaf.
//  5. Dir.mu: the map of logs and whether the Dir is closed; held only to
//     read or change the map (Create opens the new log under it, whose
//     locks nobody else can hold yet).
//
// The leader epoch cache's lock (epochcache.Cache.mu) is a leaf: it guards
// the epochs and their checkpoint file, and is taken alone or under Log.mu
// (retention, truncation, an append that writes deferred epochs). Readers take no lock (invariant 1).
package logfile
