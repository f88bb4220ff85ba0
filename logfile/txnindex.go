package logfile

// The transaction index (Kafka's TransactionIndex and AbortedTxn): per
// segment, <base>.txnindex lists the transactions that ABORT markers in
// that segment ended, so that a read_committed fetch can tell its client
// which producers' records between its offsets to drop. A transaction's
// records may lie in earlier segments than its marker. The file exists
// only once the segment has an entry.
//
// # Entry (part of the format: never change)
//
// All integers big-endian; 34 bytes, appended in the order of the markers.
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
//  9. A segment's entries have strictly increasing lastOffsets, all in the
//     segment's offsets [base, next): the markers are its own. An entry is
//     written, under Log.mu, by the append of its marker, before that
//     append is published or flushed, so a flush that covers the marker
//     covers the entry (Log.AppendValidatedTxn, AppendAsFollowerTxn).
// 10. The entries a reader sees (AbortedTxns) are an immutable slice per
//     segment, replaced whole: fetches read them without locks or I/O.
// 11. After an unclean shutdown the entries of every scanned segment that
//     holds a control batch are rebuilt from the log by the producer
//     state's replay (TxnIndexRebuildFrom, RebuildTxnIndex); until then
//     the recovery point stays at or below the first such segment, so a
//     crash before the rebuild scans them again. A segment that holds no
//     control batch has no entry. An index that fails its sanity checks
//     (framing, version, order, offsets outside its segment) is rebuilt
//     the same way.
//
// Truncation drops the entries of the markers it removes; retention and
// compaction remove or rewrite the index with its segment.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync/atomic"

	"samsa/logfile/vfs"
	"samsa/record"
)

// TxnIndexSuffix names a segment's transaction index. Part of the format:
// never change.
const TxnIndexSuffix = ".txnindex"

// AbortedTxnSize is the size of one transaction index entry.
const AbortedTxnSize = 34

const abortedTxnVersion = 0

// ErrTxnIndex is a transaction index that is not one: a torn entry, an
// unknown version, entries out of order. It is also record.ErrCorrupt.
var ErrTxnIndex = fmt.Errorf("%w: corrupt transaction index", record.ErrCorrupt)

// AbortedTxn is one entry of a transaction index.
type AbortedTxn struct {
	ProducerID       int64
	FirstOffset      int64 // the transaction's first record
	LastOffset       int64 // its ABORT marker
	LastStableOffset int64 // the last stable offset once the marker was written
}

// AppendAbortedTxn appends a's 34 bytes to dst.
func AppendAbortedTxn(dst []byte, a AbortedTxn) []byte {
	dst = binary.BigEndian.AppendUint16(dst, abortedTxnVersion)
	dst = binary.BigEndian.AppendUint64(dst, uint64(a.ProducerID))
	dst = binary.BigEndian.AppendUint64(dst, uint64(a.FirstOffset))
	dst = binary.BigEndian.AppendUint64(dst, uint64(a.LastOffset))
	return binary.BigEndian.AppendUint64(dst, uint64(a.LastStableOffset))
}

// DecodeTxnIndex reads a transaction index file. It returns the entries
// before the first problem with ErrTxnIndex: a torn last entry, a version
// other than 0 (Kafka refuses newer ones), a first offset past the last
// or a last offset that does not increase. It never panics (fuzzed).
func DecodeTxnIndex(b []byte) ([]AbortedTxn, error) {
	out := make([]AbortedTxn, 0, len(b)/AbortedTxnSize)
	be := binary.BigEndian
	for pos := 0; pos < len(b); pos += AbortedTxnSize {
		if len(b)-pos < AbortedTxnSize {
			return out, fmt.Errorf("%w: %d bytes left at %d, an entry is %d", ErrTxnIndex, len(b)-pos, pos, AbortedTxnSize)
		}
		e := b[pos : pos+AbortedTxnSize]
		if v := int16(be.Uint16(e)); v != abortedTxnVersion {
			return out, fmt.Errorf("%w: entry at %d has version %d", ErrTxnIndex, pos, v)
		}
		a := AbortedTxn{
			ProducerID:       int64(be.Uint64(e[2:])),
			FirstOffset:      int64(be.Uint64(e[10:])),
			LastOffset:       int64(be.Uint64(e[18:])),
			LastStableOffset: int64(be.Uint64(e[26:])),
		}
		if a.FirstOffset > a.LastOffset || a.FirstOffset < 0 {
			return out, fmt.Errorf("%w: entry at %d spans %d to %d", ErrTxnIndex, pos, a.FirstOffset, a.LastOffset)
		}
		if n := len(out); n > 0 && out[n-1].LastOffset >= a.LastOffset {
			return out, fmt.Errorf("%w: entry at %d ends at %d, not after %d", ErrTxnIndex, pos, a.LastOffset, out[n-1].LastOffset)
		}
		out = append(out, a)
	}
	return out, nil
}

// txnIndex is a segment's transaction index.
type txnIndex struct {
	// entries are published for lock-free readers (invariant 10).
	entries atomic.Pointer[[]AbortedTxn]

	// Writer state, guarded by Log.mu (or owned by the opener).
	f     vfs.File // nil until the file is needed
	stale bool     // to be rebuilt (invariant 11): entries are empty meanwhile
}

func (s *segment) txns() []AbortedTxn {
	if p := s.txn.entries.Load(); p != nil {
		return *p
	}
	return nil
}

