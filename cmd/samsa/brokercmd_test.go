package main

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strings"
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
