package main

import (
	"bufio"
	"encoding/json"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

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
