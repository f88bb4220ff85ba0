// Package version is samsa version: what was built. `make build` stamps
// the version and the git commit with -ldflags -X (into variables of
// cmd/samsa, passed here as a Stamp), because the go command's own VCS
// stamping is off under GOFLAGS=-buildvcs=false and in git worktrees; a
// plain `go build` in a checkout gets them from the build information the
// toolchain stamps (runtime/debug.ReadBuildInfo); anything else says the
// commit is unknown.
//
// Invariants (the user-visible conventions it keeps):
//  1. samsa version (and samsa --version) prints to stdout, one item a
//     line: "samsa VERSION", "module PATH", "commit HASH" (with
//     " (modified)" for a tree with uncommitted changes) and "commit time
//     T", or "commit unknown (...)" when nothing stamped one, then "go
//     VERSION OS/ARCH"; and exits 0. An argument is a usage error.
//  2. What make stamps wins over what the toolchain stamped.
//
// Locks: none.
package version
