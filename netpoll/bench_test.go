package netpoll

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"samsa/zerocopy"
)

// baselineServer is the least a framed echo server can do: one goroutine
// per connection with 64 KiB buffered reader and writer. It has no limits,
// pools, timeouts or regions, and keeps its buffers while idle; it is the
// yardstick for netpoll's per-request overhead. With coalesce it flushes
// only when no more input is buffered, so the responses to pipelined
// requests leave in one write; without, it writes each response as soon
// as it is ready, as netpoll (and Kafka) do.
func baselineServer(tb testing.TB, coalesce bool) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tb.Cleanup(func() { c.Close() })
			go func() {
				r, w := bufio.NewReaderSize(c, 64<<10), bufio.NewWriterSize(c, 64<<10)
				var p [4]byte
				buf := make([]byte, 64<<10)
				for {
					if _, err := io.ReadFull(r, p[:]); err != nil {
						return
					}
					n := binary.BigEndian.Uint32(p[:])
					if _, err := io.ReadFull(r, buf[:n]); err != nil {
						return
					}
					w.Write(p[:])
					w.Write(buf[:n])
					if !coalesce || r.Buffered() == 0 {
						if w.Flush() != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// BenchmarkRoundTrip measures small request/response round trips on one
// connection, one at a time (depth 1) and pipelined (depth 64, the client
// writes 64 requests, then reads 64 responses), for netpoll and for the
// baselines in the same run.
func BenchmarkRoundTrip(b *testing.B) {
	const size = 100
	for _, srv := range []string{"netpoll", "bufio", "bufio-coalesce"} {
		for _, depth := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/depth=%d", srv, depth), func(b *testing.B) {
				var addr string
				if srv == "netpoll" {
					addr = startServer(b, Config{}, echo).addr
				} else {
					addr = baselineServer(b, srv == "bufio-coalesce")
				}
				c := dial(b, addr)
				w, r := bufio.NewWriterSize(c, 64<<10), bufio.NewReaderSize(c, 64<<10)
				req := frame(make([]byte, size))
				resp := make([]byte, len(req))
				inflight := 0
				drain := func() {
					w.Flush()
					for ; inflight > 0; inflight-- {
						if _, err := io.ReadFull(r, resp); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.SetBytes(int64(len(req)))
				b.ReportAllocs()
				for b.Loop() {
					w.Write(req)
					if inflight++; inflight == depth {
						drain()
					}
				}
				drain()
			})
		}
	}
}

// BenchmarkFetchResponse writes fetch-like responses, a 64-byte header
// followed by a file region, with and without TCP_CORK, and reports the
// TCP segments the server sent per response (from TCP_INFO).
func BenchmarkFetchResponse(b *testing.B) {
	f, _ := segmentFile(b, 1<<20)
	header := make([]byte, 64)
	for _, size := range []int64{1 << 10, 16 << 10, 1 << 20} {
		for _, cork := range []bool{true, false} {
			name := "cork"
			if !cork {
				name = "nocork"
			}
			b.Run(fmt.Sprintf("%s/%s", name, sizeName(size)), func(b *testing.B) {
				var server atomic.Pointer[Conn]
				ts := startServer(b, Config{}, HandlerFunc(func(c *Conn, req []byte) *Response {
					server.Store(c)
					r := NewResponse(header)
					r.AddRegion(zerocopy.Region{FD: int(f.Fd()), Len: size}, nil)
					return r
				}))
				ts.cork = cork
				c := dial(b, ts.addr)
				r := bufio.NewReaderSize(c, 256<<10)
				req := frame([]byte("fetch"))
				resp := make([]byte, 4+64+size)
				roundTrip := func() {
					if _, err := c.Write(req); err != nil {
						b.Fatal(err)
					}
					if _, err := io.ReadFull(r, resp); err != nil {
						b.Fatal(err)
					}
				}
				roundTrip()
				segs0 := segsOut(b, server.Load())
				b.SetBytes(int64(len(resp)))
				b.ReportAllocs()
				for b.Loop() {
					roundTrip()
				}
				b.ReportMetric(float64(segsOut(b, server.Load())-segs0)/float64(b.N), "segs/op")
			})
		}
	}
}

// segsOut returns the data segments sent on the server's end of c.
func segsOut(tb testing.TB, c *Conn) uint32 {
	rc, err := c.nc.(syscall.Conn).SyscallConn()
	if err != nil {
		tb.Fatal(err)
	}
	var info *unix.TCPInfo
	rc.Control(func(fd uintptr) {
		info, err = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return info.Data_segs_out
}

func sizeName(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dKiB", n>>10)
}
