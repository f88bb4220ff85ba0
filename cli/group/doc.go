// Package group is samsa group: list, describe, delete consumer groups and
// reset their committed offsets (ListGroups, DescribeGroups, OffsetFetch,
// ListOffsets, DeleteGroups, OffsetCommit), like kafka-consumer-groups.sh
// and rpk group. One file per subcommand. Consuming as a member of a group
// is samsa consume --group (package consume).
//
// Invariants (the user-visible conventions it keeps, beside package
// command's):
//  1. Groups are positional arguments; -p/--partition names partitions
//     (seek, with a single topic in --topics).
//  2. delete prints a GROUP STATUS table, one row per group named, OK or
//     the broker's error (NON_EMPTY_GROUP while members remain), and exits
//     1 if any group was not deleted.
//  3. list and describe print aligned tables to stdout. describe prints
//     per group its summary (coordinator, state, protocol, members, total
//     lag), its members and its committed offsets with log start, log end
//     and lag; a group that does not exist, or whose description or
//     offsets could not be read, is said so in its place, and the command
//     exits 1.
//  4. seek refuses a group that has members, and one with no committed
//     offsets unless --topics names the topics; it commits all the new
//     offsets, or fails, before it prints the PREVIOUS-OFFSET NEW-OFFSET
//     table. --dry-run prints the table and commits nothing.
//
// Locks: none; each subcommand runs on its command's goroutine.
package group
