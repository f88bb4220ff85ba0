package zerocopy

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection: tx sends
// regions, rx receives them. Both are closed when the test ends.
func tcpPair(tb testing.TB) (tx, rx *net.TCPConn) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	s, ok := <-accepted
	if !ok {
		tb.Fatal("accept failed")
	}
	tb.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// patternFile creates a file of size bytes of seeded pseudo-random content
// and returns it with the content.
func patternFile(tb testing.TB, size int) (*os.File, []byte) {
	tb.Helper()
	data := make([]byte, size)
	rng := rand.NewChaCha8([32]byte{1, 2, 3})
	rng.Read(data)
	f, err := os.Create(filepath.Join(tb.TempDir(), "segment.log"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	if _, err := f.Write(data); err != nil {
		tb.Fatal(err)
	}
	return f, data
}

// sparseFile creates a file of size bytes without writing them.
func sparseFile(tb testing.TB, size int64) *os.File {
	tb.Helper()
	f, err := os.Create(filepath.Join(tb.TempDir(), "sparse.log"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	if err := f.Truncate(size); err != nil {
		tb.Fatal(err)
	}
	return f
}

// receive reads exactly n bytes from c in the background.
func receive(c net.Conn, n int64) <-chan []byte {
	out := make(chan []byte, 1)
	go func() {
		buf := make([]byte, n)
		m, _ := io.ReadFull(c, buf)
		out <- buf[:m]
	}()
	return out
}

// hideConn hides the syscall.Conn of a connection, as a TLS connection does.
type hideConn struct{ io.Writer }

type sendFunc func(w io.Writer, r Region) (int64, error)

var paths = []struct {
	name string
	send sendFunc
}{
	{"sendfile", SendFile},
	{"copy", Copy},
	{"fallback", func(w io.Writer, r Region) (int64, error) { return SendFile(hideConn{w}, r) }},
}

func TestSendRegions(t *testing.T) {
	const size = 3*CopyBufferSize + 12345
	f, data := patternFile(t, size)
	fd := int(f.Fd())
	cases := []struct {
		name     string
		off, len int64
	}{
		{"whole file", 0, size},
		{"empty", 100, 0},
		{"one byte", 7, 1},
		{"middle unaligned", 4097, 2*CopyBufferSize + 3},
		{"tail", size - 1000, 1000},
		{"from offset to end", 12345, size - 12345},
	}
	for _, p := range paths {
		for _, tc := range cases {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				tx, rx := tcpPair(t)
				got := receive(rx, tc.len)
				n, err := p.send(tx, Region{FD: fd, Off: tc.off, Len: tc.len})
				if err != nil || n != tc.len {
					t.Fatalf("send = %d, %v; want %d, nil", n, err, tc.len)
				}
				if b := <-got; !bytes.Equal(b, data[tc.off:tc.off+tc.len]) {
					t.Fatalf("received %d bytes that differ from file[%d:%d]", len(b), tc.off, tc.off+tc.len)
				}
			})
		}
	}
	// Positional reads only: the descriptor's file offset stays where the
	// writer left it.
	if pos, err := f.Seek(0, io.SeekCurrent); err != nil || pos != size {
		t.Fatalf("file offset = %d, %v; want %d", pos, err, size)
	}
}

func TestSendInvalidRegion(t *testing.T) {
	f, _ := patternFile(t, 10)
	tx, _ := tcpPair(t)
	for _, r := range []Region{
		{FD: int(f.Fd()), Off: -1, Len: 1},
		{FD: int(f.Fd()), Off: 0, Len: -1},
		{FD: -1, Off: 0, Len: 1},
		{FD: int(f.Fd()), Off: 1 << 62, Len: 1 << 62},
	} {
		for _, p := range paths {
			if n, err := p.send(tx, r); n != 0 || !errors.Is(err, ErrInvalidRegion) {
				t.Errorf("%s %v: got %d, %v; want ErrInvalidRegion", p.name, r, n, err)
			}
		}
	}
}

// TestSendLargeSlowReader sends 64 MiB to a receiver that does not read
// until the sender has found the socket full and parked at least once, so
// the EAGAIN path is taken for certain, then checks every byte.
func TestSendLargeSlowReader(t *testing.T) {
	const size = 64 << 20
	f, data := patternFile(t, size)
	tx, rx := tcpPair(t)
	var parks atomic.Int64
	parked := make(chan struct{})
	var once sync.Once
	testHookPark = func() {
		parks.Add(1)
		once.Do(func() { close(parked) })
	}
	t.Cleanup(func() { testHookPark = nil })

	got := make(chan []byte, 1)
	go func() {
		<-parked
		got <- (<-receive(rx, size))
	}()
	n, err := SendFile(tx, Region{FD: int(f.Fd()), Off: 0, Len: size})
	if err != nil || n != size {
		t.Fatalf("SendFile = %d, %v; want %d, nil", n, err, size)
	}
	if !bytes.Equal(<-got, data) {
		t.Fatal("received bytes differ from the file")
	}
	if parks.Load() == 0 {
		t.Fatal("sender never parked on a full socket")
	}
	t.Logf("parked %d times", parks.Load())
}

// TestSendShortFile truncates the file under a region: the send stops at the
// new end of file with ErrShortFile, after sending the bytes that remain.
func TestSendShortFile(t *testing.T) {
	const size, cut = 3 * CopyBufferSize, CopyBufferSize + 100
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			f, data := patternFile(t, size)
			r := Region{FD: int(f.Fd()), Off: 10, Len: size - 10}
			if err := f.Truncate(cut); err != nil {
				t.Fatal(err)
			}
			tx, rx := tcpPair(t)
			got := receive(rx, cut-10)
			n, err := p.send(tx, r)
			if !errors.Is(err, ErrShortFile) || n != cut-10 {
				t.Fatalf("send = %d, %v; want %d, ErrShortFile", n, err, cut-10)
			}
			if !bytes.Equal(<-got, data[10:cut]) {
				t.Fatal("received bytes differ from the file")
			}
			// A region that starts past the end sends nothing.
			n, err = p.send(tx, Region{FD: r.FD, Off: cut + 1, Len: 5})
			if !errors.Is(err, ErrShortFile) || n != 0 {
				t.Fatalf("past end: send = %d, %v; want 0, ErrShortFile", n, err)
			}
		})
	}
}

