package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"samsa/cli/root"
	"samsa/internal/clitest"
)

// commandPaths returns the path (without "samsa") of every command a user
// can call, walking the command tree.
func commandPaths(t *testing.T) [][]string {
	t.Helper()
	var paths [][]string
	var visit func(c *cobra.Command, path []string)
	visit = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() {
				visit(s, append(slices.Clone(path), s.Name()))
			}
		}
	}
	visit(newRootCmd(), nil)
	if len(paths) < 25 {
		t.Fatalf("only %d commands in the tree", len(paths))
	}
	return paths
}

// --help, -h and "samsa help" print the command's help to stdout and exit
// 0, for every command of the tree.
func TestHelpEveryCommand(t *testing.T) {
	for _, path := range commandPaths(t) {
		name := strings.TrimSpace("samsa " + strings.Join(path, " "))
		var first string
		for i, args := range [][]string{
			append(slices.Clone(path), "--help"),
			append(slices.Clone(path), "-h"),
			append([]string{"help"}, path...),
		} {
			out, errOut, code := runSplit(t, args...)
			if code != 0 || errOut != "" || !strings.Contains(out, "Usage:\n  "+name) {
				t.Errorf("samsa %s: exit %d, stderr %q, stdout %q; want exit 0 and the usage of %s on stdout",
					strings.Join(args, " "), code, errOut, out, name)
				continue
			}
			if i == 0 {
				first = out
			} else if out != first {
				t.Errorf("samsa %s printed other help than %s --help", strings.Join(args, " "), name)
			}
		}
	}
}

// One meaning per flag: a short flag stands for the same long flag
// everywhere, except -p, which is a partition count (--partitions) where a
// topic is created or grown and partition numbers (--partition) where
// records are written, read or deleted, as in rpk and kcat.
func TestOneMeaningPerFlag(t *testing.T) {
	root := newRootCmd()
	meanings := map[string]map[string][]string{} // shorthand → long name → commands
	var visit func(c *cobra.Command)
	visit = func(c *cobra.Command) {
		c.InitDefaultHelpFlag()
		c.InitDefaultVersionFlag()
		c.Flags().AddFlagSet(c.InheritedFlags())
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Shorthand == "" || f.Hidden || f.ShorthandDeprecated != "" {
				return
			}
			if meanings[f.Shorthand] == nil {
				meanings[f.Shorthand] = map[string][]string{}
			}
			meanings[f.Shorthand][f.Name] = append(meanings[f.Shorthand][f.Name], c.CommandPath())
		})
		for _, s := range c.Commands() {
			visit(s)
		}
	}
	visit(root)
	counts := []string{"samsa bench produce", "samsa topic add-partitions", "samsa topic create"}
	// -o is an offset: where consume starts (--from, also --offset), or
	// where delete-records deletes up to (--offset).
	if o := meanings["o"]; len(o) == 2 && len(o["from"]) == 1 && len(o["offset"]) == 1 {
		delete(meanings, "o")
	}
	for short, longs := range meanings {
		if short == "p" {
			if got := slices.Sorted(slices.Values(longs["partitions"])); !slices.Equal(got, counts) {
				t.Errorf("-p means --partitions (a count) in %q, want %q", got, counts)
			}
			if len(longs) != 2 || len(longs["partition"]) < 4 {
				t.Errorf("-p means %v", longs)
			}
			continue
		}
		if len(longs) != 1 {
			t.Errorf("-%s means %v", short, longs)
		}
	}
	// Every --partitions is a count, every --partition takes partition numbers.
	var visitTypes func(c *cobra.Command)
	visitTypes = func(c *cobra.Command) {
		if f := c.Flags().Lookup("partitions"); f != nil && f.Name == "partitions" && f.Value.Type() != "int" {
			t.Errorf("%s --partitions is a %s, not a count", c.CommandPath(), f.Value.Type())
		}
		if f := c.Flags().Lookup("partition"); f != nil && f.Value.Type() == "int" && c.CommandPath() != "samsa produce" {
			t.Errorf("%s --partition is a count", c.CommandPath())
		}
		for _, s := range c.Commands() {
			visitTypes(s)
		}
	}
	visitTypes(root)
}

