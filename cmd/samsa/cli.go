package main

// The conventions every samsa command follows, in one place:
//
//   - Flags are GNU-style (github.com/spf13/pflag, through cobra): --name
//     VALUE, --name=VALUE, -x VALUE, -xVALUE, short flags grouped (-ev),
//     flags before, between or after the positional arguments, and "--"
//     ends the flags.
//   - --help and -h print the command's help to stdout and exit 0, for
//     every command and group of commands; so does "samsa help COMMAND...".
//   - A usage error (an unknown flag, a bad value, a missing argument, an
//     unknown subcommand) prints one line "samsa <command>: <message>" and
//     the hint "Run 'samsa <command> --help' for usage." to stderr and exits
//     2. A mistyped subcommand comes with the nearest names: "did you mean".
//   - A runtime failure (the broker said no, a record was not delivered, the
//     broker could not be reached within --timeout) prints
//     "samsa <command>: <message>" to stderr and exits 1.
//   - A client command stopped by SIGINT or SIGTERM stops what it is doing,
//     prints what it has to print (produce its summary, consume the records
//     it has) and exits 128+signal: 130 or 143. A second signal at least a
//     second later exits at once.
//
// One meaning per flag name, following rpk and kcat:
//
//	-p, --partitions N   a partition count, where a topic is created or grown
//	                     (topic create, topic add-partitions, bench produce), as
//	                     rpk topic create -p and kafka-topics.sh --partitions
//	-p, --partition P    partition numbers, where records are written, read or
//	                     deleted (produce, consume, topic delete-records, topic
//	                     offsets, group seek), as kcat -p and rpk topic produce -p
//	-b, --brokers        seed brokers (kcat -b)
//	-o, --from           where reading starts (kcat -o, rpk -o)
//
// Topics are positional arguments everywhere.

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError marks an error as the user's mistake in calling a command:
// exit status 2, with a hint to read --help.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// interruptedError is returned by a command stopped by a signal: exit
// status 128+signal, without a message (the command has printed what it
// had to say).
type interruptedError struct{ sig syscall.Signal }

func (e interruptedError) Error() string { return "interrupted by " + signalName(e.sig) }

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// exitCode is an exit status a command chose, having printed or logged
// why itself.
type exitCode int

func (e exitCode) Error() string { return "exit status " + strconv.Itoa(int(e)) }

// exitStatus prints err for the command that failed and returns the exit
// status.
func exitStatus(stderr io.Writer, cmd *cobra.Command, err error) int {
	if err == nil {
		return exitOK
	}
	name := "samsa"
	if cmd != nil {
		name = cmd.CommandPath()
	}
	var ie interruptedError
	if errors.As(err, &ie) {
		return 128 + int(ie.sig)
	}
	var be exitCode
	if errors.As(err, &be) {
		return int(be)
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	if errors.As(err, new(usageError)) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", name)
		return exitUsage
	}
	return exitFailure
}

// flagError turns pflag's parse errors into usage errors, without the
// strconv detail of a bad number ("invalid argument "x" for "-p,
// --partitions" flag: strconv.ParseInt: parsing "x": invalid syntax").
func flagError(_ *cobra.Command, err error) error {
	msg := err.Error()
	if i := strings.Index(msg, ": strconv.Parse"); i > 0 {
		msg = msg[:i]
	}
	return usageError{msg}
}

// groupCommand returns a command that only holds subcommands. Run without
// one, or with an unknown one, it is a usage error naming the choices or
// the nearest names.
func groupCommand(use, short, long string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  subcommandArgs,
		RunE:  func(*cobra.Command, []string) error { return nil }, // subcommandArgs refused the call
	}
}

// subcommandArgs is the Args check of a group command: any argument left
// for the group itself is a subcommand cobra did not find.
func subcommandArgs(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return usageErrorf("missing command: one of %s", strings.Join(subcommandNames(c), ", "))
	}
	return unknownCommand(c, args[0])
}

func unknownCommand(c *cobra.Command, name string) error {
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	msg := fmt.Sprintf("unknown command %q", name)
	if s := c.SuggestionsFor(name); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %s?", strings.Join(s, " or "))
	} else {
		msg += fmt.Sprintf(": want one of %s", strings.Join(subcommandNames(c), ", "))
	}
	return usageError{msg}
}

func subcommandNames(c *cobra.Command) []string {
	var names []string
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() {
			names = append(names, s.Name())
		}
	}
	return names
}

// exactArgs, minArgs and noArgs check positional arguments, with usage
// errors that name what is wanted.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("want %s, got %d arguments", what, len(args))
		}
		return nil
	}
}

func minArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < n {
			return usageErrorf("no %s named", what)
		}
		return nil
	}
}

func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unexpected argument %q", args[0])
	}
	return nil
}

// flagAliases makes each old or alternative long flag name in aliases mean
// its canonical flag, without a second entry in the help.
func flagAliases(c *cobra.Command, aliases map[string]string) {
	c.Flags().SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if to, ok := aliases[name]; ok {
			name = to
		}
		return pflag.NormalizedName(name)
	})
}

// connAnnotation marks the connection flags, shown under their own heading.
const connAnnotation = "samsa-connection"

