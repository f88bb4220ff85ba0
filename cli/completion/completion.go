package completion

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"samsa/cli/command"
)

// NewCommand returns samsa completion.
func NewCommand() *cobra.Command {
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
				return command.UsageErrorf("want one shell: %s", strings.Join(shells, ", "))
			}
			if !slices.Contains(shells, args[0]) {
				return command.UsageErrorf("unknown shell %q: want one of %s", args[0], strings.Join(shells, ", "))
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
