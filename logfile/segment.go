package logfile

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
	DeletedSuffix   = ".deleted"
)

// SegmentName returns the file name of a segment file: base offset, %020d.
func SegmentName(base int64, suffix string) string {
	return fmt.Sprintf("%020d%s", base, suffix)
}

// segment is one .log with its two indexes.
type segment struct {
	base int64
	dir  string
	fs   vfs.FS
	log  vfs.File
	idx  *mmapindex.OffsetIndex
	tidx *mmapindex.TimeIndex

	// Published state, read without locks (invariant 1). tail packs the
	// size in bytes of whole batches (low 32 bits) and the offset after
	// the last batch, relative to base (high 32 bits), so that a reader
	// never pairs the size of one append with the offset of another. Both
	// fit: positions and relative offsets are int32 in the index format.
	tail        atomic.Uint64
	maxTs       atomic.Int64 // largest maxTimestamp of a batch; -1 if none
	maxTsOffset atomic.Int64 // last offset of the first batch that reached maxTs

	// refs counts the log's reference plus every Region and reader holding
	// the segment; the files close when it drops to zero (invariant 4).
	refs atomic.Int64
	// removeFiles: the files were renamed to .deleted; remove them at close.
	removeFiles atomic.Bool

	// txn is the transaction index (txnindex.go); set by openSegment.
	txn *txnindex.Index

	// Writer state, guarded by Log.mu.
	bytesSinceIndex int64
	// hasControl: recover saw a control batch (a transaction marker).
	hasControl bool
	rollStart  time.Time    // wall time of the first append; zero when empty
	synced     atomic.Int64 // size at the last fsync (Log.flushMu or Log.mu)
}

// publish makes size bytes and offsets up to next visible to readers.
func (s *segment) publish(size, next int64) {
	s.tail.Store(uint64(next-s.base)<<32 | uint64(size))
}

// load returns a consistent published size and next offset.
func (s *segment) load() (size, next int64) {
	t := s.tail.Load()
	return int64(t & math.MaxUint32), s.base + int64(t>>32)
}

func (s *segment) sizeNow() int64 { size, _ := s.load(); return size }
func (s *segment) nextNow() int64 { _, next := s.load(); return next }

func (s *segment) path(suffix string) string {
	return filepath.Join(s.dir, SegmentName(s.base, suffix))
}

var hdrPool = sync.Pool{New: func() any { return new([record.HeaderSize]byte) }}

// headerAt reads and parses the batch header at pos; limit is the end of the
// readable bytes. A header or batch that runs past limit is record.ErrTornTail.
func (s *segment) headerAt(pos, limit int64) (record.Header, error) {
	if limit-pos < record.HeaderSize {
		return record.Header{}, fmt.Errorf("%w: %s at %d: %d bytes left", record.ErrTornTail, s.path(LogSuffix), pos, limit-pos)
	}
	buf := hdrPool.Get().(*[record.HeaderSize]byte)
	defer hdrPool.Put(buf)
	if _, err := s.log.ReadAt(buf[:], pos); err != nil {
		return record.Header{}, fmt.Errorf("logfile: read %s at %d: %w", s.path(LogSuffix), pos, err)
	}
	h, err := record.ParseHeader(buf[:])
	if err != nil {
		return h, fmt.Errorf("%s at %d: %w", s.path(LogSuffix), pos, err)
	}
	if h.Size() > limit-pos {
		return h, fmt.Errorf("%w: %s at %d: batch of %d bytes, %d left", record.ErrTornTail, s.path(LogSuffix), pos, h.Size(), limit-pos)
	}
	return h, nil
}

