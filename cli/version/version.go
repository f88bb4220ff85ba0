package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"samsa/cli/command"
)

// Stamp is what make build stamps into the binary; empty otherwise.
type Stamp struct {
	Version    string // git describe, or a Go pseudo-version of the commit
	Commit     string // the full commit hash
	CommitTime string // its committer time, RFC 3339 in UTC
	Modified   string // "true" if the tree had uncommitted changes
}

// NewCommand returns samsa version.
func NewCommand(st Stamp) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version of this binary",
		Long: `Prints the module path and version, the VCS commit the binary was built
from (with "modified" if the tree had uncommitted changes) and the Go
toolchain. The same as samsa --version.`,
		Args: command.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(c.OutOrStdout(), Text(st))
			return err
		},
	}
}

// Text is what samsa version and samsa --version print.
func Text(st Stamp) string {
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
	if st.Commit != "" { // make's stamp wins over the toolchain's
		settings["vcs.revision"], settings["vcs.time"], settings["vcs.modified"] = st.Commit, st.CommitTime, st.Modified
	}
	v := bi.Main.Version
	if st.Version != "" {
		v = st.Version
	}
	fmt.Fprintf(&b, "samsa %s\n", v)
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
		b.WriteString("commit unknown (built without a git checkout to stamp from)\n")
	}
	fmt.Fprintf(&b, "go %s %s/%s\n", bi.GoVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
}
