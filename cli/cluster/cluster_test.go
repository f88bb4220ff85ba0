package cluster

import (
	"testing"

	"github.com/spf13/cobra"

	"samsa/cli/command"
	"samsa/internal/clitest"
)

// newCLI runs samsa cluster against brokers.
func newCLI(brokers string) clitest.CLI {
	return clitest.CLI{Brokers: brokers, New: func() *cobra.Command { return NewCommand(command.NewClientFlags()) }}
}

// Usage errors exit 2 before any connection is made, with one line naming
// the problem and a hint to read --help.
func TestUsageErrors(t *testing.T) {
	c := newCLI("127.0.0.1:1")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"cluster", "config", "alter", "--broker", "1", "--cluster-default", "--set", "a=b"}, "do not go together"},
		{[]string{"cluster", "frob"}, `unknown command "frob"`},
	} {
		clitest.CheckUsageError(t, c, tc.args, tc.want)
	}
}
