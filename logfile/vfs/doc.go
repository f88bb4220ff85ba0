// Package vfs is the narrow file-system interface of the storage engine
// (in the manner of pebble's vfs): FS and File, what the storage packages
// need of files and directories and nothing more. OS is the real file
// system. Every file of package logfile goes through the FS its Dir or
// Log was given, so that tests can break any of its operations.
// WriteFileAtomic (temporary file, fsync, rename, directory fsync) is how
// small files are replaced: logfile's checkpoints, producerstate's
// snapshots, metadata's local store, replica's partition.metadata and
// server's meta.properties (the last four over OS).
//
// Two wrappers are for tests:
//
//   - Faulty injects faults into another FS: a byte budget after which
//     writes are short and fail (ENOSPC by default), and failures of
//     chosen kinds of operation (Op) on chosen paths, the first n or
//     every one, until Heal.
//   - Crashable simulates a power cut under one root directory and writes
//     what survives it into another, where a restarted broker opens it
//     with OS.
//
// # Invariants
//
//  1. An operation Faulty fails does nothing: a failed rename leaves both
//     names as they were, a failed remove leaves the file, a failed sync
//     makes nothing more durable. A write cut short by the budget writes
//     exactly the bytes the budget had left.
//  2. Crashable's model is strict POSIX: a file's contents are durable as
//     of its last File.Sync, a directory's entries as of its last SyncDir,
//     and a file whose entry was never made durable is gone after the
//     crash however often the file was synced. Crash with a random source
//     keeps, per directory and per file, either the durable state or a
//     state a real disk may be found in (all current entries; the durable
//     contents extended by a random part of what was written after them).
//  3. After Crash every operation through the Crashable, and through the
//     files it opened, fails with ErrCrashed (an EIO).
//  4. Writes through a memory mapping bypass the FS: neither wrapper sees
//     them, and Crashable keeps of a mapped file only what it held at its
//     last File.Sync (less than a real crash may keep; indexes are rebuilt
//     from the log).
//  5. OS's File.Allocate reserves blocks with fallocate(2), so that stores
//     into a mapping of the file cannot hit a hole; where the file system
//     cannot, it extends the file instead.
//
// # Locks
//
// OS has none. Faulty.mu guards the budget and the rules; a rule's match
// function runs under it and must not call back into the Faulty.
// Crashable.mu guards the tree of nodes and whether it crashed, and is
// held across the underlying operation, so the model changes in the order
// the file system did. Both are leaves: nothing of this package is taken
// under them.
package vfs
