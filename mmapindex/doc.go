// Package mmapindex implements Kafka's sparse segment indexes as memory-mapped
// files (Kafka's OffsetIndex and TimeIndex): the offset index (.index) and
// the time index (.timeindex). OffsetEntries and TimeEntries (read.go)
// decode the entries of an index file's bytes for tools that do not open
// it, such as samsa dump-log.
//
// # Format (part of the format: never change)
//
// Both files are arrays of fixed-size big-endian entries with no header.
// Offsets are stored relative to the segment's base offset.
//
//	offset index entry (8 bytes)        time index entry (12 bytes)
//	+--------------+---------------+    +-------------------+--------------+
//	| int32 relOff | int32 position|    | int64 timestamp   | int32 relOff |
//	+--------------+---------------+    +-------------------+--------------+
//	 0             4               8     0                   8             12
//
// An offset index entry maps the last offset of a batch to the byte position
// in the .log where that batch starts. A time index entry records the largest
// timestamp seen so far in the segment and the offset of the batch holding it.
//
// # Invariants
//
//  1. Entries are strictly increasing: offset entries in both relOff and
//     position, time entries in both timestamp and relOff.
//  2. No valid entry is all zeros: the first batch of a segment never gets an
//     entry, so relOff >= 1 and position >= 1. All-zero entries mark the unused
//     tail of a file whose disk was reserved ahead of its entries.
//  3. A store into the mapping never faults. A writable index is mapped to
//     its maximum size, past the end of its file, but stores only into its
//     reserved prefix: bytes inside the file whose blocks fallocate reserved
//     (or entries were written to) before the first store. The prefix grows
//     ahead of the entries a step at a time, one page at first, doubling up
//     to 64 KiB, always to a whole number of entries (a file left
//     untrimmed by a crash still opens); a reopened index starts it at its
//     entries; an entry past it reserves the next step first. So a full
//     disk is an error of the append (or open) that needed the step,
//     returned before any store, never SIGBUS; and an index costs the disk
//     of its entries plus at most one step, not its maximum size. (Writing
//     entries with pwrite would be as safe but cost a system call per
//     entry; a step costs one per 64 KiB of entries. A file preallocated
//     whole by an older version opens as it is: its first step lies within
//     blocks it has, and its next trim gives the rest back.)
//  4. Readers read only entries below the published count (an atomic), and the
//     file is never shrunk below the largest count ever published for the
//     mapping, so a reader never touches a page past end of file.
//  5. A mapping is unmapped only by Close; the caller guarantees no lookup is
//     running then (logfile reference-counts segments for this).
//  6. Lookups do not allocate and take no lock. Each index keeps the key of
//     every 512th (time index: 256th) entry in Go memory, a fence that
//     narrows a lookup to one page of the mapping (see search.go).
//  7. Nothing reads, writes or zeroes the mapping past the pages that hold
//     entries, so an index costs memory for its entries, not for its
//     maximum size: open reads the valid prefix and the rest of its last
//     page, truncation zeroes only entries once published, and a reserved
//     tail (or a tail preallocated by an older version) is zero because
//     fallocate made it so, not because anything cleared it. Trim, at roll
//     and close, cuts the file back to its entries.
//  8. A time index never gets a NoTimestamp (-1) entry (Kafka's maybeAppend
//     rule: an entry only for a timestamp above the last, and the last of
//     an empty index is NoTimestamp), so a segment without timestamps, such
//     as an empty one at close, keeps an empty time index.
//
// On open, an existing file must be a whole number of entries whose valid
// prefix (the entries before the first all-zero one) obeys invariant 1, with
// only zero bytes in the rest of the page after it; anything else is
// ErrCorrupt and the caller replaces the file and rebuilds the index from
// the log. Bytes further on are not read (invariant 7): every file this
// package writes is zero there; bytes damaged there from outside reach no
// lookup, which reads only the valid prefix, until appends grow the prefix
// into them, and then the checks of the next open.
//
// # Locks
//
// None. One goroutine appends to, truncates and trims an index (package
// logfile's writer, under its Log.mu); any number look up concurrently,
// synchronised with the writer by the published entry count and the
// fence's slice, both atomics (invariants 4 and 6).
package mmapindex