func TestVersion(t *testing.T) {
	out, errOut, code := runSplit(t, "version")
	if code != 0 || errOut != "" || !strings.Contains(out, "module samsa\n") || !strings.Contains(out, "go go1.") || !strings.HasPrefix(out, "samsa ") {
		t.Fatalf("samsa version: exit %d, stderr %q, stdout %q", code, errOut, out)
	}
	out2, _, code := runSplit(t, "--version")
	if code != 0 || out2 != out {
		t.Errorf("samsa --version: exit %d, printed %q; want what samsa version printed, %q", code, out2, out)
	}

	// make build stamps the commit, in a checkout or a worktree, whatever
	// GOFLAGS says; without git it still builds, and says so.
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	makeVersion := func(env []string, vars ...string) string {
		t.Helper()
		bin := filepath.Join(t.TempDir(), "samsa")
		cmd := exec.Command("make", append([]string{"-s", "build", "BIN=" + bin}, vars...)...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make build %q: %v\n%s", vars, err, out)
		}
		out, err := exec.Command(bin, "version").Output()
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	// Without git: make's stamps are empty, and the go command's own VCS
	// stamping (which a plain clone would give) is off too.
	if out := makeVersion([]string{"GOFLAGS=-buildvcs=false"}, "GIT=/nonexistent/git"); !strings.Contains(out, "commit unknown") || !strings.HasPrefix(out, "samsa (devel)\n") {
		t.Errorf("samsa version built by make without git: %q", out)
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("no git checkout to stamp from: %v", err)
	}
	out = makeVersion(nil)
	if want := "commit " + strings.TrimSpace(string(head)); !strings.Contains(out, want) {
		t.Errorf("samsa version of a make build printed %q, want %q", out, want)
	}
	if !strings.HasPrefix(out, "samsa v") || !strings.Contains(out, "\ncommit time 20") {
		t.Errorf("samsa version of a make build: no version or commit time: %q", out)
	}

	// A plain go build in a checkout (not a worktree) names it too, from
	// the toolchain's VCS stamp.
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err != nil || !fi.IsDir() {
		t.Skip("a git worktree: the go command stamps VCS information only where .git is a directory")
	}
	bin := filepath.Join(t.TempDir(), "samsa")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -buildvcs=true: %v\n%s", err, out)
	}
	vout, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "commit " + strings.TrimSpace(string(head)); !strings.Contains(string(vout), want) {
		t.Errorf("samsa version of a -buildvcs=true build printed %q, want %q", vout, want)
	}
}

func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{
		"bash":       "complete -o default -F __start_samsa samsa",
		"zsh":        "#compdef samsa",
		"fish":       "complete -c samsa",
		"powershell": "Register-ArgumentCompleter",
	} {
		out, errOut, code := runSplit(t, "completion", shell)
		if code != 0 || errOut != "" || !strings.Contains(out, want) {
			t.Errorf("samsa completion %s: exit %d, stderr %q, %d bytes without %q", shell, code, errOut, len(out), want)
		}
	}
	if _, errOut, code := runSplit(t, "completion", "tcsh"); code != 2 || !strings.Contains(errOut, `unknown shell "tcsh"`) {
		t.Errorf("samsa completion tcsh: exit %d, stderr %q", code, errOut)
	}

	// Commands, then topic names from the broker.
	out, _, code := runSplit(t, "__complete", "to")
	if code != 0 || !strings.Contains(out, "topic\t") {
		t.Errorf("completion of 'samsa to': exit %d, %q", code, out)
	}
	addr := clitest.StartCluster(t)
	topic := clitest.NewTopic(t)
	clitest.CreateTopic(t, addr, topic, 1)
	out, _, code = runSplit(t, "__complete", "topic", "describe", "--brokers", addr, topic[:len(topic)-3])
	if code != 0 || !strings.Contains(out, topic+"\n") {
		t.Errorf("completion of a topic name: exit %d, %q; want %s", code, out, topic)
	}
	// consume takes one topic: nothing to complete after it.
	out, _, code = runSplit(t, "__complete", "consume", "--brokers", addr, topic, "")
	if code != 0 || strings.Contains(out, topic) {
		t.Errorf("completion after consume's topic: exit %d, %q", code, out)
	}
}

