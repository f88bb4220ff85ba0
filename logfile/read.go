package logfile

import (
	"fmt"

	"samsa/logfile/vfs"
	"samsa/record"
)

// Region is a byte range of one segment file holding whole batches: what a
// fetch sends with sendfile(2). It keeps its segment's files open until
// Release, even if retention or truncation removes the segment meanwhile.
type Region struct {
	File vfs.File
	Pos  int64
	Len  int64
	// NextOffset is the offset after the region's last batch (Read only).
	NextOffset int64
	seg        *segment
}

// FD returns the file descriptor to send from.
func (r *Region) FD() int { return int(r.File.Fd()) }

// Release drops the region's reference to its segment. Idempotent.
func (r *Region) Release() {
	if r.seg != nil {
		r.seg.release()
		r.seg = nil
	}
}

// Bytes copies the region into memory (tools and tests; the fetch path
// sends regions without copying).
func (r *Region) Bytes() ([]byte, error) {
	b := make([]byte, r.Len)
	if r.Len == 0 {
		return b, nil
	}
	if _, err := r.File.ReadAt(b, r.Pos); err != nil {
		return nil, fmt.Errorf("logfile: read region: %w", err)
	}
	return b, nil
}

// acquireFor returns the segment holding offset (or the next one holding
// data past it), referenced; nil if offset is past every segment. An offset
// below the first segment (retention removed it after the caller checked
// the start offset) is ErrOffsetOutOfRange.
func (l *Log) acquireFor(offset int64) (*segment, error) {
	for {
		segs := *l.segs.Load()
		i := segmentFor(segs, offset)
		if i < 0 {
			return nil, fmt.Errorf("%w: %d is below the first segment %d", ErrOffsetOutOfRange, offset, segs[0].base)
		}
		for ; i < len(segs); i++ {
			// Compaction may leave a segment with no batch at or past
			// offset, or none at all.
			if size, next := segs[i].load(); offset < next && size > 0 {
				break
			}
		}
		if i == len(segs) {
			return nil, nil
		}
		if s := segs[i]; s.acquire() {
			return s, nil
		}
		// Retention or truncation replaced it: take the new list.
	}
}

// Read returns a region of whole batches starting with the batch that holds
// offset, at most maxBytes long unless its first batch alone is longer
// (KIP-74: a reader always makes progress), and holding no batch that
// reaches maxOffset (the high watermark for consumers, the log end for
// followers). A region never spans two segments. Reading at or past
// maxOffset, up to the log end, gives an empty region; an offset outside
// [start, end] is ErrOffsetOutOfRange.
//
// The caller must Release the region.
func (l *Log) Read(offset, maxBytes, maxOffset int64) (Region, error) {
	end := l.end.Load()
	if start := l.start.Load(); offset < start || offset > end {
		return Region{}, fmt.Errorf("%w: %d not in [%d, %d]", ErrOffsetOutOfRange, offset, start, end)
	}
	maxOffset = min(maxOffset, end)
	if offset >= maxOffset {
		return Region{}, nil
	}
	s, err := l.acquireFor(offset)
	if s == nil {
		return Region{}, err
	}
	r, err := s.read(offset, maxBytes, maxOffset)
	if err != nil || r.Len == 0 {
		s.release()
		return Region{}, err
	}
	r.seg = s
	return r, nil
}

func (s *segment) read(offset, maxBytes, maxOffset int64) (Region, error) {
	size, next := s.load()
	start, err := s.locate(offset, size)
	if err != nil || start == size {
		return Region{}, err
	}
	end := size
	if maxOffset < next {
		if end, err = s.locate(maxOffset, size); err != nil {
			return Region{}, err
		}
	}
	if end <= start {
		return Region{}, nil
	}
	if end-start > maxBytes {
		if end, err = s.boundaryBefore(start, start+max(maxBytes, 0), end); err != nil {
			return Region{}, err
		}
	}
	if end < size {
		// The batch at end is the first not sent; its base offset is next.
		h, err := s.headerAt(end, size)
		if err != nil {
			return Region{}, err
		}
		next = h.BaseOffset
	}
	return Region{File: s.log, Pos: start, Len: end - start, NextOffset: next}, nil
}

// BatchInfo is a batch's header and where it lies.
type BatchInfo struct {
	record.Header
	Pos int64
}

// OffsetForTimestamp finds the first batch whose maxTimestamp is >= ts, the
// batch holding the first record at or after ts, and returns it as a region
// for the caller to decode (its records, compressed or not, give the exact
// offset). found is false when no batch reaches ts.
func (l *Log) OffsetForTimestamp(ts int64) (info BatchInfo, region Region, found bool, err error) {
	for _, s := range *l.segs.Load() {
		if s.maxTs.Load() < ts || !s.acquire() {
			continue
		}
		info, found, err = s.findTimestamp(ts, l.start.Load())
		if err != nil || !found {
			s.release()
			if err != nil {
				return info, Region{}, false, err
			}
			continue
		}
		return info, Region{File: s.log, Pos: info.Pos, Len: info.Size(), seg: s}, true, nil
	}
	return BatchInfo{}, Region{}, false, nil
}

