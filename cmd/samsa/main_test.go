package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The tests of the root run the binary, built once: they check what a
// user of samsa sees of the whole command tree (help, flags, version,
// completion), and behaviour that spans command groups. Each group's own
// tests are in its package under samsa/cli.

var samsaBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "samsa-bin")
	if err != nil {
		panic(err)
	}
	samsaBin = filepath.Join(dir, "samsa")
	if out, err := exec.Command("go", "build", "-o", samsaBin, ".").CombinedOutput(); err != nil {
		panic("build samsa: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

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

// runSplit runs the binary and returns stdout, stderr and the exit code.
func runSplit(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(samsaBin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
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
