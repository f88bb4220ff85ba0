package zerocopy

import (
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
		chunk := buf[:min(int64(len(buf)), r.Len-sent)]
		n, err := unix.Pread(r.FD, chunk, r.Off+sent)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return sent, os.NewSyscallError("pread", err)
		case n == 0:
			return sent, shortFile(r, sent)
		}
		m, err := w.Write(chunk[:n])
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
