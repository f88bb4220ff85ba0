// Command samsa is the Samsa broker and its client-side tools in one binary.
//
// The commands are built with github.com/spf13/cobra and its flag package
// github.com/spf13/pflag, as Redpanda's rpk is: GNU-style flags, help on
// every command, suggestions for mistyped commands and shell completion.
// Each group of commands is a package under samsa/cli (one file per
// subcommand); samsa/cli/command holds what they share and states their
// conventions, samsa/cli/root sets up and runs the root. This file holds
// the root alone.
//
// Invariants (the user-visible conventions it keeps; package command
// states the rest):
//  1. The root holds exactly the commands broker, topic, produce, consume,
//     group, cluster, acl, user, bench, dump-log, version and completion, and help
//     (package root's); "samsa" alone, or with a word that is no command,
//     is a usage error naming the choices or the nearest names.
//  2. The exit status is root.Execute's: 0 success, 1 failure, 2 usage
//     error, 130 or 143 on SIGINT or SIGTERM, or what a command chose
//     itself (broker, dump-log, cluster decommission).
//  3. samsa --version (long form only: -v is produce's --verbose) prints
//     what samsa version prints. make build stamps the version and commit
//     into this package's variables with -ldflags -X.
//  4. The client commands share one set of connection flags (--brokers,
//     --client-id, --timeout, and TLS and SASL: --tls..., --sasl-mechanism,
//     --user, --password, --command-config).
//
// Locks: none.
package main