func (s *segment) findTimestamp(ts, startOffset int64) (BatchInfo, bool, error) {
	_, off := s.tidx.Lookup(ts)
	_, pos := s.idx.Lookup(max(off, startOffset))
	size := s.sizeNow()
	for pos < size {
		h, err := s.headerAt(pos, size)
		if err != nil {
			return BatchInfo{}, false, err
		}
		if h.MaxTimestamp >= ts && h.LastOffset() >= startOffset {
			return BatchInfo{Header: h, Pos: pos}, true, nil
		}
		pos += h.Size()
	}
	return BatchInfo{}, false, nil
}

// MaxTimestamp returns the largest batch maxTimestamp in the log and the last
// offset of the first batch that has it; (-1, -1) for an empty log.
func (l *Log) MaxTimestamp() (ts, offset int64) {
	ts, offset = -1, -1
	for _, s := range *l.segs.Load() {
		if t := s.maxTs.Load(); t > ts && s.sizeNow() > 0 {
			ts, offset = t, s.maxTsOffset.Load()
		}
	}
	return ts, offset
}

// ReadBatchAt returns a copy of the batch holding offset, for control paths
// (tools, timestamp refinement); fetches use Read.
func (l *Log) ReadBatchAt(offset int64) (BatchInfo, []byte, error) {
	r, err := l.Read(offset, 1, l.end.Load())
	if err != nil {
		return BatchInfo{}, nil, err
	}
	defer r.Release()
	if r.Len == 0 {
		return BatchInfo{}, nil, fmt.Errorf("%w: no batch at %d", ErrOffsetOutOfRange, offset)
	}
	b, err := r.Bytes()
	if err != nil {
		return BatchInfo{}, nil, err
	}
	h, err := record.ParseHeader(b)
	return BatchInfo{Header: h, Pos: r.Pos}, b, err
}

// ScanBatches calls fn with the header of every batch from the one holding
// offset to the log end, in order, until fn returns false. It reads
// headers only (one pread each): for rebuilding state such as producer
// sequences, not for serving data.
func (l *Log) ScanBatches(offset int64, fn func(h *record.Header) bool) error {
	return l.scanBatches(offset, false, func(h *record.Header, _ []byte) bool { return fn(h) })
}

// maxControlBatch bounds the control batches ScanProducerBatches reads
// whole: a marker is about 80 bytes.
const maxControlBatch = 64 << 10

// ScanProducerBatches is ScanBatches for rebuilding producer state: it
// also gives fn the bytes of each control batch (nil for data batches),
// for the marker they hold; a control batch larger than any marker is
// given as nil.
func (l *Log) ScanProducerBatches(offset int64, fn func(h *record.Header, control []byte) bool) error {
	return l.scanBatches(offset, true, fn)
}

func (l *Log) scanBatches(offset int64, control bool, fn func(h *record.Header, control []byte) bool) error {
	end := l.end.Load()
	for offset < end {
		s, err := l.acquireFor(max(offset, l.start.Load()))
		if s == nil || err != nil {
			return err
		}
		size, next := s.load()
		pos, err := s.locate(offset, size)
		for err == nil && pos < size {
			var h record.Header
			if h, err = s.headerAt(pos, size); err != nil {
				break
			}
			var batch []byte
			if control && h.IsControl() && h.Size() <= maxControlBatch {
				batch = make([]byte, h.Size())
				if _, err = s.log.ReadAt(batch, pos); err != nil {
					err = fmt.Errorf("logfile: read %s at %d: %w", s.path(LogSuffix), pos, err)
					break
				}
			}
			if !fn(&h, batch) {
				s.release()
				return nil
			}
			pos += h.Size()
			offset = h.NextOffset()
		}
		s.release()
		if err != nil {
			return err
		}
		offset = max(offset, next)
	}
	return nil
}

// Headers calls fn with the header of each batch in the region, in order,
// until fn returns false (one pread per batch).
func (r *Region) Headers(fn func(h *record.Header) bool) error {
	if r.seg == nil {
		return nil
	}
	end := r.Pos + r.Len
	for pos := r.Pos; pos < end; {
		h, err := r.seg.headerAt(pos, end)
		if err != nil {
			return err
		}
		if !fn(&h) {
			return nil
		}
		pos += h.Size()
	}
	return nil
}

// ReadChunks reads the log from its start to its end as of the call, in
// regions of up to chunk bytes of whole batches, copying each into memory
// for fn. It is for replaying state (control paths), not for serving data.
func (l *Log) ReadChunks(chunk int64, fn func(batches []byte) error) error {
	off, end := l.StartOffset(), l.EndOffset()
	for off < end {
		r, err := l.Read(off, chunk, end)
		if err != nil || r.Len == 0 {
			return err
		}
		b, err := r.Bytes()
		next := r.NextOffset
		r.Release()
		if err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
		off = next
	}
	return nil
}
