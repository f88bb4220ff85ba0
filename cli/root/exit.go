package root

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"samsa/cli/command"
)

// exitStatus prints err for the command that failed and returns the exit
// status.
func exitStatus(stderr io.Writer, cmd *cobra.Command, err error) int {
	if err == nil {
		return command.ExitOK
	}
	name := "samsa"
	if cmd != nil {
		name = cmd.CommandPath()
	}
	var ie command.InterruptedError
	if errors.As(err, &ie) {
		return 128 + int(ie.Signal)
	}
	var be command.ExitCode
	if errors.As(err, &be) {
		return int(be)
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	if errors.As(err, new(command.UsageError)) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", name)
		return command.ExitUsage
	}
	return command.ExitFailure
}

// flagError turns pflag's parse errors into usage errors, without the
// strconv detail of a bad number ("invalid argument "x" for "-p,
// --partitions" flag: strconv.ParseInt: parsing "x": invalid syntax").
func flagError(_ *cobra.Command, err error) error {
	msg := err.Error()
	if i := strings.Index(msg, ": strconv.Parse"); i > 0 {
		msg = msg[:i]
	}
	return command.UsageErrorf("%s", msg)
}