// The single-dash long flags of broker and dump-log from before pflag still
// work.
func TestLegacyLongFlags(t *testing.T) {
	dir := clitest.MakeSegment(t)
	seg := filepath.Join(dir, "00000000000000000000.log")
	out, code := run(t, "dump-log", "-verify", "-print-data", seg)
	if code != 0 || !strings.Contains(out, "| offset: 0 ") {
		t.Errorf("dump-log -verify -print-data: exit %d\n%s", code, out[:min(len(out), 500)])
	}
	for _, tc := range []struct{ in, want []string }{
		{[]string{"broker", "-config", "f", "-override=a=b", "-log-level", "debug"}, []string{"broker", "--config", "f", "--override=a=b", "--log-level", "debug"}},
		{[]string{"broker", "--", "-config"}, []string{"broker", "--", "-config"}},
		{[]string{"topic", "-config"}, []string{"topic", "-config"}},
		{[]string{"dump-log", "-verify", "x.log"}, []string{"dump-log", "--verify", "x.log"}},
	} {
		if got := root.LegacyLongFlags(newRootCmd(), tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("LegacyLongFlags(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// A flag error names the flag in one line: no usage dump.
	_, errOut, code := runSplit(t, "dump-log", "--bogus", "x.log")
	if code != 2 || strings.Count(errOut, "\n") != 2 || !strings.Contains(errOut, "unknown flag: --bogus") {
		t.Errorf("dump-log --bogus: exit %d, stderr %q", code, errOut)
	}
}

// Every samsa command line in README.md parses: its command exists and its
// flags are spelled as the command takes them (--help after them stops
// before anything runs).
func TestReadmeCommandLines(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range strings.Lines(string(readme)) {
		line = strings.TrimSpace(line)
		rest, ok := strings.CutPrefix(line, "bin/samsa ")
		if !ok {
			continue
		}
		rest, _, _ = strings.Cut(rest, " #")
		rest, _, _ = strings.Cut(rest, "<<<")
		args := shellWords(rest)
		n++
		cmd, _, err := newRootCmd().Find(args)
		if err != nil || (cmd.HasAvailableSubCommands() && cmd.Annotations["runnable"] == "") {
			t.Errorf("README: %s\nnames no command (%v)", line, err)
			continue
		}
		out, errOut, code := runSplit(t, append(args, "--help")...)
		if code != 0 || errOut != "" || !strings.Contains(out, "Usage:\n  "+cmd.CommandPath()) {
			t.Errorf("README: %s\nexit %d with --help, stderr %q", line, code, errOut)
		}
	}
	if n < 10 {
		t.Fatalf("only %d samsa command lines found in README.md", n)
	}
}

// shellWords splits s at spaces, keeping single-quoted strings whole.
func shellWords(s string) []string {
	var words []string
	var w strings.Builder
	in, quoted := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted, in = !quoted, true
		case r == ' ' && !quoted:
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, w.String())
	}
	return words
}

// A mistyped command is answered with the nearest ones.
func TestSuggestions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tpoic", "list"}, `unknown command "tpoic"; did you mean topic?`},
		{[]string{"topic", "creat", "x"}, `did you mean create?`},
		{[]string{"topic", "lsit"}, `did you mean list?`},
		{[]string{"group", "descirbe", "g"}, `did you mean describe?`},
		{[]string{"prodcue", "t"}, `did you mean produce?`},
		{[]string{"help", "topc"}, `did you mean topic?`},
		{[]string{"cluster", "log-dir"}, `did you mean log-dirs?`},
	} {
		out, code := run(t, tc.args...)
		if code != 2 || !strings.Contains(out, tc.want) {
			t.Errorf("samsa %s: exit %d, output %q; want exit 2 and %q", strings.Join(tc.args, " "), code, out, tc.want)
		}
	}
}

// Run without a command, samsa is a usage error naming the commands.
func TestNoCommand(t *testing.T) {
	if out, code := run(t); code != 2 || !strings.Contains(out, "missing command") {
		t.Errorf("samsa: exit %d, output %q", code, out)
	}
}
