package logfile

// The transaction index (Kafka's TransactionIndex): per segment,
// <base>.txnindex lists the transactions that ABORT markers in that
// segment ended (package txnindex has the format), so that a
// read_committed fetch can tell its client which producers' records
// between its offsets to drop. A transaction's records may lie in earlier
// segments than its marker.
//
// Invariants 10 to 12 (doc.go) are this file's.
//
// Truncation drops the entries of the markers it removes; retention and
// compaction remove or rewrite the index with its segment.

import (
	"fmt"

	"samsa/record"
	"samsa/txnindex"
)

// TxnIndexSuffix names a segment's transaction index. Part of the format:
// never change.
const TxnIndexSuffix = ".txnindex"

// AbortedTxn is one entry of a transaction index.
type AbortedTxn = txnindex.AbortedTxn

func (s *segment) txns() []AbortedTxn { return s.txn.Entries() }

// openTxns opens the segment's transaction index (none for a new one).
func (s *segment) openTxns(create bool) (err error) {
	if create {
		s.txn = txnindex.New(s.fs, s.path(TxnIndexSuffix))
		return nil
	}
	s.txn, err = txnindex.Open(s.fs, s.path(TxnIndexSuffix))
	return err
}

// TxnPlan returns the entries of the transactions that the batches of an
// append abort, their offsets assigned (the producer state's dry run). It
// is called under Log.mu and must not call the log.
type TxnPlan func(bs *record.Batches) ([]AbortedTxn, error)

// AbortedTxns returns the aborted transactions with records in [from,
// upTo): from the index of the segment holding from and of the segments
// after it, up to the first entry whose last stable offset reaches upTo
// (no later marker can end a transaction that began before upTo), as
// Kafka's collectAbortedTransactions. It reads memory only.
func (l *Log) AbortedTxns(from, upTo int64) []AbortedTxn {
	segs := *l.segs.Load()
	first := max(segmentFor(segs, from), 0)
	// Counted first, so that a fetch allocates its list once.
	walk := func(fn func(AbortedTxn)) {
		for _, s := range segs[first:] {
			for _, a := range s.txns() {
				if a.LastOffset >= from && a.FirstOffset < upTo {
					fn(a)
				}
				if a.LastStableOffset >= upTo {
					return
				}
			}
		}
	}
	n := 0
	walk(func(AbortedTxn) { n++ })
	if n == 0 {
		return nil
	}
	out := make([]AbortedTxn, 0, n)
	walk(func(a AbortedTxn) { out = append(out, a) })
	return out
}

// SegmentTxns returns the entries of the transaction index of the segment
// whose base offset is base (tools and tests).
func (l *Log) SegmentTxns(base int64) []AbortedTxn {
	for _, s := range *l.segs.Load() {
		if s.base == base {
			return s.txns()
		}
	}
	return nil
}

// TxnIndexRebuildFrom returns the base offset of the first segment whose
// transaction index awaits a rebuild from the log (invariant 12), or -1.
// The producer state's replay from a snapshot at or below it finds the
// entries and gives them to RebuildTxnIndex.
func (l *Log) TxnIndexRebuildFrom() int64 { return l.txnRebuild.Load() }

// RebuildTxnIndex writes the entries of the aborted transactions whose
// markers lie in segments awaiting a rebuild (entries of other segments
// are ignored), fsyncs them, and lets the recovery point move on.
func (l *Log) RebuildTxnIndex(entries []AbortedTxn) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if l.txnRebuild.Load() < 0 {
		return nil
	}
	for _, s := range *l.segs.Load() {
		if !s.txn.Stale() {
			continue
		}
		next := s.nextNow()
		var mine []AbortedTxn
		for _, a := range entries {
			if a.LastOffset >= s.base && a.LastOffset < next {
				mine = append(mine, a)
			}
		}
		if err := s.txn.Rewrite(mine); err != nil {
			return l.fail(err)
		}
	}
	l.txnRebuild.Store(-1)
	if err := l.fs.SyncDir(l.dir); err != nil {
		return l.fail(fmt.Errorf("logfile: fsync %s: %w", l.dir, err))
	}
	return l.Flush()
}
