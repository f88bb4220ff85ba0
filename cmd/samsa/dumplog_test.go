package main

import (
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"samsa/internal/testbatch"
	"samsa/logfile"
)

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

// makeSegment writes a closed log of 40 batches with index entries and
// returns the partition directory.
func makeSegment(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "t-0")
	cfg := logfile.DefaultConfig()
	cfg.IndexIntervalBytes = 300
	l, err := logfile.Open(dir, cfg, logfile.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		b := testbatch.Make(testbatch.Spec{Records: 2, ValueSize: 100, Fill: 'a' + byte(i%26), Timestamp: int64(1000 + i), Key: []byte("k")})
		if _, err := l.Append(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDumpLog(t *testing.T) {
	dir := makeSegment(t)
	seg := func(suf string) string { return filepath.Join(dir, logfile.SegmentName(0, suf)) }

	out, code := run(t, "dump-log", "--verify", "--print-data", seg(".log"), seg(".index"), seg(".timeindex"))
	if code != 0 {
		t.Fatalf("verify of a good segment failed (%d):\n%s", code, out)
	}
	if n := strings.Count(out, "baseOffset: "); n != 40 {
		t.Fatalf("%d batches printed, want 40", n)
	}
	for _, want := range []string{
		"baseOffset: 78 lastOffset: 79 count: 2",
		"compresscodec: none",
		"isvalid: true",
		"| offset: 79 CreateTime: 1040 keySize: 1 valueSize: 100",
		"key: k payload: nnnn",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out[:min(len(out), 2000)])
		}
	}
	if strings.Count(out, "offset: ") < 80+5 || !strings.Contains(out, "timestamp: ") {
		t.Fatal("index entries not printed")
	}

	// A flipped payload byte: the batch is printed as invalid and --verify fails.
	data, _ := os.ReadFile(seg(".log"))
	data[len(data)-10] ^= 0xff
	os.WriteFile(seg(".log"), data, 0o644)
	out, code = run(t, "dump-log", "--verify", seg(".log"))
	if code != 1 || !strings.Contains(out, "isvalid: false") || !strings.Contains(out, "PROBLEM: batch at position") {
		t.Fatalf("corrupt batch not reported (exit %d):\n%s", code, out)
	}

	// An index entry that points at the wrong position.
	idx, _ := os.ReadFile(seg(".index"))
	idx[7]++
	os.WriteFile(seg(".index"), idx, 0o644)
	out, code = run(t, "dump-log", "--verify", seg(".index"))
	if code != 1 || !strings.Contains(out, "PROBLEM: entry 0") {
		t.Fatalf("bad index entry not reported (exit %d):\n%s", code, out)
	}

	if _, code := run(t, "dump-log", filepath.Join(dir, "x.txt")); code != 1 {
		t.Fatal("unknown file type should fail")
	}
	if _, code := run(t, "dump-log"); code != 2 {
		t.Fatal("no files should be a usage error")
	}
}
