package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestBrokerInvalidConfigExits2(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		key  string
	}{
		{[]string{"--override", "num.partitions=many"}, "num.partitions"},
		{[]string{"--override", "listeners=PLAINTEXT://127.0.0.1:99999"}, "listeners"},
		{[]string{"--override", "log.retention.hours=-3"}, "log.retention.hours"},
		{[]string{"--config", filepath.Join(dir, "missing.properties")}, "missing.properties"},
	} {
		out, code := run(t, append([]string{"broker", "--override", "log.dirs=" + dir}, tc.args...)...)
		if code != 2 || !strings.Contains(out, tc.key) {
			t.Errorf("%v: exit %d, want 2 and a message naming %s:\n%s", tc.args, code, tc.key, out)
		}
	}
}

// TestBrokerUnknownKeyWarnsAndSIGTERMExits0 starts the broker with an unknown
// key (a warning, not an error), then stops it with SIGTERM: exit 0.
func TestBrokerUnknownKeyWarnsAndSIGTERMExits0(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(samsaBin, "broker", "--override", "log.dirs="+dir,
		"--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", "admin.listener=",
		"--override", "no.such.key=1")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	warned, started := false, false
	deadline := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for !started && sc.Scan() {
		line := sc.Text()
		warned = warned || strings.Contains(line, "WARN") && strings.Contains(line, "no.such.key")
		started = strings.Contains(line, "broker started")
	}
	if !warned || !started {
		t.Fatalf("warned %v, started %v", warned, started)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	go func() {
		for sc.Scan() {
		}
	}()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if _, err := exec.Command("test", "-f", filepath.Join(dir, ".kafka_cleanshutdown")).CombinedOutput(); err != nil {
		t.Fatal("no clean-shutdown marker after SIGTERM")
	}
}

// startBrokerProc starts the broker on free ports with a fresh data
// directory and waits for "broker started"; it returns the process, its
// data directory and its log so far (more arrives on the channel).
func startBrokerProc(t *testing.T, args ...string) (*exec.Cmd, string, *lockedLines) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(samsaBin, append([]string{"broker", "--override", "log.dirs=" + dir,
		"--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", "admin.listener="}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	log := newLockedLines()
	go log.read(stderr)
	select {
	case <-log.started:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("broker not started after 20s:\n%s", log.String())
	}
	return cmd, dir, log
}

// lockedLines collects a child's stderr and tells when the broker started
// and when the stream ended (the child exited: call Wait only then).
type lockedLines struct {
	mu      sync.Mutex
	lines   []string
	started chan struct{}
	eof     chan struct{}
}

func newLockedLines() *lockedLines {
	return &lockedLines{started: make(chan struct{}), eof: make(chan struct{})}
}

func (l *lockedLines) read(r io.Reader) {
	defer close(l.eof)
	sc := bufio.NewScanner(r)
	once := sync.Once{}
	for sc.Scan() {
		l.mu.Lock()
		l.lines = append(l.lines, sc.Text())
		l.mu.Unlock()
		if strings.Contains(sc.Text(), "broker started") {
			once.Do(func() { close(l.started) })
		}
	}
}

// waitFor polls until a line contains s, for at most d.
func (l *lockedLines) waitFor(s string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if strings.Contains(l.String(), s) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
}

func (l *lockedLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// The same stop delivered twice within a few milliseconds, as GNU timeout
// does (to the child, then to its process group), is one stop: a clean
// shutdown, the marker written, exit 0. The second SIGTERM is sent as soon
// as the broker logs that it handles the first, so that it arrives during
// the shutdown; a round where the broker was already gone proves nothing
// and is run again.
func TestBrokerDuplicateSIGTERMIsOneCleanStop(t *testing.T) {
	proved := 0
	for round := 0; round < 20 && proved < 3; round++ {
		cmd, dir, log := startBrokerProc(t)
		done := make(chan error, 1)
		go func() {
			<-log.eof
			done <- cmd.Wait()
		}()
		cmd.Process.Signal(syscall.SIGTERM)
		if !log.waitFor("shutting down", 10*time.Second) {
			t.Fatalf("round %d: no \"shutting down\" after SIGTERM:\n%s", round, log.String())
		}
		second := cmd.Process.Signal(syscall.SIGTERM)
		var err error
		select {
		case err = <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: broker still running 30s after SIGTERM", round)
		}
		if err != nil {
			t.Fatalf("round %d: exit after two SIGTERMs: %v\n%s", round, err, log.String())
		}
		if _, err := os.Stat(filepath.Join(dir, ".kafka_cleanshutdown")); err != nil {
			t.Fatalf("round %d: no clean-shutdown marker: %v\n%s", round, err, log.String())
		}
		if strings.Contains(log.String(), "without a clean shutdown") {
			t.Fatalf("round %d: the second SIGTERM was taken as a demand to exit at once:\n%s", round, log.String())
		}
		if second == nil && log.waitFor("repeated signal ignored", time.Second) {
			proved++
		}
	}
	if proved == 0 {
		t.Fatal("in no round did the second SIGTERM reach the broker during its shutdown")
	}
}

// Under GNU timeout, which signals the broker and then its process group,
// the broker stops cleanly.
func TestBrokerUnderGNUTimeout(t *testing.T) {
	timeout, err := exec.LookPath("timeout")
	if err != nil {
		t.Skip("no GNU timeout")
	}
	dir := t.TempDir()
	cmd := exec.Command(timeout, "3", samsaBin, "broker", "--override", "log.dirs="+dir,
		"--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", "admin.listener=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.CombinedOutput()
	// timeout exits 124 when it had to stop the command, whatever the
	// command's own status; the broker's verdict is in its log and its
	// data directory.
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 124) {
		t.Fatalf("timeout 3 samsa broker: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "without a clean shutdown") || !strings.Contains(string(out), "shutting down") {
		t.Fatalf("broker under timeout did not stop cleanly:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, ".kafka_cleanshutdown")); err != nil {
		t.Fatalf("no clean-shutdown marker: %v\n%s", err, out)
	}
}

// The old single-dash flags still start the broker; a bad --log-level is a
// usage error.
func TestBrokerFlags(t *testing.T) {
	cmd, _, log := startBrokerProc(t, "-override", "num.partitions=2", "-log-level", "debug")
	cmd.Process.Signal(syscall.SIGTERM)
	<-log.eof
	if err := cmd.Wait(); err != nil {
		t.Fatalf("broker with -override, -log-level: %v", err)
	}
	// The configuration file as the argument, as kafka-server-start.sh
	// takes it, and as --config: the broker uses its log.dirs.
	for _, form := range [][]string{{"FILE"}, {"--config", "FILE"}} {
		dir := t.TempDir()
		props := filepath.Join(t.TempDir(), "server.properties")
		os.WriteFile(props, []byte("log.dirs="+dir+"\nlisteners=PLAINTEXT://127.0.0.1:0\nadmin.listener=\n"), 0o644)
		args := []string{"broker"}
		for _, a := range form {
			args = append(args, strings.ReplaceAll(a, "FILE", props))
		}
		cmd := exec.Command(samsaBin, append(args, "--override", "num.partitions=3")...)
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		log := newLockedLines()
		go log.read(stderr)
		select {
		case <-log.started:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("samsa %v: not started:\n%s", form, log.String())
		}
		cmd.Process.Signal(syscall.SIGTERM)
		<-log.eof
		if err := cmd.Wait(); err != nil || !strings.Contains(log.String(), "log.dir="+dir) {
			t.Errorf("samsa broker %v: %v; want the file's log.dirs %s in:\n%s", form, err, dir, log.String())
		}
	}

	out, code := run(t, "broker", "--log-level", "loud")
	if code != 2 || !strings.Contains(out, "--log-level") || !strings.Contains(out, "Run 'samsa broker --help'") {
		t.Errorf("--log-level loud: exit %d\n%s", code, out)
	}
	out, code = run(t, "broker", "a.properties", "--config", "b.properties")
	if code != 2 || !strings.Contains(out, "named twice") {
		t.Errorf("two configuration files: exit %d\n%s", code, out)
	}
}
