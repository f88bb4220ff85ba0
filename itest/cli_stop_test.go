package itest

// How samsa's client commands stop: when the broker is gone (SIGKILL), each
// gives up within its --timeout with an error naming the broker and a
// non-zero exit; on SIGINT or SIGTERM each stops, prints what it has to
// print and exits 128+signal.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// samsaProc is a samsa client command running in the background.
type samsaProc struct {
	name     string
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	out, err *lockedBuffer
	exited   chan struct{}
	waitErr  error
	end      time.Time // when it exited
}

// startSamsa starts a client command against the broker; with feed, its
// stdin gets line after line ("<prefix>-<n>") until the test ends or the
// command exits.
func (b *broker) startSamsa(t *testing.T, feed string, args ...string) *samsaProc {
	t.Helper()
	p := &samsaProc{
		name:   "samsa " + strings.Join(args, " "),
		cmd:    exec.Command(samsaBin, append(args, "--brokers", b.addr)...),
		out:    &lockedBuffer{},
		err:    &lockedBuffer{},
		exited: make(chan struct{}),
	}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.err
	if feed != "" {
		w, err := p.cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		p.stdin = w
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		p.end = time.Now()
		close(p.exited)
	}()
	if feed != "" {
		go func() {
			var buf bytes.Buffer
			for n := 0; ; n++ {
				buf.Reset()
				for i := range 100 {
					fmt.Fprintf(&buf, "%s-%d\n", feed, n*100+i)
				}
				if _, err := p.stdin.Write(buf.Bytes()); err != nil {
					return // the command exited
				}
				time.Sleep(10 * time.Millisecond) // a stream, not a flood: the machine is shared
			}
		}()
	}
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
		if p.stdin != nil {
			p.stdin.Close()
		}
	})
	return p
}

// wait waits for the command to exit, at most d, and returns its exit
// status and when it exited.
func (p *samsaProc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(d):
		p.cmd.Process.Kill()
		<-p.exited
		t.Fatalf("%s still running %v later\nstdout (tail): %s\nstderr: %s", p.name, d, tail(p.out.String()), p.err.String())
	}
	var ee *exec.ExitError
	if errors.As(p.waitErr, &ee) {
		return ee.ExitCode()
	}
	if p.waitErr != nil {
		t.Fatalf("%s: %v", p.name, p.waitErr)
	}
	return 0
}

func tail(s string) string {
	if len(s) > 600 {
		return "..." + s[len(s)-600:]
	}
	return s
}

// waitRecords polls until topic holds at least n records.
func (b *broker) waitRecords(t *testing.T, adm *kadm.Client, topic string, n int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ends, err := adm.ListEndOffsets(c, topic)
		cancel()
		total := int64(0)
		if err == nil {
			ends.Each(func(o kadm.ListedOffset) { total += max(o.Offset, 0) })
		}
		if total >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %d records after 20s, want %d (err %v)", topic, total, n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCLIBrokerGone: the broker is SIGKILLed under a streaming produce, a
// consume, a consume in a group and a bench produce; each exits 1 within its --timeout (plus a
// margin for the second a stopped producer waits for records in flight,
// and for a loaded machine), saying which broker it cannot reach. Then
// topic list and group list against the dead broker do the same.
func TestCLIBrokerGone(t *testing.T) {
	b := startBroker(t)
	b.needAPIs(t, keyCreateTopics)
	const timeout = 3 * time.Second
	const margin = 5 * time.Second
	to := "--timeout=" + timeout.String()
	b.newTopic(t, "gone.stream", 2, nil)
	adm := b.admin(t)

	produce := b.startSamsa(t, "line", "produce", "gone.stream", to)
	b.waitRecords(t, adm, "gone.stream", 500)
	consume := b.startSamsa(t, "", "consume", "gone.stream", to, "--format", `%v\n`)
	bench := b.startSamsa(t, "", "bench", "produce", "gone.bench", "--records", "100000000", "--rate", "2000", "-p", "1", to)
	b.waitRecords(t, adm, "gone.bench", 100)
	group := b.startSamsa(t, "", "consume", "gone.stream", "--group", "gone.group", to, "--format", `%v\n`)
	waitFor(t, "consume and consume --group print records", 30*time.Second, func() bool {
		return consume.out.String() != "" && group.out.String() != ""
	})

	b.kill()
	killed := time.Now()
	cannotReach := "cannot reach broker " + b.addr
	for _, p := range []*samsaProc{produce, consume, group, bench} {
		code := p.wait(t, timeout+margin+10*time.Second)
		took := p.end.Sub(killed)
		errOut := p.err.String()
		t.Logf("%s: exit %d %v after the kill:\n%s", p.name, code, took.Round(time.Millisecond), errOut)
		if code != 1 {
			t.Errorf("%s: exit %d after the broker died, want 1", p.name, code)
		}
		if took > timeout+margin {
			t.Errorf("%s took %v to give up with --timeout %v", p.name, took, timeout)
		}
		if !strings.Contains(errOut, cannotReach) {
			t.Errorf("%s: stderr does not say %q:\n%s", p.name, cannotReach, errOut)
		}
		if p != produce && strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: stderr has more than the one line that says why:\n%s", p.name, errOut)
		}
	}
	// The producers summarize what was delivered and what was not.
	if m := regexp.MustCompile(`produced (\d+) records to gone.stream in \S+, (\d+) failed`).FindStringSubmatch(produce.err.String()); m == nil || m[1] == "0" {
		t.Errorf("produce summary: %q", produce.err.String())
	}
	if out := bench.out.String(); !strings.Contains(out, "records") || !strings.Contains(out, "throughput") {
		t.Errorf("bench produce printed no summary:\n%s", out)
	}

	for _, args := range [][]string{{"topic", "list"}, {"group", "list"}} {
		p := b.startSamsa(t, "", append(args, to)...)
		start := time.Now()
		code := p.wait(t, timeout+margin+10*time.Second)
		errOut := p.err.String()
		if code != 1 || !strings.HasPrefix(errOut, "samsa "+strings.Join(args, " ")+": "+cannotReach) || strings.Contains(errOut, "shard errors") {
			t.Errorf("%s against a dead broker: exit %d, stderr %q; want exit 1 and %q", p.name, code, errOut, cannotReach)
		}
		if took := p.end.Sub(start); took > timeout+margin {
			t.Errorf("%s took %v with --timeout %v", p.name, took, timeout)
		}
	}
}

