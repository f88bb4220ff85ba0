package layers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type pkg struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Deps       []string
	Imports    []string
}

// listPackages runs go list over the module.
func listPackages(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Dir,GoFiles,Deps,Imports", "samsa/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs
}

// TestImportsPointDown: no package depends, directly or not, on a layer
// above it.
func TestImportsPointDown(t *testing.T) {
	pkgs := listPackages(t)
	forbidden := map[string][]string{
		// The record format imports nothing of the module but its codecs.
		"samsa/record":       {"samsa/"},
		"samsa/record/codec": {"samsa/"},
		// Storage imports no broker layer.
		"samsa/mmapindex":   {"samsa/"},
		"samsa/logfile/vfs": {"samsa/"},
		"samsa/logfile":     {"samsa/server", "samsa/kafkaapi", "samsa/replica", "samsa/controller", "samsa/metadata", "samsa/coordinator", "samsa/config", "samsa/producerstate", "samsa/kclient", "samsa/netpoll"},
		"samsa/zerocopy":    {"samsa/"},
		"samsa/netpoll":     {"samsa/server", "samsa/kafkaapi", "samsa/replica", "samsa/logfile", "samsa/metadata", "samsa/controller"},
		// replica is below the protocol handlers and the process.
		"samsa/replica": {"samsa/kafkaapi", "samsa/server", "samsa/controller", "samsa/coordinator"},
		// The controller reaches brokers through Kafka requests only.
		"samsa/controller": {"samsa/kafkaapi", "samsa/server", "samsa/replica", "samsa/logfile", "samsa/coordinator"},
		"samsa/kafkaapi":   {"samsa/server", "samsa/controller"},
		// Topic administration is below the handlers, above the replicas.
		"samsa/admin":             {"samsa/kafkaapi", "samsa/server", "samsa/controller", "samsa/coordinator"},
		"samsa/coordinator/group": {"samsa/kafkaapi", "samsa/server", "samsa/replica", "samsa/controller"},
		"samsa/producerstate":     {"samsa/kafkaapi", "samsa/server", "samsa/replica", "samsa/controller"},
		"samsa/metadata":          {"samsa/kafkaapi", "samsa/server", "samsa/replica", "samsa/controller", "samsa/coordinator"},
		"samsa/config":            {"samsa/kafkaapi", "samsa/server", "samsa/replica", "samsa/controller", "samsa/metadata", "samsa/coordinator"},
	}
	allowed := map[string][]string{
		"samsa/record":  {"samsa/record/codec"},
		"samsa/logfile": {"samsa/logfile/vfs", "samsa/mmapindex", "samsa/record", "samsa/record/codec"},
	}
	for path, bad := range forbidden {
		p, ok := pkgs[path]
		if !ok {
			t.Errorf("package %s is gone: update this test and docs/architecture.md", path)
			continue
		}
		for _, dep := range p.Deps {
			if slices.Contains(allowed[path], dep) {
				continue
			}
			for _, b := range bad {
				if dep == b || strings.HasPrefix(dep, b+"/") || (strings.HasSuffix(b, "/") && strings.HasPrefix(dep, b)) {
					t.Errorf("%s depends on %s: imports must point down (docs/architecture.md)", path, dep)
				}
			}
		}
	}
}

// ceilings are the packages already past about 3,000 lines, at their size
// when this test was written with a little room: they may shrink, not
// grow much. One that reaches its ceiling is split by role (cmd/samsa:
// commands into packages of their own; logfile: compaction or the epoch
// cache; kafkaapi: the group or admin handlers).
var ceilings = map[string]int{
	"samsa/cmd/samsa":        5400,
	"samsa/logfile":          3650,
	"samsa/kafkaapi":         3400,
	"samsa/metadata/kafkazk": 3150,
}

const maxLines = 3000

// TestPackageSize: no non-test package over about 3,000 lines, but those
// listed in ceilings, which may not grow.
func TestPackageSize(t *testing.T) {
	for path, p := range listPackages(t) {
		n := 0
		for _, f := range p.GoFiles {
			n += lines(t, filepath.Join(p.Dir, f))
		}
		limit := maxLines
		if c, ok := ceilings[path]; ok {
			limit = c
			t.Logf("%s: %d lines (ceiling %d)", path, n, c)
		}
		if n > limit {
			t.Errorf("%s has %d lines of non-test Go, over %d: split it by role rather than raise the limit", path, n, limit)
		}
	}
}

func lines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		n++
	}
	return n
}
