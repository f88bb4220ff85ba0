package netpoll

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// dialerEnv makes the test binary a dialer process: "addr n" opens n
// connections to addr, prints "ready", and holds them until stdin closes.
// The clients live in another process so that both ends of 10,000
// connections do not have to fit this process's descriptor limit, and so
// that the memory measured is the server's alone.
const dialerEnv = "SAMSA_NETPOLL_DIALER"

func TestMain(m *testing.M) {
	if spec := os.Getenv(dialerEnv); spec != "" {
		os.Exit(runDialer(spec))
	}
	os.Exit(m.Run())
}

func runDialer(spec string) int {
	addr, ns, _ := strings.Cut(spec, " ")
	n, err := strconv.Atoi(ns)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dialer:", err)
		return 2
	}
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	var failed sync.Once
	var dialErr error
	const workers = 4
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				c, err := net.DialTimeout("tcp", addr, ioTimeout)
				if err != nil {
					failed.Do(func() { dialErr = err })
					return
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	if dialErr != nil {
		fmt.Fprintln(os.Stderr, "dialer:", dialErr)
		return 1
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// idleCost opens n idle connections to a fresh Server from a dialer
// process and returns the growth of the server process's heap and
// goroutine stacks (HeapInuse + StackInuse) per connection.
func idleCost(tb testing.TB, n int) (perConn, heapPerConn, stackPerConn float64) {
	ts := startServer(tb, Config{}, echo)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d", dialerEnv, ts.addr, n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
		waitFor(tb, "connections to close", func() bool { return ts.NumConns() == 0 })
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		tb.Fatalf("dialer: %q, %v", line, err)
	}
	waitFor(tb, fmt.Sprintf("%d connections", n), func() bool { return ts.NumConns() == n })
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := float64(after.HeapInuse) - float64(before.HeapInuse)
	stack := float64(after.StackInuse) - float64(before.StackInuse)
	return (heap + stack) / float64(n), heap / float64(n), stack / float64(n)
}

// TestIdleConnections holds 10,000 idle connections (2,000 under the race
// detector, which caps live goroutines at 8128) and bounds their cost.
func TestIdleConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("opens thousands of connections")
	}
	n := 10000
	if raceEnabled {
		n = 2000
	}
	per, heap, stack := idleCost(t, n)
	t.Logf("%d idle connections: %.0f B/conn (heap %.0f, stacks %.0f)", n, per, heap, stack)
	// An idle connection holds a parked goroutine, a net.Conn and a Conn:
	// a few KiB. A per-connection frame or read buffer would break this.
	limit := 12 << 10
	if raceEnabled {
		limit = 24 << 10
	}
	if per > float64(limit) {
		t.Fatalf("%.0f bytes per idle connection, want at most %d", per, limit)
	}
}

// BenchmarkIdleConnections reports the memory of 10,000 idle connections.
// Each iteration opens and closes all of them; run it with -benchtime=1x
// -count=1: a second measurement in the same process starts from the spans
// and stacks the first one freed, and its delta is skewed.
func BenchmarkIdleConnections(b *testing.B) {
	n := 10000
	if raceEnabled {
		n = 2000
	}
	var per, heap, stack float64
	for b.Loop() {
		per, heap, stack = idleCost(b, n)
	}
	b.ReportMetric(per, "B/conn")
	b.ReportMetric(heap, "heapB/conn")
	b.ReportMetric(stack, "stackB/conn")
	b.ReportMetric(float64(n), "conns")
}
