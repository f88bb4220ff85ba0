// Package completion is samsa completion: the shell completion scripts.
// It replaces cobra's default command so that its errors follow samsa's
// conventions (package command). The names of topics and groups are
// completed by the commands that take them (command.ClientFlags).
//
// Invariants (the user-visible conventions it keeps):
//  1. It takes exactly one shell, bash, zsh, fish or powershell; anything
//     else is a usage error naming the choices.
//  2. The script goes to stdout and the command exits 0;
//     --no-descriptions leaves out the descriptions (powershell's script
//     has them always).
//  3. Topic and group names are completed by asking the brokers the
//     command line names, for at most 2 s, so a broker that is down does
//     not hang the shell.
//
// Locks: none.
package completion
