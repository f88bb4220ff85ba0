package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"samsa/logfile/vfs"
)

func TestFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cp")
	in := map[TopicPartition]int64{{"t", 0}: 5, {"t", 10}: 1 << 40, {"a", 2}: 0}
	if err := Write(vfs.OS, path, in); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "0\n3\na 2 0\nt 0 5\nt 10 1099511627776\n"
	if string(got) != want {
		t.Fatalf("checkpoint file:\n%s\nwant:\n%s", got, want)
	}
	out, err := Read(vfs.OS, path)
	if err != nil || len(out) != 3 || out[TopicPartition{"t", 10}] != 1<<40 {
		t.Fatalf("read back %v, %v", out, err)
	}
	for _, bad := range []string{"", "1\n0\n", "0\n2\nt 0 1\n", "0\n1\nt x 1\n", "0\n1\nt 0\n", "0\n-1\n", "0\n1\nt 0 1\nextra 0 1\n"} {
		if _, err := Parse([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %v", bad, err)
		}
	}
	if m, err := Read(vfs.OS, path+".missing"); err != nil || len(m) != 0 {
		t.Fatalf("missing checkpoint: %v %v", m, err)
	}
}

// FuzzParse feeds arbitrary bytes to the checkpoint reader. Invariants:
// it never panics; an accepted file's map, written again, parses to the
// same map, and writing that gives the same bytes (the writer's form is a
// fixed point).
func FuzzParse(f *testing.F) {
	f.Add([]byte("0\n3\na 2 0\nt 0 5\nt 10 1099511627776\n"))
	f.Add([]byte("0\n0\n"))
	f.Add([]byte("0\n1\nt 0 -1\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := Parse(in)
		if err != nil {
			return
		}
		out := encode(m)
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", out, err)
		}
		if len(again) != len(m) {
			t.Fatalf("%d entries, then %d", len(m), len(again))
		}
		for tp, o := range m {
			if again[tp] != o {
				t.Fatalf("%v: %d, then %d", tp, o, again[tp])
			}
		}
		if b := encode(again); string(b) != string(out) {
			t.Fatalf("written twice: %q, then %q", out, b)
		}
	})
}