// TestSendWriteDeadline sends to a receiver that never reads: the write
// deadline ends the send instead of blocking forever.
func TestSendWriteDeadline(t *testing.T) {
	const size = 256 << 20
	f := sparseFile(t, size)
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			tx, _ := tcpPair(t)
			tx.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			n, err := p.send(tx, Region{FD: int(f.Fd()), Len: size})
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("send = %d, %v; want a deadline error", n, err)
			}
			if n <= 0 || n >= size {
				t.Fatalf("sent %d bytes; want a prefix", n)
			}
		})
	}
}

// TestSendFileBypassesGoMemory shows invariant 2. A 256 MiB region sent with
// sendfile grows the Go heap by a few hundred bytes (the RawConn and its
// callback), not by the region. The copy path, by contrast, has every byte
// pass through a Go buffer: after CopyBuffer the buffer holds the region's
// last bytes. (Copy reuses one pooled buffer, so TotalAlloc alone would not
// show the difference: the cost of the copy path is the extra copies into and
// out of user memory, not allocation.)
func TestSendFileBypassesGoMemory(t *testing.T) {
	const size = 256 << 20
	f := sparseFile(t, size)
	tail := make([]byte, CopyBufferSize)
	rand.NewChaCha8([32]byte{9}).Read(tail)
	if _, err := f.WriteAt(tail, size-int64(len(tail))); err != nil {
		t.Fatal(err)
	}
	r := Region{FD: int(f.Fd()), Len: size}

	t.Run("sendfile", func(t *testing.T) {
		tx, rx := tcpPair(t)
		drained := make(chan int64, 1)
		buf := make([]byte, 256<<10)
		go func() {
			var total int64
			for total < size {
				n, err := rx.Read(buf)
				total += int64(n)
				if err != nil {
					break
				}
			}
			drained <- total
		}()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		n, err := SendFile(tx, r)
		runtime.ReadMemStats(&after)
		if err != nil || n != size {
			t.Fatalf("SendFile = %d, %v", n, err)
		}
		if got := <-drained; got != size {
			t.Fatalf("received %d bytes, want %d", got, size)
		}
		grew := after.TotalAlloc - before.TotalAlloc
		t.Logf("sendfile of %d MiB: Go heap allocated %d bytes", size>>20, grew)
		if grew >= 1<<20 {
			t.Fatalf("TotalAlloc grew by %d bytes sending %d bytes with sendfile", grew, size)
		}
	})

	t.Run("copy", func(t *testing.T) {
		tx, rx := tcpPair(t)
		go io.Copy(io.Discard, rx)
		staging := make([]byte, CopyBufferSize)
		n, err := CopyBuffer(tx, r, staging)
		if err != nil || n != size {
			t.Fatalf("CopyBuffer = %d, %v", n, err)
		}
		if !bytes.Equal(staging, tail) {
			t.Fatal("the staging buffer does not hold the region's last bytes")
		}
	})
}

// TestSendSharedDescriptor sends different regions of one descriptor on
// several connections at once (invariant 1).
func TestSendSharedDescriptor(t *testing.T) {
	const size, parts = 4 << 20, 4
	f, data := patternFile(t, size)
	var wg sync.WaitGroup
	errs := make(chan error, parts)
	for i := range parts {
		tx, rx := tcpPair(t)
		off, n := int64(i)*size/parts+int64(i), int64(size/parts-8)
		got := receive(rx, n)
		wg.Go(func() {
			if m, err := SendFile(tx, Region{FD: int(f.Fd()), Off: off, Len: n}); err != nil || m != n {
				errs <- err
				return
			}
			if !bytes.Equal(<-got, data[off:off+n]) {
				errs <- errors.New("received bytes differ from the file")
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
