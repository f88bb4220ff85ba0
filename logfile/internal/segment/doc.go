// Package segment is one segment of a partition's log (Kafka's
// LogSegment): a .log of whole RecordBatch v2 batches named by its base
// offset, its .index and .timeindex (package mmapindex) and its
// .txnindex (package txnindex). It owns opening a segment's files (and
// rebuilding its indexes), scanning and checking its batches, recovering
// it after an unclean shutdown, indexing appended batches, locating
// offsets and timestamps in it, reads as byte ranges, fsyncs, and the
// references that keep its files open while readers hold it.
//
// Only package logfile uses it: the log decides when segments are
// created, appended to, rolled, truncated, swapped and deleted, and holds
// the lock that serializes their writers. Its errors read as the log's
// ("logfile: ..."), record.ErrCorrupt and record.ErrTornTail among them.
// Package logfile's doc.go has the directory layout; the file formats are
// record's, mmapindex's and txnindex's.
//
// # Invariants
//
//  1. Readers take no lock: the size and the next offset are published
//     together (Publish), after the bytes and the index entries they
//     cover, and no reader reads a byte past the published size, so none
//     sees a partial batch.
//  2. The files stay open and mapped while any reference is held
//     (Acquire, Release), even after MarkDeleted renamed them to
//     .deleted; they close, and are removed, when the last one goes. A
//     rebuild over files another Segment may still map (Shared) unlinks
//     and recreates them rather than emptying them under its readers.
//  3. An index entry points to a batch already in the .log: IndexBatch
//     follows the write.
//  4. A failed append takes back what its batches indexed (Mark,
//     Unindex): nothing of it stays in the indexes.
//  5. Opening costs what the valid index entries cost, never what the
//     maximum index size costs (Open).
//  6. Recover checks every batch (framing, magic, CRC, offsets increasing
//     from a minimum and within int32 of the base), rebuilds the indexes
//     from them and cuts the file, fsynced, at the first invalid one;
//     LoadTail checks that a cleanly closed segment's indexes agree with
//     its batches.
//
// # Locks
//
// None of its own. The published state and the references are atomics;
// the writer state (Mark, IndexBatch, HasControl, RollStart, the files'
// writes and truncations) is guarded by the owner's lock, logfile's
// Log.mu, and Synced by its locks too.
package segment
