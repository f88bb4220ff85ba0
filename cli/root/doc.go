// Package root sets up and runs samsa's root command, which cmd/samsa
// builds from the command packages (tests build others like it): the
// conventions of package command that belong to the root (errors printed
// once, exit statuses, samsa's usage text and help command, the legacy
// single-dash flags), in one place.
//
// Invariants (the user-visible conventions it keeps):
//  1. Execute prints the error of the command that failed once, as
//     "samsa <command path>: <message>" on the root's stderr, and returns
//     the exit status: 0 on success; 2 for a usage error, with the hint
//     "Run 'samsa <command path> --help' for usage."; 128+signal, with no
//     message, for a command stopped by a signal; the status a command
//     chose (command.ExitCode), with no message; 1 for anything else.
//  2. A flag that does not parse is a usage error, worded without
//     strconv's detail.
//  3. Help and usage go to stdout: how to call the command, its aliases,
//     examples, subcommands, its own flags, then the connection flags
//     under a heading of their own; no "[flags]" is appended to Use
//     lines.
//  4. "samsa help COMMAND..." prints that command's help; a name that is
//     no command is a usage error with the nearest names.
//  5. The single-dash long flags a command of the root lists in its
//     command.AnnotationLegacyFlags annotation (broker: -config,
//     -override, -log-level; dump-log: -verify, -print-data) are read as
//     their double-dash forms, up to a "--".
//
// Locks: none; Setup and Execute work on the command tree they are given,
// on the caller's goroutine.
package root
