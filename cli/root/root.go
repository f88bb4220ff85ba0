package root

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"samsa/cli/command"
)

// Setup gives root, once its commands are added, the conventions of
// package command: Execute, not cobra, prints errors; flag errors are
// usage errors; usage and "samsa help" are samsa's; Use lines show the
// flags that matter, with no "[flags]" appended.
func Setup(root *cobra.Command) {
	root.SilenceErrors = true
	root.SilenceUsage = true
	root.SetFlagErrorFunc(flagError)
	root.SetUsageFunc(usage)
	root.SetHelpCommand(helpCommand())
	walk(root, func(c *cobra.Command) { c.DisableFlagsInUseLine = true })
}

// walk calls fn on c and every command below it.
func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, s := range c.Commands() {
		walk(s, fn)
	}
}

// Execute runs the command line args under root, prints the error of the
// command that failed to root's stderr, and returns the exit status.
func Execute(root *cobra.Command, args []string) int {
	root.SetArgs(LegacyLongFlags(root, args))
	cmd, err := root.ExecuteC()
	return exitStatus(root.ErrOrStderr(), cmd, err)
}

// LegacyLongFlags rewrites the single-dash long flags of the command args
// name (see command.AnnotationLegacyFlags) into their double-dash form, so that
// scripts written for them keep working.
func LegacyLongFlags(root *cobra.Command, args []string) []string {
	if len(args) == 0 {
		return args
	}
	var names []string
	for _, c := range root.Commands() {
		if c.Name() == args[0] && c.Annotations[command.AnnotationLegacyFlags] != "" {
			names = strings.Split(c.Annotations[command.AnnotationLegacyFlags], ",")
		}
	}
	if names == nil {
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
		if _, ok := f.Annotations[command.AnnotationConnection]; ok {
			conn.AddFlag(f)
		} else {
			own.AddFlag(f)
		}
	})
	c.InheritedFlags().VisitAll(func(f *pflag.Flag) {
		if _, ok := f.Annotations[command.AnnotationConnection]; ok && !f.Hidden && conn.Lookup(f.Name) == nil {
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
					return command.UnknownCommand(cmd, a)
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