// loadTxns reads the segment's transaction index, if it has one. A file
// that does not decode leaves the segment stale: its entries are rebuilt.
func (s *segment) loadTxns() error {
	b, err := vfs.ReadFile(s.fs, s.path(TxnIndexSuffix))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("logfile: read %s: %w", s.path(TxnIndexSuffix), err)
	}
	entries, err := DecodeTxnIndex(b)
	if err != nil {
		s.txn.stale = true
		return nil
	}
	s.txn.entries.Store(&entries)
	return nil
}

// checkTxns is Kafka's sanity check of a transaction index, against the
// segment's offsets once they are known; a failure leaves it stale.
func (s *segment) checkTxns() bool {
	next := s.nextNow()
	for _, a := range s.txns() {
		if a.LastOffset < s.base || a.LastOffset >= next {
			s.txn.stale = true
			s.txn.entries.Store(nil)
			return false
		}
	}
	return !s.txn.stale
}

func (s *segment) txnFile() (vfs.File, error) {
	if s.txn.f == nil {
		f, err := s.fs.OpenFile(s.path(TxnIndexSuffix), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("logfile: open %s: %w", s.path(TxnIndexSuffix), err)
		}
		s.txn.f = f
	}
	return s.txn.f, nil
}

// appendTxns adds entries of markers of this segment (writer only).
func (s *segment) appendTxns(add []AbortedTxn) error {
	if len(add) == 0 {
		return nil
	}
	cur := s.txns()
	last := int64(-1)
	if len(cur) > 0 {
		last = cur[len(cur)-1].LastOffset
	}
	var buf []byte
	for _, a := range add {
		if a.LastOffset <= last || a.LastOffset < s.base {
			return fmt.Errorf("%w: %s: entry of marker %d after %d", ErrTxnIndex, s.path(TxnIndexSuffix), a.LastOffset, last)
		}
		last = a.LastOffset
		buf = AppendAbortedTxn(buf, a)
	}
	f, err := s.txnFile()
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(buf, int64(len(cur))*AbortedTxnSize); err != nil {
		_ = f.Truncate(int64(len(cur)) * AbortedTxnSize)
		return fmt.Errorf("logfile: append to %s: %w", s.path(TxnIndexSuffix), err)
	}
	next := append(append(make([]AbortedTxn, 0, len(cur)+len(add)), cur...), add...)
	s.txn.entries.Store(&next)
	return nil
}

// truncateTxns drops the entries of markers at or past offset.
func (s *segment) truncateTxns(offset int64) error {
	cur := s.txns()
	keep := len(cur)
	for keep > 0 && cur[keep-1].LastOffset >= offset {
		keep--
	}
	if keep == len(cur) {
		return nil
	}
	return s.rewriteTxns(cur[:keep:keep])
}

// rewriteTxns replaces the segment's entries with entries, fsynced.
func (s *segment) rewriteTxns(entries []AbortedTxn) error {
	if len(entries) == 0 && s.txn.f == nil {
		if err := s.fs.Remove(s.path(TxnIndexSuffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("logfile: remove %s: %w", s.path(TxnIndexSuffix), err)
		}
		s.txn.entries.Store(nil)
		s.txn.stale = false
		return nil
	}
	f, err := s.txnFile()
	if err != nil {
		return err
	}
	var buf []byte
	for _, a := range entries {
		buf = AppendAbortedTxn(buf, a)
	}
	if err := f.Truncate(int64(len(buf))); err != nil {
		return fmt.Errorf("logfile: truncate %s: %w", s.path(TxnIndexSuffix), err)
	}
	if len(buf) > 0 {
		if _, err := f.WriteAt(buf, 0); err != nil {
			return fmt.Errorf("logfile: write %s: %w", s.path(TxnIndexSuffix), err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("logfile: fsync %s: %w", s.path(TxnIndexSuffix), err)
	}
	entries = append([]AbortedTxn(nil), entries...)
	s.txn.entries.Store(&entries)
	s.txn.stale = false
	return nil
}

func (s *segment) syncTxns() error {
	if s.txn.f == nil {
		return nil
	}
	if err := s.txn.f.Sync(); err != nil {
		return fmt.Errorf("logfile: fsync %s: %w", s.path(TxnIndexSuffix), err)
	}
	return nil
}

func (s *segment) closeTxns() error {
	if s.txn.f == nil {
		return nil
	}
	err := s.txn.f.Close()
	s.txn.f = nil
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
	i := max(segmentFor(segs, from), 0)
	var out []AbortedTxn
	for ; i < len(segs); i++ {
		for _, a := range segs[i].txns() {
			if a.LastOffset >= from && a.FirstOffset < upTo {
				out = append(out, a)
			}
			if a.LastStableOffset >= upTo {
				return out
			}
		}
	}
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
// transaction index awaits a rebuild from the log (invariant 11), or -1.
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
		if !s.txn.stale {
			continue
		}
		next := s.nextNow()
		var mine []AbortedTxn
		for _, a := range entries {
			if a.LastOffset >= s.base && a.LastOffset < next {
				mine = append(mine, a)
			}
		}
		if err := s.rewriteTxns(mine); err != nil {
			return l.fail(err)
		}
	}
	l.txnRebuild.Store(-1)
	if err := l.fs.SyncDir(l.dir); err != nil {
		return l.fail(fmt.Errorf("logfile: fsync %s: %w", l.dir, err))
	}
	return l.Flush()
}

// writeTxnFile writes a whole transaction index file, fsynced; none for
// no entries.
func writeTxnFile(fsys vfs.FS, name string, entries []AbortedTxn) error {
	if len(entries) == 0 {
		if err := fsys.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	var buf []byte
	for _, a := range entries {
		buf = AppendAbortedTxn(buf, a)
	}
	f, err := fsys.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(buf, 0); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
