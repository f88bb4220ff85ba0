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
		"samsa/txnindex":    {"samsa/server", "samsa/kafkaapi", "samsa/replica", "samsa/controller", "samsa/metadata", "samsa/coordinator", "samsa/config", "samsa/producerstate", "samsa/logfile", "samsa/kclient", "samsa/netpoll"},
		"samsa/logfile/vfs": {"samsa/"},
		"samsa/logfile":     {"samsa/server", "samsa/kafkaapi", "samsa/replica", "samsa/controller", "samsa/metadata", "samsa/coordinator", "samsa/config", "samsa/producerstate", "samsa/kclient", "samsa/netpoll"},
		"samsa/zerocopy":    {"samsa/"},
		// A checkpoint file's format knows nothing of logs.
		"samsa/logfile/checkpoint": {"samsa/"},
		// Compaction works on a log through its Log interface: it imports
		// no log, nor anything above the storage.
		"samsa/logfile/compact": {"samsa/logfile", "samsa/server", "samsa/kafkaapi", "samsa/replica", "samsa/controller", "samsa/metadata", "samsa/coordinator", "samsa/config", "samsa/producerstate", "samsa/kclient", "samsa/netpoll"},
		// A log's segments know nothing of the log that holds them.
		"samsa/logfile/internal/segment": {"samsa/logfile", "samsa/server", "samsa/kafkaapi", "samsa/replica", "samsa/controller", "samsa/metadata", "samsa/coordinator", "samsa/config", "samsa/producerstate", "samsa/kclient", "samsa/netpoll"},
		// Security is below every layer that carries a connection.
		"samsa/security": {"samsa/"},
		"samsa/netpoll":  {"samsa/server", "samsa/kafkaapi", "samsa/replica", "samsa/logfile", "samsa/metadata", "samsa/controller"},
		// replica is below the protocol handlers and the process.
		"samsa/replica": {"samsa/kafkaapi", "samsa/server", "samsa/controller", "samsa/coordinator"},
		// replica's roles apart from it are below it: replica imports
		// them, never the reverse. The fetchers reach partitions through
		// their Partition interface only: no log, producer state or
		// record format; fetch sessions keep nothing of the module.
		"samsa/replica/fetcher":      {"samsa/replica", "samsa/logfile", "samsa/producerstate", "samsa/record", "samsa/metadata", "samsa/config", "samsa/kafkaapi", "samsa/server", "samsa/controller", "samsa/coordinator", "samsa/admin"},
		"samsa/replica/fetchsession": {"samsa/"},
		"samsa/replica/validate":     {"samsa/replica", "samsa/producerstate", "samsa/metadata", "samsa/kclient", "samsa/kafkaapi", "samsa/server", "samsa/controller", "samsa/coordinator", "samsa/admin"},
		// The controller reaches brokers through Kafka requests only.
		"samsa/controller": {"samsa/kafkaapi", "samsa/server", "samsa/replica", "samsa/logfile", "samsa/coordinator"},
		// The administrative, group and transaction APIs are a layer
		// above the protocol's framework: adminapi, groupapi and txnapi
		// import kafkaapi, never the reverse, nor each other.
		"samsa/kafkaapi":          {"samsa/server", "samsa/controller", "samsa/kafkaapi/adminapi", "samsa/kafkaapi/groupapi", "samsa/kafkaapi/txnapi"},
		"samsa/kafkaapi/adminapi": {"samsa/server", "samsa/controller", "samsa/kafkaapi/groupapi", "samsa/kafkaapi/txnapi"},
		"samsa/kafkaapi/groupapi": {"samsa/server", "samsa/controller", "samsa/kafkaapi/adminapi", "samsa/kafkaapi/txnapi"},
		"samsa/kafkaapi/txnapi":   {"samsa/server", "samsa/controller", "samsa/kafkaapi/adminapi", "samsa/kafkaapi/groupapi"},
		// Topic administration is below the handlers, above the replicas.
		"samsa/admin":             {"samsa/kafkaapi", "samsa/server", "samsa/controller", "samsa/coordinator"},
		"samsa/coordinator/group": {"samsa/kafkaapi", "samsa/server", "samsa/replica", "samsa/controller"},
		"samsa/producerstate":     {"samsa/kafkaapi", "samsa/server", "samsa/replica", "samsa/controller"},
		"samsa/metadata":          {"samsa/kafkaapi", "samsa/server", "samsa/replica", "samsa/controller", "samsa/coordinator"},
		// The znodes' formats are data: they import nothing of the module
		// but the source of random IDs.
		"samsa/metadata/kafkazk/zkdata": {"samsa/"},
		// The authorizer is fed by stores and asked by handlers.
		"samsa/security/acl": {"samsa/"},
		"samsa/config":       {"samsa/kafkaapi", "samsa/server", "samsa/replica", "samsa/controller", "samsa/metadata", "samsa/coordinator"},
	}
	allowed := map[string][]string{
		"samsa/record":                  {"samsa/record/codec"},
		"samsa/logfile":                 {"samsa/logfile/vfs", "samsa/mmapindex", "samsa/record", "samsa/record/codec"},
		"samsa/txnindex":                {"samsa/logfile/vfs"},
		"samsa/metadata/kafkazk/zkdata": {"samsa/internal/uuid"},
		// The authorizer's principal is the listeners' (package security).
		"samsa/security/acl": {"samsa/security"},
		// The storage packages below the log share its file system.
		"samsa/logfile/checkpoint":       {"samsa/logfile/vfs"},
		"samsa/logfile/compact":          {"samsa/logfile/vfs", "samsa/logfile/checkpoint"},
		"samsa/logfile/internal/segment": {"samsa/logfile/vfs"},
		// The fetchers keep a fetch session with each leader.
		"samsa/replica/fetcher": {"samsa/replica/fetchsession"},
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

// ceilings are the packages past about 3,000 lines when this test was
// written, each at its size with a little room: they may shrink, not
// grow much, and one that reaches its ceiling is split by role. None is
// left: kafkaapi (its administrative APIs went to kafkaapi/adminapi),
// metadata/kafkazk (the znodes' formats went to zkdata), logfile
// (compaction, its segments and the checkpoint files' format went to
// logfile/compact, logfile/internal/segment and logfile/checkpoint) and
// replica (the follower's fetchers went to replica/fetcher, produce
// validation to replica/validate) were split so, and are held to
// maxLines again.
var ceilings = map[string]int{}

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

// The client-side commands (docs/architecture.md): one package per group
// of commands under samsa/cli, the plumbing they share in cliShared (with
// its internal packages), the root's setup in cliRoot; cmd/samsa builds
// the root from them.
const (
	cliPrefix = "samsa/cli/"
	cliShared = "samsa/cli/command"
	cliRoot   = "samsa/cli/root"
	cliBroker = "samsa/cli/broker"
	mainPkg   = "samsa/cmd/samsa"
)

// inShared reports whether path is the shared package or one of its own.
func inShared(path string) bool {
	return path == cliShared || strings.HasPrefix(path, cliShared+"/")
}

// TestCLIImports: a command package imports no other command package,
// only the shared one, so no two of them are tied together; the shared
// package imports none of them; no layer of the broker imports samsa/cli;
// and only cli/broker, which runs the broker, depends on samsa/server.
func TestCLIImports(t *testing.T) {
	pkgs := listPackages(t)
	for _, path := range []string{cliShared, cliRoot, cliBroker, "samsa/cli/topic", "samsa/cli/consume", "samsa/cli/group"} {
		if _, ok := pkgs[path]; !ok {
			t.Errorf("package %s is gone: update this test and docs/architecture.md", path)
		}
	}
	isServer := func(dep string) bool { return dep == "samsa/server" || strings.HasPrefix(dep, "samsa/server/") }
	for path, p := range pkgs {
		cli := strings.HasPrefix(path, cliPrefix)
		for _, dep := range p.Deps {
			if cli && path != cliBroker && isServer(dep) {
				t.Errorf("%s depends on %s: only %s runs the broker", path, dep, cliBroker)
			}
			if !strings.HasPrefix(dep, cliPrefix) {
				continue
			}
			switch {
			case inShared(path) && !inShared(dep):
				t.Errorf("%s depends on %s: the shared package imports no command package", path, dep)
			case cli && !inShared(path) && !inShared(dep):
				t.Errorf("%s depends on %s: a command package imports only %s", path, dep, cliShared)
			case !cli && path != mainPkg && path != "samsa/internal/clitest":
				t.Errorf("%s depends on %s: no layer of the broker imports samsa/cli", path, dep)
			}
		}
	}
}

// cliMaxLines bounds each package of the commands: a group that outgrows
// it is split (rpk has a package per group and, in the largest, per
// subgroup).
const cliMaxLines = 1200

// TestCLIPackageSize: no package under samsa/cli, nor cmd/samsa, over
// cliMaxLines lines of non-test Go.
func TestCLIPackageSize(t *testing.T) {
	n := 0
	for path, p := range listPackages(t) {
		if !strings.HasPrefix(path, cliPrefix) && path != mainPkg {
			continue
		}
		n++
		size := 0
		for _, f := range p.GoFiles {
			size += lines(t, filepath.Join(p.Dir, f))
		}
		if size > cliMaxLines {
			t.Errorf("%s has %d lines of non-test Go, over %d: split it by role", path, size, cliMaxLines)
		}
	}
	if n < 10 {
		t.Errorf("only %d packages of commands found", n)
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
