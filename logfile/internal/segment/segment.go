package segment

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"samsa/logfile/vfs"
	"samsa/mmapindex"
	"samsa/record"
	"samsa/txnindex"
)

// File name suffixes. Part of the format: never change.
const (
	LogSuffix       = ".log"
	IndexSuffix     = ".index"
	TimeIndexSuffix = ".timeindex"
	TxnIndexSuffix  = ".txnindex"
	DeletedSuffix   = ".deleted"
)

// Name returns the file name of a segment file: base offset, %020d.
func Name(base int64, suffix string) string {
	return fmt.Sprintf("%020d%s", base, suffix)
}

// Segment is one .log with its indexes.
type Segment struct {
	base int64
	dir  string
	fs   vfs.FS

	// The files, set by Open. The owner writes File and truncates the
	// indexes only under its lock (invariants 3 and 4).
	File      vfs.File
	Index     *mmapindex.OffsetIndex
	TimeIndex *mmapindex.TimeIndex
	Txn       *txnindex.Index // the transaction index

	// Published state, read without locks (invariant 1). tail packs the
	// size in bytes of whole batches (low 32 bits) and the offset after
	// the last batch, relative to base (high 32 bits), so that a reader
	// never pairs the size of one append with the offset of another. Both
	// fit: positions and relative offsets are int32 in the index format.
	tail        atomic.Uint64
	maxTs       atomic.Int64 // largest maxTimestamp of a batch; -1 if none
	maxTsOffset atomic.Int64 // last offset of the first batch that reached maxTs

	// refs counts the owner's reference plus every reader holding the
	// segment; the files close when it drops to zero (invariant 2).
	refs atomic.Int64
	// removeFiles: the files were renamed to .deleted; remove them at close.
	removeFiles atomic.Bool

	// Writer state, guarded by the owner's lock (logfile's Log.mu).
	bytesSinceIndex int64
	// HasControl: Recover saw a control batch (a transaction marker).
	HasControl bool
	RollStart  time.Time    // wall time of the first append; zero when empty
	Synced     atomic.Int64 // size at the last fsync (under the owner's locks)
}

// Base returns the segment's base offset, the first it may hold.
func (s *Segment) Base() int64 { return s.base }

// MaxTimestamp returns the largest maxTimestamp of its batches, -1 if none.
func (s *Segment) MaxTimestamp() int64 { return s.maxTs.Load() }

// MaxTimestampOffset returns the last offset of the first batch that
// reached MaxTimestamp.
func (s *Segment) MaxTimestampOffset() int64 { return s.maxTsOffset.Load() }

// Publish makes size bytes and offsets up to next visible to readers.
func (s *Segment) Publish(size, next int64) {
	s.tail.Store(uint64(next-s.base)<<32 | uint64(size))
}

// Load returns a consistent published size and next offset.
func (s *Segment) Load() (size, next int64) {
	t := s.tail.Load()
	return int64(t & math.MaxUint32), s.base + int64(t>>32)
}

func (s *Segment) Size() int64 { size, _ := s.Load(); return size }
func (s *Segment) Next() int64 { _, next := s.Load(); return next }

func (s *Segment) Path(suffix string) string {
	return filepath.Join(s.dir, Name(s.base, suffix))
}

var hdrPool = sync.Pool{New: func() any { return new([record.HeaderSize]byte) }}

// HeaderAt reads and parses the batch header at pos; limit is the end of the
// readable bytes. A header or batch that runs past limit is record.ErrTornTail.
func (s *Segment) HeaderAt(pos, limit int64) (record.Header, error) {
	if limit-pos < record.HeaderSize {
		return record.Header{}, fmt.Errorf("%w: %s at %d: %d bytes left", record.ErrTornTail, s.Path(LogSuffix), pos, limit-pos)
	}
	buf := hdrPool.Get().(*[record.HeaderSize]byte)
	defer hdrPool.Put(buf)
	if _, err := s.File.ReadAt(buf[:], pos); err != nil {
		return record.Header{}, fmt.Errorf("logfile: read %s at %d: %w", s.Path(LogSuffix), pos, err)
	}
	h, err := record.ParseHeader(buf[:])
	if err != nil {
		return h, fmt.Errorf("%s at %d: %w", s.Path(LogSuffix), pos, err)
	}
	if h.Size() > limit-pos {
		return h, fmt.Errorf("%w: %s at %d: batch of %d bytes, %d left", record.ErrTornTail, s.Path(LogSuffix), pos, h.Size(), limit-pos)
	}
	return h, nil
}

