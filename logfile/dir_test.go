package logfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"samsa/logfile/checkpoint"
	"samsa/logfile/vfs"
)

func openDir(t testing.TB, path string) *Dir {
	t.Helper()
	d, err := OpenDir(path, DirOptions{Logger: quiet, ConfigFor: func(string) Config { return smallConfig() }})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDirCleanAndUncleanReopen(t *testing.T) {
	path := t.TempDir()
	d := openDir(t, path)
	if d.WasClean() || !d.Fresh() {
		t.Fatal("a new directory is neither a clean nor an unclean shutdown: it is fresh")
	}
	data := map[TopicPartition][]appended{}
	for _, tp := range []TopicPartition{{Topic: "a", Partition: 0}, {Topic: "a", Partition: 1}, {Topic: "b.c_d", Partition: 0}} {
		l, err := d.Create(tp, smallConfig())
		if err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			data[tp] = append(data[tp], mustAppend(t, l, batch(2, 200, byte(i), int64(i))))
		}
	}
	if _, err := OpenDir(path, DirOptions{Logger: quiet}); !errors.Is(err, ErrDirLocked) {
		t.Fatalf("second open of a locked dir: %v", err)
	}
	if _, err := d.Get(TopicPartition{Topic: "a", Partition: 1}).DeleteRecordsBefore(7); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(path, CleanShutdownMarker)); err != nil {
		t.Fatal("no clean-shutdown marker after Close")
	}
	rps, err := checkpoint.Read(vfs.OS, filepath.Join(path, RecoveryPointCheckpoint))
	if err != nil || len(rps) != 3 || rps[TopicPartition{Topic: "a", Partition: 0}] != 200 {
		t.Fatalf("recovery points %v, %v", rps, err)
	}

	d = openDir(t, path)
	if !d.WasClean() || d.Fresh() {
		t.Fatal("clean shutdown not detected")
	}
	if _, err := os.Stat(filepath.Join(path, CleanShutdownMarker)); !os.IsNotExist(err) {
		t.Fatal("marker must be removed while running")
	}
	if got := d.Get(TopicPartition{Topic: "a", Partition: 1}).StartOffset(); got != 7 {
		t.Fatalf("log start offset %d after restart, want 7", got)
	}
	for tp, as := range data {
		l := d.Get(tp)
		if tp.Partition == 1 {
			continue
		}
		mustEqual(t, readAll(t, l, 1<<20), concat(as))
		data[tp] = append(data[tp], mustAppend(t, l, batch(1, 50, 0xfe, 1)))
	}
	// Crash: no Close. The lock is released by closing its descriptor, as
	// the kernel would on process death.
	d.lock.Close()
	d2 := openDir(t, path)
	defer d2.Close()
	if d2.WasClean() || d2.Fresh() {
		t.Fatal("crash taken for a clean shutdown or a new directory")
	}
	for tp, as := range data {
		if tp.Partition == 1 {
			continue
		}
		mustEqual(t, readAll(t, d2.Get(tp), 1<<20), concat(as))
	}
}

func TestDirDelete(t *testing.T) {
	path := t.TempDir()
	d := openDir(t, path)
	tp := TopicPartition{Topic: "gone", Partition: 0}
	l, _ := d.Create(tp, smallConfig())
	mustAppend(t, l, batch(1, 10, 1, 1))
	if err := d.Delete(tp); err != nil {
		t.Fatal(err)
	}
	if d.Get(tp) != nil {
		t.Fatal("deleted log still listed")
	}
	d.Close()
	d = openDir(t, path)
	defer d.Close()
	if len(d.Logs()) != 0 {
		t.Fatalf("%d logs after delete and reopen", len(d.Logs()))
	}
	ents, _ := os.ReadDir(path)
	for _, e := range ents {
		if e.IsDir() {
			t.Fatalf("directory %s left behind", e.Name())
		}
	}
	if _, err := d.Create(TopicPartition{Topic: "../x", Partition: 0}, smallConfig()); err == nil {
		t.Fatal("path separators accepted in a topic name")
	}
}

// TestFreshDirectory: only a directory without a marker, a recovery-point
// checkpoint or a partition is new; files of other owners do not count.
func TestFreshDirectory(t *testing.T) {
	for name, tc := range map[string]struct {
		setup func(path string)
		fresh bool
	}{
		"missing":             {func(path string) { os.Remove(path) }, true},
		"empty":               {func(string) {}, true},
		"broker files only":   {func(path string) { os.WriteFile(filepath.Join(path, "meta.properties"), nil, 0o644) }, true},
		"partition, no files": {func(path string) { os.Mkdir(filepath.Join(path, "t-0"), 0o755) }, false},
		"checkpoint": {func(path string) {
			os.WriteFile(filepath.Join(path, RecoveryPointCheckpoint), []byte("0\n0\n"), 0o644)
		}, false},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "data")
			os.Mkdir(path, 0o755)
			tc.setup(path)
			d, c := openDirLogged(t, path)
			defer d.Close()
			want := map[bool]string{true: "state=new", false: "state=unclean"}[tc.fresh]
			if d.Fresh() != tc.fresh || d.WasClean() || !strings.Contains(c.find("INFO loaded log directory"), want) {
				t.Fatalf("Fresh %v, WasClean %v, %q; want Fresh %v and %s", d.Fresh(), d.WasClean(), c.find("INFO loaded"), tc.fresh, want)
			}
		})
	}
}
