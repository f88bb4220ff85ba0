package clitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"samsa/cli/command"
	"samsa/cli/root"
	"samsa/internal/testbatch"
	"samsa/logfile"
)

// BrokersEnv points the client command tests at a running broker (for
// example a Samsa broker) instead of an in-process kfake cluster.
const BrokersEnv = "SAMSA_TEST_BROKERS"

// runTimeout bounds one run of a command: a test that hangs fails.
const runTimeout = 60 * time.Second

// Root returns the root command "samsa" holding cmds, set up as samsa's
// root is.
func Root(cmds ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:  "samsa",
		Args: command.SubcommandArgs,
		RunE: func(*cobra.Command, []string) error { return nil },
	}
	c.AddCommand(cmds...)
	root.Setup(c)
	return c
}

// lockedBuffer is a buffer a command's goroutines may write concurrently.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// execute runs "samsa args..." with the command newCmd makes (a fresh one
// each run: cobra keeps flag values in the command) and returns its exit
// status, or -1 if it did not end within runTimeout; stdout and stderr may
// be the same writer.
func execute(t *testing.T, newCmd func() *cobra.Command, stdin string, stdout, stderr io.Writer, args ...string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	c := Root(newCmd())
	c.SetContext(ctx)
	c.SetIn(strings.NewReader(stdin))
	c.SetOut(stdout)
	c.SetErr(stderr)
	code := root.Execute(c, args)
	if ctx.Err() != nil {
		// Errorf, not Fatalf: a test may run a command in a goroutine.
		t.Errorf("samsa %s: timed out\nstdout:\n%v\nstderr:\n%v", strings.Join(args, " "), stdout, stderr)
		return -1
	}
	return code
}

// Exec runs "samsa args..." with the command newCmd makes and stdin; it
// returns stdout and stderr apart, and the exit status.
func Exec(t *testing.T, newCmd func() *cobra.Command, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e lockedBuffer
	code = execute(t, newCmd, stdin, &o, &e, args...)
	return o.String(), e.String(), code
}

// Combined runs "samsa args..." like Exec, returning stdout and stderr
// together in the order written.
func Combined(t *testing.T, newCmd func() *cobra.Command, args ...string) (string, int) {
	t.Helper()
	var b lockedBuffer
	code := execute(t, newCmd, "", &b, &b, args...)
	return b.String(), code
}

// CLI runs a client command against one cluster.
type CLI struct {
	Brokers string
	// New makes the command under test, afresh for each run.
	New func() *cobra.Command
}

// Run runs samsa with args, --brokers appended, and stdin; it returns
// stdout and stderr apart, and the exit status.
func (c CLI) Run(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return Exec(t, c.New, stdin, append(args, "--brokers", c.Brokers)...)
}

// OK runs samsa like Run and fails the test unless it exits 0.
func (c CLI) OK(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, errOut, code := c.Run(t, stdin, args...)
	if code != 0 {
		t.Fatalf("samsa %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// CheckUsageError checks that samsa args exits 2 before any connection
// is made, with one line naming the problem (containing want) and a hint
// to read --help.
func CheckUsageError(t *testing.T, c CLI, args []string, want string) {
	t.Helper()
	_, errOut, code := c.Run(t, "", args...)
	lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	name := "samsa " + strings.Join(args, " ")
	if code != 2 || !strings.Contains(errOut, want) {
		t.Errorf("%s: exit %d, stderr %q; want exit 2 and %q", name, code, errOut, want)
		return
	}
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "samsa ") || !strings.HasPrefix(lines[1], "Run 'samsa ") || !strings.HasSuffix(lines[1], " --help' for usage.") {
		t.Errorf("%s: stderr %q; want one line and the hint to run --help", name, errOut)
	}
}

// StartCluster returns the address of the broker the test talks to: the
// one in $SAMSA_TEST_BROKERS, or a fresh single-broker kfake cluster closed
// with the test. Tests use fresh topic names (NewTopic) so that they can
// share a real broker.
func StartCluster(t *testing.T) string {
	t.Helper()
	if addr := os.Getenv(BrokersEnv); addr != "" {
		return addr
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return strings.Join(c.ListenAddrs(), ",")
}

var unsafeTopicChars = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// NewTopic returns a topic name unique to this test run.
func NewTopic(t *testing.T) string {
	name := unsafeTopicChars.ReplaceAllString(t.Name(), "-")
	return fmt.Sprintf("%s-%06d", name, rand.IntN(1e6))
}

// AdminClient returns an in-process admin client, to set up and check
// what the commands do.
func AdminClient(t *testing.T, brokers string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// CreateTopic creates topic with partitions partitions, one replica each.
func CreateTopic(t *testing.T, brokers, topic string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := AdminClient(t, brokers).CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
}

// EndOffsets returns the high watermark of every partition of topic.
func EndOffsets(t *testing.T, brokers, topic string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := AdminClient(t, brokers).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Error(); err != nil {
		t.Fatal(err)
	}
	m := make(map[int32]int64)
	l.Each(func(o kadm.ListedOffset) { m[o.Partition] = o.Offset })
	return m
}

// Rows splits table output into lines of whitespace-separated fields.
func Rows(out string) [][]string {
	var r [][]string
	for l := range strings.Lines(out) {
		if f := strings.Fields(l); len(f) > 0 {
			r = append(r, f)
		}
	}
	return r
}

// HasRow reports whether some line of out has exactly the fields want.
func HasRow(out string, want ...string) bool {
	for _, r := range Rows(out) {
		if strings.Join(r, " ") == strings.Join(want, " ") {
			return true
		}
	}
	return false
}

// MakeSegment writes a closed log of 40 batches with index entries and
// returns the partition directory.
func MakeSegment(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "t-0")
	cfg := logfile.DefaultConfig()
	cfg.IndexIntervalBytes = 300
	l, err := logfile.Open(dir, cfg, logfile.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		b := testbatch.Make(testbatch.Spec{Records: 2, ValueSize: 100, Fill: 'a' + byte(i%26), Timestamp: int64(1000 + i), Key: []byte("k")})
		if _, err := l.Append(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Records reads every record of topic, up to the end offsets as of the
// call, with an in-process consumer.
func Records(t *testing.T, brokers, topic string) []*kgo.Record {
	t.Helper()
	ends := EndOffsets(t, brokers, topic)
	offsets := map[int32]kgo.Offset{}
	pending := map[int32]int64{}
	for p, end := range ends {
		offsets[p] = kgo.NewOffset().AtStart()
		if end > 0 {
			pending[p] = end
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	var rs []*kgo.Record
	for len(pending) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: %d partitions not read to their end", topic, len(pending))
		}
		fs.EachRecord(func(r *kgo.Record) {
			if end, ok := pending[r.Partition]; ok && r.Offset < end {
				rs = append(rs, r)
				if r.Offset+1 >= end {
					delete(pending, r.Partition)
				}
			}
		})
	}
	return rs
}