// locate returns the position of the first batch whose last offset is >=
// offset, scanning forward from the index hint; limit if there is none.
func (s *segment) locate(offset, limit int64) (int64, error) {
	_, pos := s.idx.Lookup(offset)
	for pos < limit {
		h, err := s.headerAt(pos, limit)
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

// boundaryBefore returns the largest batch boundary in (start, limit], or
// start plus the first batch when that batch alone passes limit (KIP-74).
// end bounds the readable bytes.
func (s *segment) boundaryBefore(start, limit, end int64) (int64, error) {
	_, pos := s.idx.LookupPosition(limit)
	if pos < start {
		pos = start
	}
	for pos < end {
		h, err := s.headerAt(pos, end)
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

func (s *segment) acquire() bool {
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

func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		s.close()
	}
}

// fileSuffixes are the files of a segment, its .log first.
var fileSuffixes = []string{LogSuffix, IndexSuffix, TimeIndexSuffix, TxnIndexSuffix}

func (s *segment) close() error {
	errs := []error{s.closeIndexes()}
	if s.txn != nil {
		errs = append(errs, s.txn.Close())
	}
	if s.log != nil {
		errs = append(errs, s.log.Close())
	}
	if s.removeFiles.Load() {
		for _, suf := range fileSuffixes {
			if err := s.fs.Remove(s.path(suf) + DeletedSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// markDeleted renames the files to .deleted so a restart removes them; the
// files themselves go when the last reference is released.
func (s *segment) markDeleted() error {
	var errs []error
	for _, suf := range fileSuffixes {
		if err := s.fs.Rename(s.path(suf), s.path(suf)+DeletedSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	s.removeFiles.Store(true)
	return errors.Join(errs...)
}

// segMode says how openSegment opens a segment's files.
type segMode int

const (
	// segReadOnly: an existing segment, its indexes mapped read-only.
	segReadOnly segMode = iota
	// segWritable: an existing segment, its indexes writable.
	segWritable
	// segRebuild: an existing segment whose indexes the caller rebuilds
	// from the log (recover empties them first).
	segRebuild
	// segCreate: a new segment; the .log must not exist.
	segCreate

	// segShared, or'ed into segWritable or segRebuild: another segment
	// object over the same base may still map the index files (TruncateTo
	// replaces a live segment). A rebuild then unlinks them and creates new
	// ones, leaving its readers their mapping of the old inode, instead of
	// emptying them in place under those readers.
	segShared segMode = 1 << 4
)

// openSegment opens (or, with segCreate, makes) a segment's files. It
// reports needRebuild when the caller must rebuild the indexes from the log:
// always with segRebuild, and whenever an index of a non-empty log is
// missing or corrupt (then the indexes are new and empty). Its cost grows
// with the valid index entries, never with the preallocated index size.
//
// A segment to rebuild keeps its index files when they load: emptying what
// a load found costs what its entries cost (mmapindex Reset), while a new
// file or a truncation costs file-system metadata work that made recovering
// a thousand segments about twice as slow.
func openSegment(fsys vfs.FS, dir string, base int64, cfg *Config, mode segMode) (s *segment, needRebuild bool, err error) {
	shared := mode&segShared != 0
	mode &^= segShared
	s = &segment{base: base, dir: dir, fs: fsys}
	s.refs.Store(1)
	s.maxTs.Store(-1)
	s.maxTsOffset.Store(base)
	defer func() {
		if err != nil && s != nil {
			s.close()
			s = nil
		}
	}()
	flag := os.O_RDWR
	if mode == segCreate {
		flag |= os.O_CREATE | os.O_EXCL
	}
	if s.log, err = fsys.OpenFile(s.path(LogSuffix), flag, 0o644); err != nil {
		return nil, false, fmt.Errorf("logfile: open segment: %w", err)
	}
	fi, err := s.log.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("logfile: stat: %w", err)
	}
	if fi.Size() > math.MaxInt32 {
		return nil, false, fmt.Errorf("%w: %s is %d bytes, more than a segment can hold", record.ErrCorrupt, s.path(LogSuffix), fi.Size())
	}
	s.publish(fi.Size(), base)
	s.synced.Store(fi.Size())

	fresh := false // the indexes must be new and empty
	switch {
	case mode == segCreate:
		fresh = true
	case mode == segRebuild && shared:
		needRebuild, fresh = true, true
	case mode == segRebuild:
		needRebuild = true
		fresh, err = s.openIndexes(cfg, true, false)
	default:
		needRebuild, err = s.openIndexes(cfg, mode == segWritable, fi.Size() > 0)
		fresh = needRebuild
	}
	if err == nil && fresh {
		err = s.newIndexes(cfg, shared)
	}
	if err == nil {
		err = s.openTxns(mode == segCreate)
	}
	if err != nil {
		return nil, false, err
	}
	return s, needRebuild, nil
}

// openIndexes maps the existing index files. It reports rebuild, with no
// index left open, when one is corrupt, or missing beside a non-empty log.
func (s *segment) openIndexes(cfg *Config, writable, logHasData bool) (rebuild bool, err error) {
	maxIdx := int(cfg.MaxIndexBytes)
	open := func(suffix string, load func(f vfs.File) error) (bool, error) {
		if _, err := s.fs.Stat(s.path(suffix)); errors.Is(err, fs.ErrNotExist) && logHasData {
			return true, nil
		}
		f, err := s.fs.OpenFile(s.path(suffix), os.O_RDWR|os.O_CREATE, 0o644)
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
		s.idx, err = mmapindex.OpenOffset(f, s.base, maxIdx, writable)
		return err
	})
	if err == nil && !rebuild {
		rebuild, err = open(TimeIndexSuffix, func(f vfs.File) (err error) {
			s.tidx, err = mmapindex.OpenTime(f, s.base, maxIdx, writable)
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
// older segment object over the same base, invariant 4) keeps a valid
// mapping of the old inode; otherwise they are truncated in place.
func (s *segment) newIndexes(cfg *Config, replace bool) error {
	if err := s.closeIndexes(); err != nil {
		return err
	}
	maxIdx := int(cfg.MaxIndexBytes)
	create := func(suffix string) (vfs.File, error) {
		flag := os.O_RDWR | os.O_CREATE | os.O_TRUNC
		if replace {
			if err := s.fs.Remove(s.path(suffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("logfile: replace index: %w", err)
			}
			flag = os.O_RDWR | os.O_CREATE | os.O_EXCL
		}
		f, err := s.fs.OpenFile(s.path(suffix), flag, 0o644)
		if err != nil {
			return nil, fmt.Errorf("logfile: create index: %w", err)
		}
		return f, nil
	}
	f, err := create(IndexSuffix)
	if err != nil {
		return err
	}
	if s.idx, err = mmapindex.OpenOffset(f, s.base, maxIdx, true); err != nil {
		return err
	}
	if f, err = create(TimeIndexSuffix); err != nil {
		return err
	}
	s.tidx, err = mmapindex.OpenTime(f, s.base, maxIdx, true)
	return err
}

func (s *segment) closeIndexes() error {
	var errs []error
	if s.idx != nil {
		errs = append(errs, s.idx.Close())
		s.idx = nil
	}
	if s.tidx != nil {
		errs = append(errs, s.tidx.Close())
		s.tidx = nil
	}
	return errors.Join(errs...)
}

func (s *segment) resetIndexes() error {
	if err := s.idx.Reset(); err != nil {
		return err
	}
	return s.tidx.Reset()
}

// indexMark is the writer's index state apart from the entries, kept so
// that a failed append can take back what its batches indexed (invariant 5).
type indexMark struct {
	maxTs, maxTsOffset, bytesSinceIndex int64
}

func (s *segment) indexMark() indexMark {
	return indexMark{s.maxTs.Load(), s.maxTsOffset.Load(), s.bytesSinceIndex}
}

// unindex undoes indexBatch for the batches of a failed append, whose first
// offset is first: their entries go and the state returns to mark. Errors
// are dropped: the log has failed already, and a reopen rebuilds what an
// unclean close leaves.
func (s *segment) unindex(mark indexMark, first int64) {
	_ = s.idx.TruncateTo(first)
	_ = s.tidx.TruncateTo(first)
	s.maxTs.Store(mark.maxTs)
	s.maxTsOffset.Store(mark.maxTsOffset)
	s.bytesSinceIndex = mark.bytesSinceIndex
}

// indexBatch adds index entries for a batch written at pos (writer only).
func (s *segment) indexBatch(h *record.Header, pos int64, interval int64) error {
	if h.MaxTimestamp > s.maxTs.Load() {
		s.maxTs.Store(h.MaxTimestamp)
		s.maxTsOffset.Store(h.LastOffset())
	}
	if s.bytesSinceIndex > interval && !s.idx.Full() && !s.tidx.Full() {
		// A full index only makes lookups scan further; appends roll first.
		if err := s.idx.Append(h.LastOffset(), pos); err != nil {
			return err
		}
		if _, err := s.tidx.MaybeAppend(s.maxTs.Load(), s.maxTsOffset.Load()); err != nil {
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
func (s *segment) scan(from, limit, minOffset int64, fn func(h *record.Header, pos int64) error) (int64, error) {
	sc := newScanner(s.log, from, limit)
	defer sc.free()
	for {
		h, batch, pos, err := sc.next()
		if err == io.EOF {
			return pos, nil
		}
		if err != nil {
			return pos, fmt.Errorf("%s: %w", s.path(LogSuffix), err)
		}
		if h.BaseOffset < minOffset {
			return pos, fmt.Errorf("%w: %s at %d: offset %d after %d", record.ErrCorrupt, s.path(LogSuffix), pos, h.BaseOffset, minOffset)
		}
		if err := record.CheckCRC(batch, &h); err != nil {
			return pos, fmt.Errorf("%s at %d: %w", s.path(LogSuffix), pos, err)
		}
		if fn != nil {
			if err := fn(&h, pos); err != nil {
				return pos, err
			}
		}
		minOffset = h.NextOffset()
	}
}
