package netpoll

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"samsa/zerocopy"
)

// segmentFile creates a file of seeded random bytes, like a log segment.
func segmentFile(tb testing.TB, size int) (*os.File, []byte) {
	tb.Helper()
	data := make([]byte, size)
	rand.NewChaCha8([32]byte{4}).Read(data)
	f, err := os.Create(filepath.Join(tb.TempDir(), "00000000000000000000.log"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	if _, err := f.Write(data); err != nil {
		tb.Fatal(err)
	}
	return f, data
}

// hidingListener returns connections that do not expose their descriptor,
// as TLS connections do: regions go through zerocopy's copy path.
type hidingListener struct{ net.Listener }

func (l hidingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return struct{ net.Conn }{c}, nil
}

// releases counts release and done callbacks to check that each runs
// exactly once.
type releases struct {
	calls  atomic.Int64
	double atomic.Int64 // a release that ran twice
	done   atomic.Int64
	errs   atomic.Int64 // done called with an error
}

func (rs *releases) release() func() {
	var ran atomic.Bool
	return func() {
		if ran.Swap(true) {
			rs.double.Add(1)
		}
		rs.calls.Add(1)
	}
}

func (rs *releases) onDone(r *Response) {
	r.OnDone(func(err error) {
		rs.done.Add(1)
		if err != nil {
			rs.errs.Add(1)
		}
	})
}

// TestMixedResponse answers pipelined requests with a fetch-like response:
// header bytes interleaved with file regions. Every frame arrives
// byte-exact and every release runs once, on the sendfile path with and
// without TCP_CORK, and on the copy path.
func TestMixedResponse(t *testing.T) {
	f, data := segmentFile(t, 1<<20)
	fd := int(f.Fd())
	const reqs = 20
	// Request i asks for regions at offsets depending on i.
	regions := func(i int) [3]zerocopy.Region {
		return [3]zerocopy.Region{
			{FD: fd, Off: int64(i * 1000), Len: 1000 + int64(i)},
			{FD: fd, Off: int64(300000 + i*7), Len: 200000},
			{FD: fd, Off: 5, Len: 0},
		}
	}
	expect := func(i int) []byte {
		rs := regions(i)
		var b []byte
		b = append(b, "HDR"...)
		b = append(b, data[rs[0].Off:rs[0].Off+rs[0].Len]...)
		b = append(b, "|partition 2|"...)
		b = append(b, data[rs[1].Off:rs[1].Off+rs[1].Len]...)
		return append(b, "END"...)
	}
	for _, tc := range []struct {
		name  string
		cork  bool
		hides bool
	}{
		{"sendfile with cork", true, false},
		{"sendfile without cork", false, false},
		{"copy path", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rs releases
			h := HandlerFunc(func(c *Conn, req []byte) *Response {
				reg := regions(int(req[0]))
				r := NewResponse([]byte("HDR"))
				r.AddRegion(reg[0], rs.release())
				r.AddBytes([]byte("|partition 2|"))
				r.AddRegion(reg[1], rs.release())
				r.AddRegion(reg[2], rs.release())
				r.AddBytes([]byte("END"))
				rs.onDone(r)
				return r
			})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			if tc.hides {
				ln = hidingListener{ln}
			}
			ts := serveOn(t, ln, Config{}, h)
			ts.cork = tc.cork
			c := dial(t, ts.addr)
			var out []byte
			for i := range reqs {
				out = append(out, frame([]byte{byte(i)})...)
			}
			c.Write(out)
			for i := range reqs {
				resp, err := readFrame(c)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(resp, expect(i)) {
					t.Fatalf("response %d: %d bytes differ from the expected %d", i, len(resp), len(expect(i)))
				}
			}
			waitFor(t, "callbacks", func() bool { return rs.done.Load() == reqs })
			if rs.calls.Load() != 3*reqs || rs.double.Load() != 0 || rs.errs.Load() != 0 {
				t.Fatalf("releases %d (want %d), run twice %d, done errors %d",
					rs.calls.Load(), 3*reqs, rs.double.Load(), rs.errs.Load())
			}
		})
	}
}

// TestResponseFailure: responses that cannot be written close their
// connection, run every release once and report the error to OnDone; the
// server keeps serving other connections.
func TestResponseFailure(t *testing.T) {
	f, data := segmentFile(t, 64<<10)
	fd := int(f.Fd())
	good := zerocopy.Region{FD: fd, Off: 0, Len: 1000}
	cases := []struct {
		name   string
		region zerocopy.Region
		before func(c *Conn)
		prefix int // bytes of the frame the client receives before the close
	}{
		{"bad descriptor", zerocopy.Region{FD: 999999, Len: 10}, nil, 4 + 3 + 1000},
		{"file shorter than region", zerocopy.Region{FD: fd, Off: 60 << 10, Len: 8 << 10}, nil, 4 + 3 + 1000 + 4<<10},
		{"size over int32", zerocopy.Region{FD: fd, Len: 1 << 31}, nil, 0},
		{"handler closed the conn", good, func(c *Conn) { c.Close() }, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var rs releases
			ts := startServer(t, Config{}, HandlerFunc(func(c *Conn, req []byte) *Response {
				if string(req) != "fetch" {
					return NewResponse(req)
				}
				if tc.before != nil {
					tc.before(c)
				}
				r := NewResponse([]byte("HDR"))
				r.AddRegion(good, rs.release())
				r.AddRegion(tc.region, rs.release())
				r.AddRegion(good, rs.release())
				r.AddBytes([]byte("END"))
				rs.onDone(r)
				return r
			}))
			c := dial(t, ts.addr)
			writeFrame(c, []byte("fetch"))
			got, _ := readAll(c)
			if len(got) != tc.prefix {
				t.Fatalf("client received %d bytes, want %d", len(got), tc.prefix)
			}
			if tc.prefix > 0 {
				want := append(frame([]byte("HDR"))[:7:7], data[:1000]...)
				if r := tc.region; r.FD == fd {
					want = append(want, data[r.Off:]...)
				}
				binary.BigEndian.PutUint32(want, uint32(3+1000+tc.region.Len+1000+3))
				if !bytes.Equal(got, want) {
					t.Fatal("the bytes received differ from the response's prefix")
				}
			}
			waitFor(t, "callbacks", func() bool { return rs.done.Load() == 1 })
			if rs.calls.Load() != 3 || rs.double.Load() != 0 || rs.errs.Load() != 1 {
				t.Fatalf("releases %d (want 3), run twice %d, done errors %d (want 1)",
					rs.calls.Load(), rs.double.Load(), rs.errs.Load())
			}
			if st := ts.Stats(); st.WriteFailures != 1 {
				t.Fatalf("WriteFailures = %d", st.WriteFailures)
			}
			roundTripAny(t, ts.addr)
		})
	}
}

// readAll reads until the server closes the connection.
func readAll(c net.Conn) ([]byte, error) {
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		c.SetReadDeadline(time.Now().Add(ioTimeout))
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return out, err
			}
			return out, nil
		}
	}
}

// roundTripAny checks that a new connection is served (any response).
func roundTripAny(tb testing.TB, addr string) {
	tb.Helper()
	c := dial(tb, addr)
	if err := writeFrame(c, []byte("x")); err != nil {
		tb.Fatal(err)
	}
	if _, err := readFrame(c); err != nil {
		tb.Fatal(err)
	}
}
