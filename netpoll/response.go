package netpoll

import (
	"encoding/binary"
	"fmt"
	"math"
	"syscall"

	"golang.org/x/sys/unix"

	"samsa/zerocopy"
)

// Response is a response frame body as a sequence of parts: byte slices,
// written with writev, and file regions, written with sendfile. netpoll
// writes the int32 size prefix, computed from the parts, before them.
// The zero value is an empty response (a frame of size 0). A Response is
// written once and must not be changed after the handler returns it.
type Response struct {
	parts   []part
	size    int64
	regions int
	close   bool
	done    func(error)
}

type part struct {
	b       []byte
	region  zerocopy.Region
	release func() // regions only; may be nil
	file    bool
}

// NewResponse returns a response made of the byte slices b.
func NewResponse(b ...[]byte) *Response {
	r := &Response{parts: make([]part, 0, len(b))}
	for _, p := range b {
		r.AddBytes(p)
	}
	return r
}

// AddBytes appends b. netpoll keeps b until the response is written.
func (r *Response) AddBytes(b []byte) {
	if len(b) == 0 {
		return
	}
	r.parts = append(r.parts, part{b: b})
	r.size += int64(len(b))
}

// AddRegion appends a file region, sent with sendfile when the connection
// allows it. release, if not nil, runs exactly once: after the region has
// been written, or when the response is abandoned (write error, closed
// connection); the caller may then close or delete the file. It panics if
// reg is invalid.
func (r *Response) AddRegion(reg zerocopy.Region, release func()) {
	if reg.FD < 0 || reg.Off < 0 || reg.Len < 0 {
		panic(fmt.Sprintf("netpoll: AddRegion of an invalid region %v", reg))
	}
	r.parts = append(r.parts, part{region: reg, release: release, file: true})
	r.size += reg.Len
	r.regions++
}

// OnDone sets fn to run exactly once after the response: with nil once
// every byte has been handed to the kernel, or with the error that
// abandoned it. Byte parts may be recycled from fn.
func (r *Response) OnDone(fn func(err error)) { r.done = fn }

// CloseAfter asks for the connection to be closed once this response has
// been written (Kafka does this after a failed authentication).
func (r *Response) CloseAfter() { r.close = true }

// Size returns the size of the response frame, prefix excluded.
func (r *Response) Size() int64 { return r.size }

// maxKeptIOV bounds the writev scratch a connection keeps between
// responses.
const maxKeptIOV = 16

// write writes r and reports whether the connection should go on. It runs
// every release callback and the done callback exactly once.
func (c *Conn) write(r *Response) (keep bool) {
	s := c.srv
	var err error
	released := 0 // parts[:released] have had their release run
	defer func() {
		for _, p := range r.parts[released:] {
			if p.release != nil {
				p.release()
			}
		}
		if r.done != nil {
			r.done(err)
		}
	}()
	if r.size > math.MaxInt32 {
		err = fmt.Errorf("netpoll: response of %d bytes does not fit the int32 size prefix", r.size)
		s.log.Error("netpoll: closing connection", "conn", c.id, "remote", c.nc.RemoteAddr(), "err", err)
		s.st.writeFailures.Add(1)
		return false
	}
	c.nc.SetWriteDeadline(deadline(s.cfg.WriteTimeout))
	binary.BigEndian.PutUint32(c.prefix[:], uint32(r.size))
	var written int64
	if c.tlsState != nil {
		written, err = c.writeStaged(r, &released)
	} else {
		written, err = c.writeDirect(r, &released)
	}
	s.st.bytesOut.Add(uint64(written))
	if err != nil {
		s.st.writeFailures.Add(1)
		s.log.Debug("netpoll: closing connection: response write failed",
			"conn", c.id, "remote", c.nc.RemoteAddr(), "written", written, "size", 4+r.size, "err", err)
		return false
	}
	return !r.close
}

// writeDirect writes a response to a plain socket: byte parts with
// writev, regions with sendfile. released counts the parts whose release
// has run.
func (c *Conn) writeDirect(r *Response, released *int) (int64, error) {
	s := c.srv
	if r.regions > 0 && s.cork {
		// Hold partial segments until the response is complete, so the
		// prefix and header bytes share a segment with region bytes.
		c.setCork(1)
		defer c.setCork(0)
	}

	var written int64
	var err error
	iov := append(c.iov[:0], c.prefix[:])
	flush := func() error {
		if len(iov) == 0 {
			return nil
		}
		c.nb = iov
		n, err := c.nb.WriteTo(c.nc)
		written += n
		clear(iov)
		c.nb = nil
		iov = iov[:0]
		return err
	}
	for i, p := range r.parts {
		if !p.file {
			iov = append(iov, p.b)
			continue
		}
		if err = flush(); err != nil {
			break
		}
		var n int64
		n, err = zerocopy.SendFile(c.nc, p.region)
		written += n
		if p.release != nil {
			p.release()
		}
		*released = i + 1
		if err != nil {
			break
		}
	}
	if err == nil {
		err = flush()
	}
	clear(iov[:cap(iov)])
	if cap(iov) <= maxKeptIOV {
		c.iov = iov[:0]
	} else {
		c.iov = nil
	}
	return written, err
}

// writeStaged writes a response to a TLS connection, which must encrypt
// every byte: parts and regions are copied, regions with pread, into the
// connection's one write buffer, and each full buffer is written (as TLS
// records of 16 KiB). The size prefix and header bytes share the first
// records with the region's first bytes. A region is released once its
// bytes are in the buffer: the file is not read again.
func (c *Conn) writeStaged(r *Response, released *int) (int64, error) {
	if c.wbuf == nil {
		c.wbuf = getBuf(zerocopy.CopyBufferSize)
	}
	buf := (*c.wbuf)[:0]
	var written int64
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		n, err := c.nc.Write(buf)
		written += int64(n)
		buf = buf[:0]
		return err
	}
	add := func(b []byte) error {
		for len(b) > 0 {
			if len(buf) == cap(buf) {
				if err := flush(); err != nil {
					return err
				}
			}
			n := copy(buf[len(buf):cap(buf)], b)
			buf, b = buf[:len(buf)+n], b[n:]
		}
		return nil
	}
	if err := add(c.prefix[:]); err != nil {
		return written, err
	}
	for i, p := range r.parts {
		if !p.file {
			if err := add(p.b); err != nil {
				return written, err
			}
			continue
		}
		for done := int64(0); done < p.region.Len; {
			if len(buf) == cap(buf) {
				if err := flush(); err != nil {
					return written, err
				}
			}
			n, err := zerocopy.ReadAt(p.region, done, buf[len(buf):cap(buf)])
			if err != nil {
				return written, err
			}
			buf, done = buf[:len(buf)+n], done+int64(n)
		}
		if p.release != nil {
			p.release()
		}
		*released = i + 1
	}
	return written, flush()
}

// releaseWriteBuf returns the TLS write buffer to its pool: the
// connection is idle or closed.
func (c *Conn) releaseWriteBuf() {
	if c.wbuf != nil {
		putBuf(c.wbuf)
		c.wbuf = nil
	}
}

// setCork sets TCP_CORK; on sockets without it (not TCP) it does nothing.
func (c *Conn) setCork(on int) {
	if c.rc == nil {
		sc, ok := c.nc.(syscall.Conn)
		if !ok {
			return
		}
		rc, err := sc.SyscallConn()
		if err != nil {
			return
		}
		c.rc = rc
	}
	c.rc.Control(func(fd uintptr) {
		unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_CORK, on)
	})
}
