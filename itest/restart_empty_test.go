package itest

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// rssFileKiB is a process's file-backed resident memory (RssFile in
// /proc/<pid>/status): mapped index pages count there.
func rssFileKiB(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssFile:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no RssFile in /proc/<pid>/status")
	return 0
}

// startLog returns the part of the broker's log written since its n-th start.
func (b *broker) startLog(n int) string {
	log := b.log.String()
	i := strings.Index(log, fmt.Sprintf("---- start %d:", n))
	if i < 0 {
		return ""
	}
	return log[i:]
}

// TestRestartEmptyPartitions: a broker with 60 empty partitions (the 10 MiB
// default index size) restarts after SIGTERM without a rebuilt segment or a
// warning about one, and with its file-backed memory near a fresh start's.
// Before the fix every empty partition failed its sanity check and the
// rebuild faulted in both 10 MiB indexes: about 1.2 GB.
func TestRestartEmptyPartitions(t *testing.T) {
	b := startBroker(t)
	if l := b.startLog(1); !strings.Contains(l, `msg="loaded log directory"`) || !strings.Contains(l, "state=new") {
		t.Fatalf("a new data directory is not reported as new:\n%s", l)
	}
	fresh := rssFileKiB(t, b.cmd.Process.Pid)
	b.newTopic(t, "empty.partitions", 60, nil)
	b.stop()
	b.restart()
	l := b.startLog(2)
	for _, want := range []string{"partitions=60", "state=clean", "recovered_segments=0", "rebuilt_segments=0"} {
		if !strings.Contains(l, want) {
			t.Fatalf("restart log lacks %q:\n%s", want, l)
		}
	}
	if strings.Contains(l, "sanity check") || strings.Contains(l, "level=WARN") {
		t.Fatalf("warnings on a clean restart:\n%s", l)
	}
	if after := rssFileKiB(t, b.cmd.Process.Pid); after > fresh+64<<10 {
		t.Fatalf("RssFile %d KiB after the restart, %d KiB at a fresh start: index pages were faulted in", after, fresh)
	}
}
