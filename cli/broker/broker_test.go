package broker

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"samsa/cli/root"
	"samsa/internal/clitest"
)

// The broker's tests run it as a process of its own, to send it signals
// and see its exit status: the test binary runs itself as samsa broker
// when asSamsaEnv is set (it is for every child of the tests).
const asSamsaEnv = "SAMSA_BROKER_TEST_AS_SAMSA"

// samsaBin is the test binary, which runs as samsa under asSamsaEnv.
var samsaBin string

func TestMain(m *testing.M) {
	if os.Getenv(asSamsaEnv) != "" {
		os.Exit(root.Execute(clitest.Root(NewCommand()), os.Args[1:]))
	}
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	samsaBin = exe
	os.Setenv(asSamsaEnv, "1")
	os.Exit(m.Run())
}

// run runs samsa with args and returns its stdout and stderr together, and
// its exit status.
func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(samsaBin, args...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

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

// startBrokerLines runs "samsa broker args..." from dir and returns the
// lines it logged up to "broker started", then stops it with SIGTERM and
// checks it exits 0.
func startBrokerLines(t *testing.T, dir string, args ...string) []string {
	t.Helper()
	cmd := exec.Command(samsaBin, append([]string{"broker"}, args...)...)
	cmd.Dir = dir
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	sc := bufio.NewScanner(stderr)
	var lines []string
	started := false
	for !started && sc.Scan() {
		lines = append(lines, sc.Text())
		started = strings.Contains(sc.Text(), "broker started")
	}
	if !started {
		cmd.Wait()
		t.Fatalf("broker did not start:\n%s", strings.Join(lines, "\n"))
	}
	cmd.Process.Signal(syscall.SIGTERM)
	go func() {
		for sc.Scan() {
		}
	}()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	return lines
}

// The README's command, run from the repository's root: the shipped
// config/server.properties parses without a warning. The overrides only
// move the ports and the data off the shared defaults.
func TestBrokerSampleConfigHasNoWarnings(t *testing.T) {
	lines := startBrokerLines(t, "../..", "--config", "config/server.properties",
		"--override", "log.retention.hours=24",
		"--override", "log.dirs="+t.TempDir(), "--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", "admin.listener=127.0.0.1:0")
	for _, l := range lines {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			t.Errorf("logged: %s", l)
		}
	}
	last := lines[len(lines)-1]
	if !strings.Contains(last, "admin=127.0.0.1:") {
		t.Errorf("the started line does not give the admin address: %s", last)
	}
}

// log.format=json logs one JSON object a line.
func TestBrokerJSONLogs(t *testing.T) {
	lines := startBrokerLines(t, ".", "--override", "log.format=json",
		"--override", "log.dirs="+t.TempDir(), "--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", "admin.listener=")
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		if rec["msg"] == "broker started" && rec["admin"] != "disabled" {
			t.Errorf("started line: admin %v", rec["admin"])
		}
	}
}

// A busy port, Kafka's or the admin listener's, is one fault: exit 1,
// "cannot start", the listener and the system's error.
func TestBrokerBusyPortExits1(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	for _, tc := range []struct{ listeners, admin, want string }{
		{"PLAINTEXT://" + addr, "", "listen PLAINTEXT://" + addr + ": "},
		{"PLAINTEXT://127.0.0.1:0", addr, "listen admin http://" + addr + ": "},
	} {
		out, code := run(t, "broker", "--override", "log.dirs="+t.TempDir(),
			"--override", "listeners="+tc.listeners, "--override", "admin.listener="+tc.admin)
		if code != 1 || !strings.Contains(out, "cannot start") || !strings.Contains(out, tc.want) ||
			!strings.Contains(out, "address already in use") || strings.Contains(out, "invalid value") {
			t.Errorf("listeners %s, admin %s: exit %d, want 1 and %q:\n%s", tc.listeners, tc.admin, code, tc.want, out)
		}
	}
}
