package main

// samsa version: what was built, from the build information the Go
// toolchain stamps into the binary (runtime/debug.ReadBuildInfo): the
// module and its version, and, when the build ran in a git checkout with
// VCS stamping on (-buildvcs, the default outside GOFLAGS=-buildvcs=false),
// the commit, its time and whether the tree had uncommitted changes.

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version of this binary",
		Long: `Prints the module path and version, the VCS commit the binary was built
from (with "modified" if the tree had uncommitted changes) and the Go
toolchain. The same as samsa --version.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(c.OutOrStdout(), versionText())
			return err
		},
	}
}

func versionText() string {
	var b strings.Builder
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintf(&b, "samsa (no build information)\ngo %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return b.String()
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	fmt.Fprintf(&b, "samsa %s\n", bi.Main.Version)
	fmt.Fprintf(&b, "module %s\n", bi.Main.Path)
	if rev := settings["vcs.revision"]; rev != "" {
		if settings["vcs.modified"] == "true" {
			rev += " (modified)"
		}
		fmt.Fprintf(&b, "commit %s\n", rev)
		if t := settings["vcs.time"]; t != "" {
			fmt.Fprintf(&b, "commit time %s\n", t)
		}
	} else {
		b.WriteString("commit unknown (built without VCS stamping: -buildvcs=false or outside a checkout)\n")
	}
	fmt.Fprintf(&b, "go %s %s/%s\n", bi.GoVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
}
