// Package txnindex is Kafka's transaction index (TransactionIndex and
// AbortedTxn): per segment, the transactions that ABORT markers in that
// segment ended, so that a read_committed fetch can tell its client which
// producers' records between its offsets to drop; and the log cleaner's
// view of them (Cleaned, Kafka's CleanedTransactionMetadata). Package
// logfile owns the file's name (<base>.txnindex), when it is written and
// when it is rebuilt; this package owns its bytes.
//
// # Entry (part of the format: never change)
//
// All integers big-endian; 34 bytes, appended in the order of the markers,
// no header. The file exists only once its segment has an entry.
//
//	offset size field
//	     0    2 version           0
//	     2    8 producerId
//	    10    8 firstOffset       the transaction's first record
//	    18    8 lastOffset        the ABORT marker's offset
//	    26    8 lastStableOffset  the log's last stable offset once the
//	                              marker was written: the first offset of the
//	                              earliest transaction still open, else
//	                              lastOffset+1
//
// # Invariants
//
//  1. Decode never panics (fuzzed) and accepts only whole entries of
//     version 0 whose first offset is not past their last and whose last
//     offsets strictly increase; it returns the entries before a fault
//     with ErrCorrupt (also record.ErrCorrupt).
//  2. An Index's entries are an immutable slice, replaced whole: readers
//     take them without locks or I/O. Its file is written by one writer at
//     a time (logfile's Log.mu); Append writes the file before it publishes.
//  3. A stale Index (a file that did not decode, or one its log must
//     rebuild) has no entries until Rewrite.
//  4. Cleaned sees a log's batches in order once: a batch of an aborted
//     transaction is one whose producer's aborted transaction began at or
//     before it and whose marker is not yet seen.
//
// # Locks
//
// None: Index is guarded by its owner's lock for writes and publishes its
// entries atomically; Cleaned belongs to one compaction.
package txnindex
