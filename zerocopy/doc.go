// Package zerocopy sends regions of files to sockets without passing their
// bytes through Go memory.
//
// # Regions
//
// A [Region] names Len bytes of an open file starting at the absolute
// offset Off. It carries a raw file descriptor, not an *os.File, so the
// storage layer can hand out regions of segment files it keeps open and the
// network layer can send them without knowing about segments. The region
// does not own the descriptor: the caller keeps the file open (and its bytes
// in place) until the send returns.
//
// # Sending
//
// [SendFile] writes a region to a connection. When the connection exposes
// its descriptor ([syscall.Conn], as *net.TCPConn and *net.UnixConn do) the
// bytes go from the page cache to the socket with sendfile(2); otherwise
// (a TLS connection, a test pipe) SendFile falls back to [Copy], which
// preads into a pooled buffer and writes it.
//
// The sendfile path runs inside [syscall.RawConn.Write]: the callback calls
// sendfile with an explicit offset until the region is done and returns
// false on EAGAIN, which parks the goroutine in the runtime network poller
// until the socket is writable again. No thread spins and no goroutine
// polls. This is the pattern of golang.org/x/net internal/socket.
//
// # Invariants
//
//  1. The file offset of Region.FD is never read or moved: every read is
//     positional (sendfile with an offset pointer, pread). Several
//     goroutines may send regions of one descriptor at once.
//  2. On the sendfile path the region's bytes never enter Go memory: the
//     heap does not grow with the size of the region. The copy path stages
//     them through one buffer of [CopyBufferSize] bytes.
//  3. SendFile returns the number of bytes of the region written to the
//     connection, whatever the outcome. When it is less than Len the error
//     is non-nil and the connection must be considered broken: the peer has
//     received a prefix of the region.
//  4. If the file ends before the region does (the file was truncated under
//     the sender), both paths stop with an error wrapping [ErrShortFile]
//     instead of waiting for bytes that will never come.
//  5. A write deadline set on the connection bounds the whole send: when it
//     passes, SendFile returns an error for which
//     errors.Is(err, os.ErrDeadlineExceeded) holds.
//  6. EINTR is retried; EAGAIN parks; any other error ends the send. If the
//     kernel refuses sendfile for this pair of descriptors before the first
//     byte (EINVAL, ENOSYS, EOPNOTSUPP) the region is copied instead.
//
// # Locks
//
// None. A send works on its arguments alone; the copy path's buffers come
// from a sync.Pool, one per send while it runs.
package zerocopy
