package zerocopy

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// CopyBufferSize is the size of the buffers [Copy] stages bytes through.
const CopyBufferSize = 64 << 10

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, CopyBufferSize)
	return &b
}}

// Copy writes the region r to w by reading it into a pooled buffer with
// pread(2) and writing the buffer. It is the path for connections that do
// not expose a descriptor (TLS) and the baseline sendfile is measured
// against. Its results follow the same invariants as [SendFile].
func Copy(w io.Writer, r Region) (int64, error) {
	if err := r.check(); err != nil {
		return 0, err
	}
	if r.Len == 0 {
		return 0, nil
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	return CopyBuffer(w, r, *bp)
}

// CopyBuffer is [Copy] staging the bytes through buf instead of a pooled
// buffer. It panics if buf is empty.
func CopyBuffer(w io.Writer, r Region, buf []byte) (int64, error) {
	if len(buf) == 0 {
		panic("zerocopy: CopyBuffer with an empty buffer")
	}
	if err := r.check(); err != nil {
		return 0, err
	}
	var sent int64
	for sent < r.Len {
		n, err := ReadAt(r, sent, buf)
		if err != nil {
			return sent, err
		}
		m, err := w.Write(buf[:n])
		sent += int64(m)
		if err != nil {
			return sent, err
		}
		if m < n {
			return sent, io.ErrShortWrite
		}
	}
	return sent, nil
}

// ReadAt reads the region's bytes from done (bytes of it already sent)
// into p with one pread(2), at most len(p) and the rest of the region,
// and returns how many it read: at least one unless p is empty or the
// region done. EINTR is retried; a file that ends before the region does
// fails with an error wrapping ErrShortFile. It is the copy path's read,
// for writers that stage region bytes in a buffer of their own (TLS).
func ReadAt(r Region, done int64, p []byte) (int, error) {
	if err := r.check(); err != nil {
		return 0, err
	}
	if done < 0 || done > r.Len {
		return 0, fmt.Errorf("%w: offset %d outside %v", ErrInvalidRegion, done, r)
	}
	chunk := p[:min(int64(len(p)), r.Len-done)]
	if len(chunk) == 0 {
		return 0, nil
	}
	for {
		n, err := unix.Pread(r.FD, chunk, r.Off+done)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, os.NewSyscallError("pread", err)
		case n == 0:
			return 0, shortFile(r, done)
		}
		return n, nil
	}
}
