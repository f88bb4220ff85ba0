package root

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/cobra"

	"samsa/cli/command"
)

// newRoot is a root with one command, "run", that returns err, and one,
// "old", that took single-dash long flags.
func newRoot(err error) (*cobra.Command, *bytes.Buffer, *bytes.Buffer) {
	c := &cobra.Command{Use: "samsa", Args: command.SubcommandArgs, RunE: func(*cobra.Command, []string) error { return nil }}
	run := &cobra.Command{Use: "run", Args: command.NoArgs, RunE: func(*cobra.Command, []string) error { return err }}
	run.Flags().Int("count", 0, "a count")
	old := &cobra.Command{
		Use:         "old",
		Annotations: map[string]string{command.AnnotationLegacyFlags: "verbose,name"},
		RunE:        func(*cobra.Command, []string) error { return nil },
	}
	old.Flags().Bool("verbose", false, "")
	old.Flags().String("name", "", "")
	c.AddCommand(run, old)
	Setup(c)
	var out, errOut bytes.Buffer
	c.SetOut(&out)
	c.SetErr(&errOut)
	return c, &out, &errOut
}

// Execute prints a failure once, as "samsa <command>: <message>", and
// maps it to the exit status of the conventions.
func TestExecuteExitStatus(t *testing.T) {
	for _, tc := range []struct {
		err    error
		args   []string
		code   int
		stderr string
	}{
		{nil, []string{"run"}, 0, ""},
		{errors.New("the broker said no"), []string{"run"}, 1, "samsa run: the broker said no\n"},
		{command.UsageErrorf("bad --x"), []string{"run"}, 2, "samsa run: bad --x\nRun 'samsa run --help' for usage.\n"},
		{command.ExitCode(3), []string{"run"}, 3, ""},
		{command.InterruptedError{Signal: syscall.SIGTERM}, []string{"run"}, 143, ""},
		{nil, []string{"run", "extra"}, 2, "samsa run: unexpected argument \"extra\"\nRun 'samsa run --help' for usage.\n"},
		{nil, []string{"run", "--count", "x"}, 2, "samsa run: invalid argument \"x\" for \"--count\" flag\nRun 'samsa run --help' for usage.\n"},
		{nil, []string{"rnu"}, 2, "samsa: unknown command \"rnu\"; did you mean run?\nRun 'samsa --help' for usage.\n"},
	} {
		c, _, errOut := newRoot(tc.err)
		if code := Execute(c, tc.args); code != tc.code || errOut.String() != tc.stderr {
			t.Errorf("%q returning %v: exit %d, stderr %q; want %d, %q", tc.args, tc.err, code, errOut.String(), tc.code, tc.stderr)
		}
	}
}

// The single-dash long flags a command's annotation names are rewritten
// for it alone, up to "--".
func TestLegacyLongFlags(t *testing.T) {
	c, _, _ := newRoot(nil)
	for _, tc := range []struct{ in, want []string }{
		{[]string{"old", "-verbose", "-name=x", "-name", "y"}, []string{"old", "--verbose", "--name=x", "--name", "y"}},
		{[]string{"old", "--", "-verbose"}, []string{"old", "--", "-verbose"}},
		{[]string{"run", "-verbose"}, []string{"run", "-verbose"}},
		{nil, nil},
	} {
		if got := LegacyLongFlags(c, tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("LegacyLongFlags(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if code := Execute(c, []string{"old", "-verbose", "-name", "n"}); code != 0 {
		t.Errorf("old -verbose -name n: exit %d", code)
	}
}

// help prints the usage of the command named to stdout; a name that is
// not a command is a usage error.
func TestHelp(t *testing.T) {
	c, out, _ := newRoot(nil)
	if code := Execute(c, []string{"help", "run"}); code != 0 || !strings.HasPrefix(out.String(), "Usage:\n  samsa run\n") || !strings.Contains(out.String(), "--count") {
		t.Errorf("help run: exit %d, stdout %q", code, out.String())
	}
	c, _, errOut := newRoot(nil)
	if code := Execute(c, []string{"help", "nothing"}); code != 2 || !strings.Contains(errOut.String(), `unknown command "nothing"`) {
		t.Errorf("help nothing: exit %d, stderr %q", code, errOut.String())
	}
}
