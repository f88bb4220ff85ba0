package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// testBrokersEnv points the client command tests at a running broker (for
// example a Samsa broker) instead of an in-process kfake cluster.
const testBrokersEnv = "SAMSA_TEST_BROKERS"

// startCluster returns the address of the broker the test talks to: the one
// in $SAMSA_TEST_BROKERS, or a fresh single-broker kfake cluster closed with
// the test. Tests use fresh topic names (newTopic) so that they can share a
// real broker.
func startCluster(t *testing.T) string {
	t.Helper()
	if addr := os.Getenv(testBrokersEnv); addr != "" {
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

// newTopic returns a topic name unique to this test run.
func newTopic(t *testing.T) string {
	name := unsafeTopicChars.ReplaceAllString(t.Name(), "-")
	return fmt.Sprintf("%s-%06d", name, rand.IntN(1e6))
}

// samsaCLI runs the binary against one cluster.
type samsaCLI struct{ brokers string }

// run runs samsa with args, --brokers appended, and stdin; it returns stdout
// and stderr apart, and the exit code.
func (c samsaCLI) run(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, samsaBin, append(args, "--brokers", c.brokers)...)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("samsa %s: timed out\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), o.String(), e.String())
	}
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// ok runs samsa like run and fails the test unless it exits 0.
func (c samsaCLI) ok(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, errOut, code := c.run(t, stdin, args...)
	if code != 0 {
		t.Fatalf("samsa %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// adminClient returns an in-process admin client, to set up and check
// what the commands do.
func adminClient(t *testing.T, brokers string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func createTopic(t *testing.T, brokers, topic string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := adminClient(t, brokers).CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
}

// endOffsets returns the high watermark of every partition of topic.
func endOffsets(t *testing.T, brokers, topic string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := adminClient(t, brokers).ListEndOffsets(ctx, topic)
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

// rows splits table output into lines of whitespace-separated fields.
func rows(out string) [][]string {
	var r [][]string
	for l := range strings.Lines(out) {
		if f := strings.Fields(l); len(f) > 0 {
			r = append(r, f)
		}
	}
	return r
}

// hasRow reports whether some line of out has exactly the fields want.
func hasRow(out string, want ...string) bool {
	for _, r := range rows(out) {
		if strings.Join(r, " ") == strings.Join(want, " ") {
			return true
		}
	}
	return false
}

// Usage errors exit 2 before any connection is made, with one line naming
// the problem and a hint to read --help.
func TestUsageErrors(t *testing.T) {
	c := samsaCLI{brokers: "127.0.0.1:1"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"topic", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"topic", "create"}, "no topic named"},
		{[]string{"topic", "create", "a", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"topic", "create", "a", "-p", "0"}, "--partitions 0"},
		{[]string{"topic", "create", "a", "-p", "many"}, `invalid argument "many"`},
		{[]string{"topic", "create", "a", "-c", "novalue"}, "want key=value"},
		{[]string{"topic", "alter-config", "a"}, "nothing to do"},
		{[]string{"topic", "describe"}, "no topic named"},
		{[]string{"topic", "add-partitions", "a"}, "give --partitions TOTAL or --num ADD"},
		{[]string{"topic", "add-partitions", "a", "-p", "3", "-n", "1"}, "do not go together"},
		{[]string{"topic", "delete-records", "a"}, "--offset is required"},
		{[]string{"topic", "delete-records", "a", "-o", "x"}, "--offset"},
		{[]string{"topic", "offsets", "a", "--time", "yesterday"}, "--time"},
		{[]string{"produce"}, "want exactly one TOPIC"},
		{[]string{"produce", "t", "--acks", "2"}, "--acks"},
		{[]string{"produce", "t", "-a", "2"}, "--acks"}, // -a: the old spelling, out of the help
		{[]string{"produce", "t", "-p", "x"}, `invalid argument "x" for "-p, --partition" flag`},
		{[]string{"produce", "t", "--partitioner", "manual"}, "needs --partition"},
		{[]string{"produce", "t", "--partitioner", "hash", "--partition", "1"}, "--partition needs --partitioner manual"},
		{[]string{"produce", "t", "--compression", "brotli"}, "--compression"},
		{[]string{"produce", "t", "--idempotent", "--acks", "1"}, "--idempotent needs --acks all"},
		{[]string{"produce", "t", "-H", "x"}, "want key=value"},
		{[]string{"consume", "t", "--from", "yesterday"}, "--from"},
		{[]string{"consume", "t", "-o", "5:3"}, "--from"},
		{[]string{"consume", "t", "--format", "%q"}, "unknown verb"},
		{[]string{"consume", "t", "--partitions", "0,x"}, "--partition"},
		{[]string{"consume", "t", "-g", "g", "-p", "0"}, "do not go together"},
		{[]string{"consume", "t", "-g", "g", "-o", ":5"}, "does not go with --group"},
		{[]string{"bench", "produce"}, "no topic named"},
		{[]string{"bench", "produce", "a", "b"}, `unexpected argument "b"`},
		{[]string{"bench", "produce", "a", "--topic", "b"}, "two topics"},
		{[]string{"bench", "consume", "t", "extra"}, "unexpected argument"},
		{[]string{"bench", "sprint"}, `unknown command "sprint"`},
		{[]string{"group", "seek", "g"}, "--to is required"},
		{[]string{"cluster", "config", "alter", "--broker", "1", "--cluster-default", "--set", "a=b"}, "do not go together"},
		{[]string{"cluster", "frob"}, `unknown command "frob"`},
		{[]string{"topic", "list", "--timeout", "0s"}, "--timeout must be positive"},
	} {
		_, errOut, code := c.run(t, "", tc.args...)
		lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
		name := "samsa " + strings.Join(tc.args, " ")
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and %q", name, code, errOut, tc.want)
			continue
		}
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "samsa ") || !strings.HasPrefix(lines[1], "Run 'samsa ") || !strings.HasSuffix(lines[1], " --help' for usage.") {
			t.Errorf("%s: stderr %q; want one line and the hint to run --help", name, errOut)
		}
	}

	// run (from dumplog_test.go) passes no --brokers.
	if out, code := run(t, "topic"); code != 2 || !strings.Contains(out, "missing command: one of add-partitions, alter-config, create") {
		t.Errorf("samsa topic: exit %d, output %q", code, out)
	}
	if out, code := run(t); code != 2 || !strings.Contains(out, "missing command") {
		t.Errorf("samsa: exit %d, output %q", code, out)
	}
}

// A mistyped command is answered with the nearest ones.
func TestSuggestions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tpoic", "list"}, `unknown command "tpoic"; did you mean topic?`},
		{[]string{"topic", "creat", "x"}, `did you mean create?`},
		{[]string{"topic", "lsit"}, `did you mean list?`},
		{[]string{"group", "descirbe", "g"}, `did you mean describe?`},
		{[]string{"prodcue", "t"}, `did you mean produce?`},
		{[]string{"help", "topc"}, `did you mean topic?`},
		{[]string{"cluster", "log-dir"}, `did you mean log-dirs?`},
	} {
		out, code := run(t, tc.args...)
		if code != 2 || !strings.Contains(out, tc.want) {
			t.Errorf("samsa %s: exit %d, output %q; want exit 2 and %q", strings.Join(tc.args, " "), code, out, tc.want)
		}
	}
}

// A broker that cannot be reached is a runtime error: exit 1, within
// --timeout, naming the broker.
func TestUnreachableBroker(t *testing.T) {
	c := samsaCLI{brokers: "127.0.0.1:1"}
	for _, args := range [][]string{{"topic", "list"}, {"group", "list"}, {"cluster"}, {"consume", "t", "-e"}} {
		start := time.Now()
		_, errOut, code := c.run(t, "", append(args, "--timeout", "1s")...)
		name := "samsa " + strings.Join(args, " ")
		name = strings.TrimSuffix(name, " t -e")
		if code != 1 || !strings.HasPrefix(errOut, name+": cannot reach broker 127.0.0.1:1") || !strings.Contains(errOut, "connection refused") {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 and an error naming the broker", name, code, errOut)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %v with --timeout 1s", name, d)
		}
	}
}

