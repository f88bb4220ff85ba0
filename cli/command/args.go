package command

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Group returns a command that only holds subcommands. Run without one,
// or with an unknown one, it is a usage error naming the choices or the
// nearest names.
func Group(use, short, long string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  SubcommandArgs,
		RunE:  func(*cobra.Command, []string) error { return nil }, // SubcommandArgs refused the call
	}
}

// SubcommandArgs is the Args check of a group command: any argument left
// for the group itself is a subcommand cobra did not find.
func SubcommandArgs(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return UsageErrorf("missing command: one of %s", strings.Join(subcommandNames(c), ", "))
	}
	return UnknownCommand(c, args[0])
}

// UnknownCommand is the usage error for name, not a subcommand of c: it
// suggests the nearest names, or lists the choices.
func UnknownCommand(c *cobra.Command, name string) error {
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	msg := fmt.Sprintf("unknown command %q", name)
	if s := c.SuggestionsFor(name); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %s?", strings.Join(s, " or "))
	} else {
		msg += fmt.Sprintf(": want one of %s", strings.Join(subcommandNames(c), ", "))
	}
	return UsageError{msg}
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

// ExactArgs, MinArgs and NoArgs check positional arguments, with usage
// errors that name what is wanted.
func ExactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return UsageErrorf("want %s, got %d arguments", what, len(args))
		}
		return nil
	}
}

// MinArgs: see ExactArgs.
func MinArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < n {
			return UsageErrorf("no %s named", what)
		}
		return nil
	}
}

// NoArgs: see ExactArgs.
func NoArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return UsageErrorf("unexpected argument %q", args[0])
	}
	return nil
}

// FlagAliases makes each old or alternative long flag name in aliases mean
// its canonical flag, without a second entry in the help.
func FlagAliases(c *cobra.Command, aliases map[string]string) {
	c.Flags().SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if to, ok := aliases[name]; ok {
			name = to
		}
		return pflag.NormalizedName(name)
	})
}

// AnnotationLegacyFlags annotates a command of the root with the long
// flags, comma-separated, that it took with one dash when it parsed with
// Go's flag package (broker: -config FILE).
const AnnotationLegacyFlags = "samsa-legacy-long-flags"

// AnnotationConnection marks the connection flags, which usage shows under
// their own heading.
const AnnotationConnection = "samsa-connection"