// Locate returns the position of the first batch whose last offset is >=
// offset, scanning forward from the index hint; limit if there is none.
func (s *Segment) Locate(offset, limit int64) (int64, error) {
	_, pos := s.Index.Lookup(offset)
	for pos < limit {
		h, err := s.HeaderAt(pos, limit)
		if err != nil {
			return 0, err
		}
		if h.LastOffset() >= offset {
			return pos, nil
		}
		pos += h.Size()
	}
	return limit, nil
}

// BoundaryBefore returns the largest batch boundary in (start, limit], or
// start plus the first batch when that batch alone passes limit (KIP-74).
// end bounds the readable bytes.
func (s *Segment) BoundaryBefore(start, limit, end int64) (int64, error) {
	_, pos := s.Index.LookupPosition(limit)
	if pos < start {
		pos = start
	}
	for pos < end {
		h, err := s.HeaderAt(pos, end)
		if err != nil {
			return 0, err
		}
		if pos+h.Size() > limit {
			if pos == start {
				return pos + h.Size(), nil
			}
			break
		}
		pos += h.Size()
	}
	return pos, nil
}

func (s *Segment) Acquire() bool {
	for {
		r := s.refs.Load()
		if r <= 0 {
			return false
		}
		if s.refs.CompareAndSwap(r, r+1) {
			return true
		}
	}
}

func (s *Segment) Release() {
	if s.refs.Add(-1) == 0 {
		s.Close()
	}
}

// Suffixes are the files of a segment, its .log first.
var Suffixes = []string{LogSuffix, IndexSuffix, TimeIndexSuffix, TxnIndexSuffix}