// TestCLIBrokerHung: the broker is stopped (SIGSTOP), so its kernel still
// takes connections but nothing answers; a streaming produce and a consume
// each give up within --timeout plus a margin, naming the broker.
func TestCLIBrokerHung(t *testing.T) {
	b := startBroker(t)
	b.needAPIs(t, keyCreateTopics)
	const timeout = 3 * time.Second
	const margin = 5 * time.Second
	to := "--timeout=" + timeout.String()
	b.newTopic(t, "hung.stream", 1, nil)
	adm := b.admin(t)

	produce := b.startSamsa(t, "line", "produce", "hung.stream", to)
	b.waitRecords(t, adm, "hung.stream", 500)
	consume := b.startSamsa(t, "", "consume", "hung.stream", to, "--format", `%v\n`)
	waitFor(t, "consume prints records", 30*time.Second, func() bool { return consume.out.String() != "" })
	if err := b.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	t.Cleanup(func() { b.cmd.Process.Signal(syscall.SIGCONT) })
	for _, p := range []*samsaProc{produce, consume} {
		code := p.wait(t, timeout+margin+10*time.Second)
		took := p.end.Sub(stopped)
		errOut := p.err.String()
		t.Logf("%s: exit %d %v after SIGSTOP:\n%s", p.name, code, took.Round(time.Millisecond), errOut)
		if code != 1 || took > timeout+margin || !strings.Contains(errOut, "cannot reach broker "+b.addr) {
			t.Errorf("%s: exit %d %v after the broker stopped answering, stderr %q; want exit 1 within %v naming the broker",
				p.name, code, took, errOut, timeout+margin)
		}
	}
}

// TestCLIStopSignals: SIGINT stops a streaming produce, which prints its
// summary and exits 130; SIGINT stops bench produce with its summary, exit
// 130; SIGTERM stops consume, exit 143, after printing what it read.
func TestCLIStopSignals(t *testing.T) {
	b := startBroker(t)
	b.needAPIs(t, keyCreateTopics)
	b.newTopic(t, "stop.stream", 1, nil)
	adm := b.admin(t)

	produce := b.startSamsa(t, "line", "produce", "stop.stream")
	b.waitRecords(t, adm, "stop.stream", 500)
	bench := b.startSamsa(t, "", "bench", "produce", "stop.bench", "--records", "100000000", "--rate", "2000", "-p", "1")
	b.waitRecords(t, adm, "stop.bench", 100)
	consume := b.startSamsa(t, "", "consume", "stop.stream", "--format", `%v\n`)
	waitFor(t, "consume prints line-10", 30*time.Second, func() bool { return strings.Contains(consume.out.String(), "line-10\n") })

	for _, tc := range []struct {
		p    *samsaProc
		sig  syscall.Signal
		code int
	}{{produce, syscall.SIGINT, 130}, {bench, syscall.SIGINT, 130}, {consume, syscall.SIGTERM, 143}} {
		sent := time.Now()
		tc.p.cmd.Process.Signal(tc.sig)
		code := tc.p.wait(t, 15*time.Second)
		if took := tc.p.end.Sub(sent); code != tc.code || took > 5*time.Second {
			t.Errorf("%s: exit %d %v after %v, want %d within 5s\nstderr: %s", tc.p.name, code, took, tc.sig, tc.code, tc.p.err.String())
		}
	}

	m := regexp.MustCompile(`^produced (\d+) records to stop.stream in \S+(, (\d+) failed; first error: interrupted by SIGINT)?\n$`).FindStringSubmatch(produce.err.String())
	if m == nil {
		t.Fatalf("produce stderr after SIGINT: %q; want only its summary", produce.err.String())
	}
	// Every record the summary counts as delivered is in the topic.
	delivered, _ := strconv.ParseInt(m[1], 10, 64)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, "stop.stream")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := ends.Lookup("stop.stream", 0); delivered == 0 || o.Offset < delivered {
		t.Errorf("produce says %d records delivered, the partition ends at %d", delivered, o.Offset)
	}
	if out := bench.out.String(); !strings.Contains(out, "records") || !strings.Contains(out, "throughput") {
		t.Errorf("bench produce printed no summary after SIGINT:\n%s", out)
	}
	if consume.err.String() != "" {
		t.Errorf("consume stderr after SIGTERM: %q", consume.err.String())
	}
}
