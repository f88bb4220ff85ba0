package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"samsa/cli/command"
	"samsa/internal/clitest"
)

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

// Without --brokers, the commands use $SAMSA_BROKERS.
func TestBrokersFromEnv(t *testing.T) {
	addr := clitest.StartCluster(t)
	topic := clitest.NewTopic(t)
	clitest.CreateTopic(t, addr, topic, 2)
	cmd := exec.Command(samsaBin, "topic", "list")
	cmd.Env = append(os.Environ(), command.BrokersEnv+"="+addr)
	out, err := cmd.CombinedOutput()
	if err != nil || !clitest.HasRow(string(out), topic, "2", "1") {
		t.Fatalf("topic list with %s=%s: %v\n%s", command.BrokersEnv, addr, err, out)
	}
}

func TestProduceConsumeRoundTrip(t *testing.T) {
	addr := clitest.StartCluster(t)
	c := samsaCLI{brokers: addr}
	topic := clitest.NewTopic(t)
	clitest.CreateTopic(t, addr, topic, 1)

	before := time.Now().UnixMilli()
	input := "k1:v1\nk2:v2:with:colons\nno key here\n:empty key\r\n\nlast:no newline"
	out, errOut, code := c.run(t, input, "produce", topic, "-k", ":", "-H", "h1=a", "--header", "h2=b=c", "-v")
	after := time.Now().UnixMilli()
	if code != 0 {
		t.Fatalf("produce: exit %d\n%s", code, errOut)
	}
	if want := "0@0\n0@1\n0@2\n0@3\n0@4\n0@5\n"; out != want {
		t.Errorf("produce -v printed %q, want %q", out, want)
	}
	if !strings.Contains(errOut, "produced 6 records to "+topic) {
		t.Errorf("produce summary: %q", errOut)
	}

	out = c.ok(t, "", "consume", topic, "-e", "--format", `%t|%p|%o|%k|%v|%h\n`)
	want := "" +
		topic + "|0|0|k1|v1|h1=a,h2=b=c\n" +
		topic + "|0|1|k2|v2:with:colons|h1=a,h2=b=c\n" +
		topic + "|0|2||no key here|h1=a,h2=b=c\n" +
		topic + "|0|3||empty key|h1=a,h2=b=c\n" +
		topic + "|0|4|||h1=a,h2=b=c\n" +
		topic + "|0|5|last|no newline|h1=a,h2=b=c\n"
	if out != want {
		t.Errorf("consume printed\n%s\nwant\n%s", out, want)
	}

	// Default format, other escapes and %%, and timestamps within the run.
	out = c.ok(t, "", "consume", topic, "-n", "2")
	if out != "v1\nv2:with:colons\n" {
		t.Errorf("default format printed %q", out)
	}
	out = c.ok(t, "", "consume", topic, "-n", "1", "--format", `%o\t100%%\\%T\n`)
	off, rest, _ := strings.Cut(strings.TrimSuffix(out, "\n"), "\t100%\\")
	ts, err := strconv.ParseInt(rest, 10, 64)
	if off != "0" || err != nil || ts < before || ts > after {
		t.Errorf("format with escapes printed %q; want 0, a tab, 100%%\\ and a timestamp in [%d, %d]", out, before, after)
	}

	// --file, and a line without the separator while -k is set.
	file := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(file, []byte("fk=fv\nplain\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.ok(t, "", "produce", topic, "--file", file, "--key-separator", "=")
	out = c.ok(t, "", "consume", topic, "--from", "offset:6", "-e", "--format", `%k/%v/%h\n`)
	if out != "fk/fv/\n/plain/\n" {
		t.Errorf("records from --file printed %q", out)
	}
}