// pflag parses flags anywhere among the arguments; "--" ends them, unless
// it is the value of a flag.
func TestInterspersedFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		pos     []string
		sep     string
		verbose bool
	}{
		{[]string{"a", "-k", ":", "b"}, []string{"a", "b"}, ":", false},
		{[]string{"-v", "a", "--key-separator=x"}, []string{"a"}, "x", true},
		{[]string{"a", "--", "-v", "b"}, []string{"a", "-v", "b"}, "", false},
		{[]string{"a", "-k", "--", "b"}, []string{"a", "b"}, "--", false},
		{[]string{"-k", "--", "--", "-v"}, []string{"-v"}, "--", false},
		{[]string{"-v", "--", "-k"}, []string{"-k"}, "", true},
		{[]string{"a", "-vk", ":"}, []string{"a"}, ":", true},
	} {
		c := produceCmd(newClientFlags())
		if err := c.ParseFlags(tc.args); err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		sep, _ := c.Flags().GetString("key-separator")
		verbose, _ := c.Flags().GetBool("verbose")
		if pos := c.Flags().Args(); !slices.Equal(pos, tc.pos) || sep != tc.sep || verbose != tc.verbose {
			t.Errorf("%q: positional %q, -k %q, -v %v; want %q, %q, %v", tc.args, pos, sep, verbose, tc.pos, tc.sep, tc.verbose)
		}
	}
}

// Without --brokers, the commands use $SAMSA_BROKERS.
func TestBrokersFromEnv(t *testing.T) {
	addr := startCluster(t)
	topic := newTopic(t)
	createTopic(t, addr, topic, 2)
	cmd := exec.Command(samsaBin, "topic", "list")
	cmd.Env = append(os.Environ(), brokersEnv+"="+addr)
	out, err := cmd.CombinedOutput()
	if err != nil || !hasRow(string(out), topic, "2", "1") {
		t.Fatalf("topic list with %s=%s: %v\n%s", brokersEnv, addr, err, out)
	}
}
