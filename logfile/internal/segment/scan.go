package segment

import (
	"fmt"
	"io"

	"samsa/record"
)

// scanner reads whole batches sequentially through a buffer, so that a
// recovery scan costs one read per buffer, not per batch.
type scanner struct {
	r     io.ReaderAt
	pos   int64 // file position of buf[off]: the next batch
	limit int64
	buf   []byte
	off   int // start of unread bytes in buf
	n     int // end of valid bytes in buf
}

const scanBuf = 1 << 20

func newScanner(r io.ReaderAt, from, limit int64) *scanner {
	size := min(scanBuf, max(limit-from, record.HeaderSize))
	return &scanner{r: r, pos: from, limit: limit, buf: make([]byte, size)}
}

func (sc *scanner) free() { sc.buf = nil }

// fill makes at least want bytes available at buf[off:], reading no byte at
// or past limit; want must not exceed limit-pos.
func (sc *scanner) fill(want int) error {
	if sc.n-sc.off >= want {
		return nil
	}
	if want > len(sc.buf) {
		nb := make([]byte, want)
		copy(nb, sc.buf[sc.off:sc.n])
		sc.buf = nb
	} else {
		copy(sc.buf, sc.buf[sc.off:sc.n])
	}
	sc.n -= sc.off
	sc.off = 0
	for sc.n < want {
		fileOff := sc.pos + int64(sc.n)
		room := min(int64(len(sc.buf)-sc.n), sc.limit-fileOff)
		m, err := sc.r.ReadAt(sc.buf[sc.n:sc.n+int(room)], fileOff)
		sc.n += m
		if m == 0 && err != nil {
			if err == io.EOF {
				return fmt.Errorf("%w: file ends at %d before its expected size", record.ErrTornTail, fileOff)
			}
			return err
		}
	}
	return nil
}

// next returns the next batch, its header and its position. At a clean end it
// returns io.EOF with pos at the end; otherwise an error leaves pos at the
// start of the bad batch.
func (sc *scanner) next() (h record.Header, batch []byte, pos int64, err error) {
	pos = sc.pos
	left := sc.limit - sc.pos
	if left == 0 {
		return h, nil, pos, io.EOF
	}
	if left < record.HeaderSize {
		return h, nil, pos, fmt.Errorf("%w: at %d: %d bytes left", record.ErrTornTail, pos, left)
	}
	if err := sc.fill(record.HeaderSize); err != nil {
		return h, nil, pos, err
	}
	h, err = record.ParseHeader(sc.buf[sc.off:sc.n])
	if err != nil {
		return h, nil, pos, fmt.Errorf("at %d: %w", pos, err)
	}
	size := h.Size()
	if size > left {
		return h, nil, pos, fmt.Errorf("%w: at %d: batch of %d bytes, %d left", record.ErrTornTail, pos, size, left)
	}
	if err := sc.fill(int(size)); err != nil {
		return h, nil, pos, err
	}
	batch = sc.buf[sc.off : sc.off+int(size)]
	sc.off += int(size)
	sc.pos += size
	return h, batch, pos, nil
}

// Batches calls fn with each of the segment's batches in order; the bytes
// are valid during the call only.
func (s *Segment) Batches(fn func(h *record.Header, batch []byte) error) error {
	sc := newScanner(s.File, 0, s.Size())
	defer sc.free()
	for {
		h, batch, _, err := sc.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s.Path(LogSuffix), err)
		}
		if err := fn(&h, batch); err != nil {
			return err
		}
	}
}