// usage renders a command's usage: how to call it, its subcommands, its
// flags, then the connection flags.
func usage(c *cobra.Command) error {
	var b strings.Builder
	b.WriteString("Usage:\n")
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "  %s <command> [flags]\n", c.CommandPath())
		if c.Annotations["runnable"] != "" {
			fmt.Fprintf(&b, "  %s [flags]\n", c.CommandPath())
		}
	} else {
		fmt.Fprintf(&b, "  %s\n", c.UseLine())
	}
	if len(c.Aliases) > 0 {
		fmt.Fprintf(&b, "\nAliases:\n  %s\n", strings.Join(append([]string{c.Name()}, c.Aliases...), ", "))
	}
	if c.HasExample() {
		fmt.Fprintf(&b, "\nExamples:\n%s\n", strings.TrimRight(c.Example, "\n"))
	}
	if c.HasAvailableSubCommands() {
		b.WriteString("\nCommands:\n")
		width := 0
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() {
				width = max(width, len(s.Name()))
			}
		}
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() {
				fmt.Fprintf(&b, "  %-*s  %s\n", width, s.Name(), s.Short)
			}
		}
	}
	own, conn := pflag.NewFlagSet("own", pflag.ContinueOnError), pflag.NewFlagSet("conn", pflag.ContinueOnError)
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		if _, ok := f.Annotations[connAnnotation]; ok {
			conn.AddFlag(f)
		} else {
			own.AddFlag(f)
		}
	})
	c.InheritedFlags().VisitAll(func(f *pflag.Flag) {
		if _, ok := f.Annotations[connAnnotation]; ok && !f.Hidden && conn.Lookup(f.Name) == nil {
			conn.AddFlag(f)
		}
	})
	if own.HasAvailableFlags() {
		fmt.Fprintf(&b, "\nFlags:\n%s", own.FlagUsages())
	}
	if conn.HasAvailableFlags() {
		fmt.Fprintf(&b, "\nConnection flags:\n%s", conn.FlagUsages())
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "\nRun '%s <command> --help' for the flags of a command.\n", c.CommandPath())
	}
	_, err := io.WriteString(c.OutOrStdout(), b.String())
	return err
}

// helpCommand is "samsa help [command...]": the help of the command named,
// with a usage error and suggestions for a name that is not one.
func helpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]...",
		Short: "Help about any command",
		Long:  "Prints the help of the command named, the same as 'samsa COMMAND... --help'.",
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			cmd, _, err := c.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []cobra.Completion
			for _, s := range cmd.Commands() {
				if s.IsAvailableCommand() && strings.HasPrefix(s.Name(), toComplete) {
					out = append(out, cobra.CompletionWithDesc(s.Name(), s.Short))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd := c.Root()
			for _, a := range args {
				next := findSub(cmd, a)
				if next == nil {
					return unknownCommand(cmd, a)
				}
				cmd = next
			}
			// As if cmd were run: its -h and --version flags exist only then.
			cmd.InitDefaultHelpFlag()
			cmd.InitDefaultVersionFlag()
			return cmd.Help()
		},
	}
}

func findSub(c *cobra.Command, name string) *cobra.Command {
	for _, s := range c.Commands() {
		if s.Name() == name || slices.Contains(s.Aliases, name) {
			return s
		}
	}
	return nil
}

// completionCommand generates shell completion scripts. It replaces cobra's
// default one so that its errors follow the conventions above.
func completionCommand() *cobra.Command {
	shells := []string{"bash", "zsh", "fish", "powershell"}
	var noDesc bool
	c := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Prints the script that makes the shell complete samsa's commands, flags,
topic and group names.

  bash:  source <(samsa completion bash)          (needs bash-completion)
  zsh:   samsa completion zsh > "${fpath[1]}/_samsa"
  fish:  samsa completion fish > ~/.config/fish/completions/samsa.fish`,
		ValidArgs: shells,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("want one shell: %s", strings.Join(shells, ", "))
			}
			if !slices.Contains(shells, args[0]) {
				return usageErrorf("unknown shell %q: want one of %s", args[0], strings.Join(shells, ", "))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			root, out := c.Root(), c.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, !noDesc)
			case "zsh":
				if noDesc {
					return root.GenZshCompletionNoDesc(out)
				}
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, !noDesc)
			default:
				return root.GenPowerShellCompletionWithDesc(out)
			}
		},
	}
	c.Flags().BoolVar(&noDesc, "no-descriptions", false, "complete without descriptions")
	return c
}

// legacyLongFlags rewrites the single-dash long flags that broker and
// dump-log took when they parsed with Go's flag package (-config FILE,
// -override k=v, -verify) into their double-dash form, so that scripts
// written for them keep working.
func legacyLongFlags(args []string) []string {
	if len(args) == 0 {
		return args
	}
	var names []string
	switch args[0] {
	case "broker":
		names = []string{"config", "override", "log-level"}
	case "dump-log":
		names = []string{"verify", "print-data"}
	default:
		return args
	}
	out := slices.Clone(args)
	for i, a := range out[1:] {
		if a == "--" {
			break
		}
		for _, n := range names {
			if a == "-"+n || strings.HasPrefix(a, "-"+n+"=") {
				out[i+1] = "-" + a
			}
		}
	}
	return out
}
