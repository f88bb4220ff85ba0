package itest

import (
	"slices"
	"strings"
	"testing"
)

// samsa runs a client command of the samsa binary against the broker and
// returns its stdout; it fails the test on a non-zero exit.
func (b *broker) samsa(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	var in []byte
	if stdin != "" {
		in = []byte(stdin)
	}
	return string(runCmd(t, in, samsaBin, append(args, "--brokers", b.addr)...))
}

// fields splits output into lines of whitespace-separated fields.
func fields(out string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		rows = append(rows, strings.Fields(line))
	}
	return rows
}

// TestCLI runs samsa's own client commands (topic, produce, consume)
// against the real broker and checks what they print.
func TestCLI(t *testing.T) {
	b := startBroker(t)
	b.needAPIs(t, keyCreateTopics, keyDeleteTopics, keyDescribeConfigs)
	const topic = "cli.topic"

	out := b.samsa(t, "", "topic", "create", topic, "-p", "2", "-c", "retention.ms=3600000")
	if got := fields(out); !slices.Equal(got[len(got)-1], []string{topic, "OK"}) {
		t.Fatalf("topic create printed:\n%s", out)
	}
	// Creating it again fails, with the broker's error, and exit status 1.
	_, errOut, err := tryCmd(t, nil, samsaBin, "topic", "create", topic, "--brokers", b.addr)
	if err == nil || !strings.Contains(string(errOut)+err.Error(), "exit status 1") {
		t.Fatalf("creating %s twice: %v, want exit status 1", topic, err)
	}

	out = b.samsa(t, "", "topic", "list")
	if !slices.ContainsFunc(fields(out), func(row []string) bool { return slices.Equal(row, []string{topic, "2", "1"}) }) {
		t.Fatalf("topic list printed:\n%s", out)
	}
	out = b.samsa(t, "", "topic", "describe", topic)
	if !strings.Contains(out, "retention.ms") || !strings.Contains(out, "3600000") {
		t.Fatalf("topic describe does not show retention.ms=3600000:\n%s", out)
	}

	b.samsa(t, "a:one\nb:two\nc:three\n", "produce", topic, "-k", ":", "-p", "0", "-H", "src=cli")
	b.samsa(t, "d:four\n", "produce", topic, "-k", ":", "-p", "1")
	out = b.samsa(t, "", "consume", topic, "-e", "--format", `%p %o %k %v %h\n`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	slices.Sort(lines)
	want := []string{"0 0 a one src=cli", "0 1 b two src=cli", "0 2 c three src=cli", "1 0 d four"}
	if !slices.Equal(lines, want) {
		t.Fatalf("consume -e printed\n%q\nwant\n%q", lines, want)
	}

	// What the CLI produced, another client reads the same.
	got := b.consumeAll(t, topic)
	if len(got) != 4 || string(got[0].Key) != "a" || string(got[0].Value) != "one" ||
		len(got[0].Headers) != 1 || got[0].Headers[0].Key != "src" || string(got[0].Headers[0].Value) != "cli" {
		t.Fatalf("franz-go reads %d records; first %q=%q %v", len(got), got[0].Key, got[0].Value, got[0].Headers)
	}

	out = b.samsa(t, "", "topic", "delete", topic)
	if got := fields(out); !slices.Equal(got[len(got)-1], []string{topic, "OK"}) {
		t.Fatalf("topic delete printed:\n%s", out)
	}
	if n := b.partitionCount(t, topic); n != -1 {
		t.Fatalf("topic still has %d partitions after samsa topic delete", n)
	}
}
