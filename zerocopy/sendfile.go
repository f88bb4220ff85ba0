package zerocopy

import (
	"errors"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxChunk bounds the count passed to one sendfile call. Linux moves at most
// 0x7ffff000 bytes per call; asking for less keeps the count well inside an
// int on every platform.
const maxChunk = 1 << 30

// testHookPark, when set, runs each time sendfile finds the socket full and
// the goroutine is about to park. Tests set it before any send starts.
var testHookPark func()

// SendFile writes the region r to w and returns the number of bytes of the
// region written.
//
// If w is a [syscall.Conn] (a *net.TCPConn, *net.UnixConn, *os.File) the
// bytes go with sendfile(2) and never enter Go memory; otherwise SendFile
// falls back to [Copy]. See the package comment for the invariants.
func SendFile(w io.Writer, r Region) (int64, error) {
	if err := r.check(); err != nil {
		return 0, err
	}
	if r.Len == 0 {
		return 0, nil
	}
	sc, ok := w.(syscall.Conn)
	if !ok {
		return Copy(w, r)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, err
	}
	sent, err := sendfile(rc, r)
	if sent == 0 && unsupported(err) {
		return Copy(w, r)
	}
	return sent, err
}

// sendfile runs sendfile(2) inside rc.Write. The callback may run several
// times: each time the socket fills up it returns false and the runtime
// poller parks the goroutine until the socket is writable (or the write
// deadline passes, in which case rc.Write returns the deadline error).
func sendfile(rc syscall.RawConn, r Region) (int64, error) {
	// off is the single source of truth for progress: the kernel advances it
	// by exactly the bytes it moved, on partial sends too.
	off, end := r.Off, r.Off+r.Len
	var serr error
	err := rc.Write(func(fd uintptr) bool {
		for off < end {
			n, err := unix.Sendfile(int(fd), r.FD, &off, int(min(end-off, maxChunk)))
			switch {
			case err == unix.EINTR:
				continue
			case err == unix.EAGAIN:
				if testHookPark != nil {
					testHookPark()
				}
				return false
			case err != nil:
				serr = os.NewSyscallError("sendfile", err)
				return true
			case n == 0:
				// Zero bytes without an error: end of file inside the region.
				serr = shortFile(r, off-r.Off)
				return true
			}
		}
		return true
	})
	if err == nil {
		err = serr
	}
	return off - r.Off, err
}

// unsupported reports whether err means this pair of descriptors cannot use
// sendfile at all (as opposed to a failure of the connection).
func unsupported(err error) bool {
	return errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) ||
		errors.Is(err, unix.EOPNOTSUPP)
}
