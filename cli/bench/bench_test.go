package bench

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"samsa/cli/command"
	"samsa/internal/clitest"
)

// newCLI runs samsa bench against brokers.
func newCLI(brokers string) clitest.CLI {
	return clitest.CLI{Brokers: brokers, New: func() *cobra.Command { return NewCommand(command.NewClientFlags()) }}
}

// Usage errors exit 2 before any connection is made, with one line naming
// the problem and a hint to read --help.
func TestUsageErrors(t *testing.T) {
	c := newCLI("127.0.0.1:1")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "produce"}, "no topic named"},
		{[]string{"bench", "produce", "a", "b"}, `unexpected argument "b"`},
		{[]string{"bench", "produce", "a", "--topic", "b"}, "two topics"},
		{[]string{"bench", "consume", "t", "extra"}, "unexpected argument"},
		{[]string{"bench", "sprint"}, `unknown command "sprint"`},
	} {
		clitest.CheckUsageError(t, c, tc.args, tc.want)
	}
}

func benchJSON(t *testing.T, c clitest.CLI, args ...string) benchResult {
	t.Helper()
	out := c.OK(t, "", append([]string{"bench"}, append(args, "--json")...)...)
	var r benchResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bench %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
	return r
}

func TestBench(t *testing.T) {
	addr := clitest.StartCluster(t)
	c := newCLI(addr)
	topic := clitest.NewTopic(t)

	r := benchJSON(t, c, "produce", topic, "--records", "3000", "--record-size", "64", "-p", "3", "--linger", "1ms")
	if r.Mode != "produce" || r.Records != 3000 || r.Failed != 0 || r.Bytes != 3000*64 || r.Error != "" {
		t.Fatalf("bench produce: %+v", r)
	}
	if r.ElapsedSec <= 0 || r.RecordsPerSec <= 0 || r.MiBPerSec <= 0 {
		t.Errorf("bench produce rates: %+v", r)
	}
	if l := r.Latency; l == nil || l.P50 <= 0 || l.P50 > l.P95 || l.P95 > l.P99 || l.P99 > l.P999 || l.P999 > l.Max {
		t.Errorf("bench produce latency percentiles: %+v", r.Latency)
	}
	ends := clitest.EndOffsets(t, addr, topic)
	if len(ends) != 3 || ends[0]+ends[1]+ends[2] != 3000 {
		t.Errorf("topic after bench produce: end offsets %v, want 3 partitions holding 3000 records", ends)
	}

	r = benchJSON(t, c, "consume", topic)
	if r.Mode != "consume" || r.Records != 3000 || r.Bytes != 3000*64 || r.Latency != nil || r.Error != "" {
		t.Errorf("bench consume to the end: %+v", r)
	}
	// The deprecated --topic still works.
	r = benchJSON(t, c, "consume", "--topic", topic, "--records", "1000")
	if r.Records != 1000 || r.Bytes != 1000*64 {
		t.Errorf("bench consume --records 1000: %+v", r)
	}

	// An existing topic is reused; text output; a rate limit paces the run.
	out := c.OK(t, "", "bench", "produce", topic, "--records", "50", "--rate", "500", "--acks", "1")
	for _, want := range []string{"records", "50 (0 failed)", "MiB/s", "ack latency (ms)", "p99.9"} {
		if !strings.Contains(out, want) {
			t.Errorf("bench produce text output lacks %q:\n%s", want, out)
		}
	}
	r = benchJSON(t, c, "produce", "-t", topic, "--records", "50", "--rate", "500")
	if min := (49 * time.Second / 500).Seconds(); r.ElapsedSec < min {
		t.Errorf("bench produce --rate 500 of 50 records took %.3fs, want at least %.3fs", r.ElapsedSec, min)
	}
	if ends := clitest.EndOffsets(t, addr, topic); ends[0]+ends[1]+ends[2] != 3100 {
		t.Errorf("end offsets %v, want 3100 records", ends)
	}
}

func TestLatencyHist(t *testing.T) {
	var h latencyHist
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.quantile(tc.q)
		// Buckets are under 1/64 of their values wide: a quantile reads at
		// most that much high, never low.
		if got < tc.want || float64(got-tc.want) > float64(tc.want)/64 {
			t.Errorf("quantile(%v) = %v, want %v (+1/64)", tc.q, got, tc.want)
		}
	}
	if h.max != time.Second {
		t.Errorf("max %v", h.max)
	}
	// Every microsecond value lands in a bucket whose bounds hold it.
	for _, us := range []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 123456, 1 << 40, 1<<63 + 12345} {
		i := histIndex(us)
		if i < 0 || i >= histBuckets || histUpper(i) < us || (i > 0 && histUpper(i-1) >= us) {
			t.Errorf("value %d: bucket %d, bounds (%d, %d]", us, i, histUpper(max(i-1, 0)), histUpper(i))
		}
	}
}
