package segment

import (
	"samsa/record"
)

// Read returns the byte range [pos, pos+n) of whole batches from the one
// holding offset, at most maxBytes long unless its first batch alone is
// longer (KIP-74), holding no batch that reaches maxOffset; next is the
// offset after its last batch. n is 0 when no batch qualifies.
func (s *Segment) Read(offset, maxBytes, maxOffset int64) (pos, n, next int64, err error) {
	var size, start int64
	size, next = s.Load()
	start, err = s.Locate(offset, size)
	if err != nil || start == size {
		return 0, 0, 0, err
	}
	end := size
	if maxOffset < next {
		if end, err = s.Locate(maxOffset, size); err != nil {
			return 0, 0, 0, err
		}
	}
	if end <= start {
		return 0, 0, 0, nil
	}
	if end-start > maxBytes {
		if end, err = s.BoundaryBefore(start, start+max(maxBytes, 0), end); err != nil {
			return 0, 0, 0, err
		}
	}
	if end < size {
		// The batch at end is the first not sent; its base offset is next.
		h, err := s.HeaderAt(end, size)
		if err != nil {
			return 0, 0, 0, err
		}
		next = h.BaseOffset
	}
	return start, end - start, next, nil
}

// FindTimestamp returns the header and position of the first batch whose
// maxTimestamp is >= ts and whose last offset is >= startOffset, and
// whether there is one.
func (s *Segment) FindTimestamp(ts, startOffset int64) (record.Header, int64, bool, error) {
	_, off := s.TimeIndex.Lookup(ts)
	_, pos := s.Index.Lookup(max(off, startOffset))
	size := s.Size()
	for pos < size {
		h, err := s.HeaderAt(pos, size)
		if err != nil {
			return h, 0, false, err
		}
		if h.MaxTimestamp >= ts && h.LastOffset() >= startOffset {
			return h, pos, true, nil
		}
		pos += h.Size()
	}
	return record.Header{}, 0, false, nil
}

// FirstTimestamp returns the first batch's firstTimestamp; -1 if there is
// none or it does not read.
func (s *Segment) FirstTimestamp() int64 {
	h, err := s.HeaderAt(0, s.Size())
	if err != nil {
		return -1
	}
	return h.FirstTimestamp
}