func (s *Segment) Close() error {
	errs := []error{s.closeIndexes()}
	if s.Txn != nil {
		errs = append(errs, s.Txn.Close())
	}
	if s.File != nil {
		errs = append(errs, s.File.Close())
	}
	if s.removeFiles.Load() {
		for _, suf := range Suffixes {
			if err := s.fs.Remove(s.Path(suf) + DeletedSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// MarkDeleted renames the files to .deleted so a restart removes them; the
// files themselves go when the last reference is released.
func (s *Segment) MarkDeleted() error {
	var errs []error
	for _, suf := range Suffixes {
		if err := s.fs.Rename(s.Path(suf), s.Path(suf)+DeletedSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	s.removeFiles.Store(true)
	return errors.Join(errs...)
}

// Mode says how Open opens a segment's files.
type Mode int

const (
	// ReadOnly: an existing segment, its indexes mapped read-only.
	ReadOnly Mode = iota
	// Writable: an existing segment, its indexes writable.
	Writable
	// Rebuild: an existing segment whose indexes the caller rebuilds
	// from the log (Recover empties them first).
	Rebuild
	// Create: a new segment; the .log must not exist.
	Create

	// Shared, or'ed into Writable or Rebuild: another segment
	// object over the same base may still map the index files (TruncateTo
	// replaces a live segment). A rebuild then unlinks them and creates new
	// ones, leaving its readers their mapping of the old inode, instead of
	// emptying them in place under those readers.
	Shared Mode = 1 << 4
)

// Open opens (or, with Create, makes) a segment's files. It
// reports needRebuild when the caller must rebuild the indexes from the log:
// always with Rebuild, and whenever an index of a non-empty log is
// missing or corrupt (then the indexes are new and empty). Its cost grows
// with the valid index entries, never with the preallocated index size.
//
// A segment to rebuild keeps its index files when they load: emptying what
// a load found costs what its entries cost (mmapindex Reset), while a new
// file or a truncation costs file-system metadata work that made recovering
// a thousand segments about twice as slow.
func Open(fsys vfs.FS, dir string, base, maxIndexBytes int64, mode Mode) (s *Segment, needRebuild bool, err error) {
	shared := mode&Shared != 0
	mode &^= Shared
	s = &Segment{base: base, dir: dir, fs: fsys}
	s.refs.Store(1)
	s.maxTs.Store(-1)
	s.maxTsOffset.Store(base)
	defer func() {
		if err != nil && s != nil {
			s.Close()
			s = nil
		}
	}()
	flag := os.O_RDWR
	if mode == Create {
		flag |= os.O_CREATE | os.O_EXCL
	}
	if s.File, err = fsys.OpenFile(s.Path(LogSuffix), flag, 0o644); err != nil {
		return nil, false, fmt.Errorf("logfile: open segment: %w", err)
	}
	fi, err := s.File.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("logfile: stat: %w", err)
	}
	if fi.Size() > math.MaxInt32 {
		return nil, false, fmt.Errorf("%w: %s is %d bytes, more than a segment can hold", record.ErrCorrupt, s.Path(LogSuffix), fi.Size())
	}
	s.Publish(fi.Size(), base)
	s.Synced.Store(fi.Size())

	fresh := false // the indexes must be new and empty
	switch {
	case mode == Create:
		fresh = true
	case mode == Rebuild && shared:
		needRebuild, fresh = true, true
	case mode == Rebuild:
		needRebuild = true
		fresh, err = s.openIndexes(maxIndexBytes, true, false)
	default:
		needRebuild, err = s.openIndexes(maxIndexBytes, mode == Writable, fi.Size() > 0)
		fresh = needRebuild
	}
	if err == nil && fresh {
		err = s.newIndexes(maxIndexBytes, shared)
	}
	if err == nil {
		err = s.openTxns(mode == Create)
	}
	if err != nil {
		return nil, false, err
	}
	return s, needRebuild, nil
}

// openIndexes maps the existing index files. It reports rebuild, with no
// index left open, when one is corrupt, or missing beside a non-empty log.
func (s *Segment) openIndexes(maxIndexBytes int64, writable, logHasData bool) (rebuild bool, err error) {
	maxIdx := int(maxIndexBytes)
	open := func(suffix string, load func(f vfs.File) error) (bool, error) {
		if _, err := s.fs.Stat(s.Path(suffix)); errors.Is(err, fs.ErrNotExist) && logHasData {
			return true, nil
		}
		f, err := s.fs.OpenFile(s.Path(suffix), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return false, fmt.Errorf("logfile: open index: %w", err)
		}
		// The index closes f when it fails.
		if err := load(f); errors.Is(err, mmapindex.ErrCorrupt) {
			return true, nil
		} else if err != nil {
			return false, err
		}
		return false, nil
	}
	rebuild, err = open(IndexSuffix, func(f vfs.File) (err error) {
		s.Index, err = mmapindex.OpenOffset(f, s.base, maxIdx, writable)
		return err
	})
	if err == nil && !rebuild {
		rebuild, err = open(TimeIndexSuffix, func(f vfs.File) (err error) {
			s.TimeIndex, err = mmapindex.OpenTime(f, s.base, maxIdx, writable)
			return err
		})
	}
	if rebuild || err != nil {
		err = errors.Join(err, s.closeIndexes())
	}
	return rebuild, err
}

// newIndexes gives the segment empty, writable index files, dropping what
// the old ones held unread, valid or not. With replace the old files are
// unlinked and new ones created, so that a reader that still maps them (an
// older segment object over the same base, invariant 2) keeps a valid
// mapping of the old inode; otherwise they are truncated in place.
func (s *Segment) newIndexes(maxIndexBytes int64, replace bool) error {
	if err := s.closeIndexes(); err != nil {
		return err
	}
	maxIdx := int(maxIndexBytes)
	create := func(suffix string) (vfs.File, error) {
		flag := os.O_RDWR | os.O_CREATE | os.O_TRUNC
		if replace {
			if err := s.fs.Remove(s.Path(suffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("logfile: replace index: %w", err)
			}
			flag = os.O_RDWR | os.O_CREATE | os.O_EXCL
		}
		f, err := s.fs.OpenFile(s.Path(suffix), flag, 0o644)
		if err != nil {
			return nil, fmt.Errorf("logfile: create index: %w", err)
		}
		return f, nil
	}
	f, err := create(IndexSuffix)
	if err != nil {
		return err
	}
	if s.Index, err = mmapindex.OpenOffset(f, s.base, maxIdx, true); err != nil {
		return err
	}
	if f, err = create(TimeIndexSuffix); err != nil {
		return err
	}
	s.TimeIndex, err = mmapindex.OpenTime(f, s.base, maxIdx, true)
	return err
}

func (s *Segment) closeIndexes() error {
	var errs []error
	if s.Index != nil {
		errs = append(errs, s.Index.Close())
		s.Index = nil
	}
	if s.TimeIndex != nil {
		errs = append(errs, s.TimeIndex.Close())
		s.TimeIndex = nil
	}
	return errors.Join(errs...)
}

func (s *Segment) resetIndexes() error {
	if err := s.Index.Reset(); err != nil {
		return err
	}
	return s.TimeIndex.Reset()
}

// Mark is the writer's index state apart from the entries, kept so
// that a failed append can take back what its batches indexed (invariant 4).
type Mark struct {
	maxTs, maxTsOffset, bytesSinceIndex int64
}

func (s *Segment) IndexMark() Mark {
	return Mark{s.maxTs.Load(), s.maxTsOffset.Load(), s.bytesSinceIndex}
}

// Unindex undoes IndexBatch for the batches of a failed append, whose first
// offset is first: their entries go and the state returns to mark. Errors
// are dropped: the log has failed already, and a reopen rebuilds what an
// unclean close leaves.
func (s *Segment) Unindex(mark Mark, first int64) {
	_ = s.Index.TruncateTo(first)
	_ = s.TimeIndex.TruncateTo(first)
	s.maxTs.Store(mark.maxTs)
	s.maxTsOffset.Store(mark.maxTsOffset)
	s.bytesSinceIndex = mark.bytesSinceIndex
}

// IndexBatch adds index entries for a batch written at pos (writer only).
func (s *Segment) IndexBatch(h *record.Header, pos int64, interval int64) error {
	if h.MaxTimestamp > s.maxTs.Load() {
		s.maxTs.Store(h.MaxTimestamp)
		s.maxTsOffset.Store(h.LastOffset())
	}
	if s.bytesSinceIndex > interval && !s.Index.Full() && !s.TimeIndex.Full() {
		// A full index only makes lookups scan further; appends roll first.
		if err := s.Index.Append(h.LastOffset(), pos); err != nil {
			return err
		}
		if _, err := s.TimeIndex.MaybeAppend(s.maxTs.Load(), s.maxTsOffset.Load()); err != nil {
			return err
		}
		s.bytesSinceIndex = 0
	}
	s.bytesSinceIndex += h.Size()
	return nil
}

// scan reads batches in [from, limit) in order, checking each (size, magic,
// CRC, offsets increasing from minOffset) and calling fn for it. It returns
// the end of the last good batch and the first problem, if any;
// io.EOF-free: a clean end returns a nil error.
func (s *Segment) scan(from, limit, minOffset int64, fn func(h *record.Header, pos int64) error) (int64, error) {
	sc := newScanner(s.File, from, limit)
	defer sc.free()
	for {
		h, batch, pos, err := sc.next()
		if err == io.EOF {
			return pos, nil
		}
		if err != nil {
			return pos, fmt.Errorf("%s: %w", s.Path(LogSuffix), err)
		}
		if h.BaseOffset < minOffset {
			return pos, fmt.Errorf("%w: %s at %d: offset %d after %d", record.ErrCorrupt, s.Path(LogSuffix), pos, h.BaseOffset, minOffset)
		}
		if err := record.CheckCRC(batch, &h); err != nil {
			return pos, fmt.Errorf("%s at %d: %w", s.Path(LogSuffix), pos, err)
		}
		if fn != nil {
			if err := fn(&h, pos); err != nil {
				return pos, err
			}
		}
		minOffset = h.NextOffset()
	}
}

// Finish makes a segment inactive: the final time index entry, and indexes
// trimmed to their entries.
func (s *Segment) Finish(log interface{ Warn(string, ...any) }) {
	if s.TimeIndex.Len() < s.TimeIndex.MaxEntries() {
		if _, err := s.TimeIndex.MaybeAppend(s.maxTs.Load(), s.maxTsOffset.Load()); err != nil {
			log.Warn("final time index entry", "segment", s.Path(TimeIndexSuffix), "err", err)
		}
	}
	if err := s.Index.Trim(); err != nil {
		log.Warn("trim index", "err", err)
	}
	if err := s.TimeIndex.Trim(); err != nil {
		log.Warn("trim time index", "err", err)
	}
}

func (s *Segment) Sync() error { return s.SyncTo(s.Size()) }

// SyncTo fsyncs the log and its indexes (the transaction index too),
// which hold at least size bytes.
func (s *Segment) SyncTo(size int64) error {
	if err := s.File.Sync(); err != nil {
		return fmt.Errorf("logfile: fsync %s: %w", s.Path(LogSuffix), err)
	}
	if err := s.Index.Sync(); err != nil {
		return err
	}
	if err := s.TimeIndex.Sync(); err != nil {
		return err
	}
	if err := s.Txn.Sync(); err != nil {
		return err
	}
	s.Synced.Store(size)
	return nil
}

func (s *Segment) Txns() []txnindex.AbortedTxn { return s.Txn.Entries() }

// openTxns opens the segment's transaction index (none for a new one).
func (s *Segment) openTxns(create bool) (err error) {
	if create {
		s.Txn = txnindex.New(s.fs, s.Path(TxnIndexSuffix))
		return nil
	}
	s.Txn, err = txnindex.Open(s.fs, s.Path(TxnIndexSuffix))
	return err
}
