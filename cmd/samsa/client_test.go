package main

import (
	"bytes"
	"context"
	"flag"
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

// Usage errors exit 2 before any connection is made; -h exits 0.
func TestUsageErrors(t *testing.T) {
	c := samsaCLI{brokers: "127.0.0.1:1"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"topic", "frobnicate"}, "unknown subcommand"},
		{[]string{"topic", "create"}, "no topic named"},
		{[]string{"topic", "create", "a", "--bogus"}, "flag provided but not defined"},
		{[]string{"topic", "create", "a", "-p", "0"}, "--partitions 0"},
		{[]string{"topic", "create", "a", "-c", "novalue"}, "want key=value"},
		{[]string{"topic", "alter-config", "a"}, "nothing to do"},
		{[]string{"topic", "describe"}, "no topic named"},
		{[]string{"produce"}, "want exactly one TOPIC"},
		{[]string{"produce", "t", "--acks", "2"}, "--acks"},
		{[]string{"produce", "t", "--partitioner", "manual"}, "needs --partition"},
		{[]string{"produce", "t", "--partitioner", "hash", "--partition", "1"}, "--partition needs --partitioner manual"},
		{[]string{"produce", "t", "--compression", "brotli"}, "--compression"},
		{[]string{"produce", "t", "--idempotent", "--acks", "1"}, "--idempotent needs --acks all"},
		{[]string{"produce", "t", "-H", "x"}, "want key=value"},
		{[]string{"consume", "t", "--from", "yesterday"}, "--from"},
		{[]string{"consume", "t", "--format", "%q"}, "unknown verb"},
		{[]string{"consume", "t", "--partitions", "0,x"}, "--partitions"},
		{[]string{"bench", "produce"}, "--topic is required"},
		{[]string{"bench", "consume", "--topic", "t", "extra"}, "unexpected argument"},
		{[]string{"bench", "sprint"}, "unknown subcommand"},
	} {
		_, errOut, code := c.run(t, "", tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("samsa %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}

	// run (from dumplog_test.go) passes no --brokers.
	if out, code := run(t, "topic"); code != 2 || !strings.Contains(out, "missing subcommand") {
		t.Errorf("samsa topic: exit %d, output %q", code, out)
	}

	for _, args := range [][]string{
		{"topic", "create", "-h"}, {"topic", "list", "-h"}, {"topic", "describe", "-h"},
		{"topic", "delete", "-h"}, {"topic", "alter-config", "-h"}, {"produce", "-h"},
		{"consume", "--help"}, {"bench", "produce", "-h"}, {"bench", "consume", "-h"},
	} {
		out, _, code := c.run(t, "", args...)
		name := strings.Join(args[:len(args)-1], " ")
		if code != 0 || !strings.Contains(out, "usage: samsa "+name) || !strings.Contains(out, "--brokers") {
			t.Errorf("samsa %s -h: exit %d, stdout %q", name, code, out)
		}
	}
}

// A broker that cannot be reached is a runtime error: exit 1, within --timeout.
func TestUnreachableBroker(t *testing.T) {
	c := samsaCLI{brokers: "127.0.0.1:1"}
	_, errOut, code := c.run(t, "", "topic", "list", "--timeout", "1s")
	if code != 1 || !strings.HasPrefix(errOut, "samsa topic list: ") {
		t.Fatalf("exit %d, stderr %q; want exit 1 and a prefixed error", code, errOut)
	}
}

func TestParseInterspersed(t *testing.T) {
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
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		sep := fs.String("k", "", "")
		fs.StringVar(sep, "key-separator", "", "")
		verbose := fs.Bool("v", false, "")
		pos, err := parseInterspersed(fs, tc.args)
		if err != nil || !slices.Equal(pos, tc.pos) || *sep != tc.sep || *verbose != tc.verbose {
			t.Errorf("%q: positional %q, -k %q, -v %v, err %v; want %q, %q, %v",
				tc.args, pos, *sep, *verbose, err, tc.pos, tc.sep, tc.verbose)
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
