// Package checkpoint is the text format of Kafka's offset checkpoint files
// (Kafka's OffsetCheckpointFile): one offset per partition, in the files a
// log directory keeps beside its partitions (recovery-point-offset-checkpoint,
// log-start-offset-checkpoint, replication-offset-checkpoint,
// cleaner-offset-checkpoint; package logfile names them, and package
// logfile/compact keeps the last). The leader-epoch-checkpoint of a
// partition directory has the same framing with other entries and other
// rules for a file that does not parse; package logfile/epochcache owns it.
//
// # Format (part of the format: never change)
//
// Text, as Kafka writes it:
//
//	0                  version
//	3                  number of entries
//	a 2 0              topic partition offset
//	t 0 5
//	t 10 1099511627776
//
// # Invariants
//
//  1. A file is written whole or not at all: to a .tmp file that is
//     fsynced and renamed over the old one (vfs.WriteFileAtomic). Entries
//     are sorted by topic, then partition, so equal maps give equal bytes.
//  2. A file that does not parse is an error, ErrMalformed for a wrong
//     version, a count that the entries do not match, an entry without
//     exactly three fields, a negative partition, or data after the last
//     entry. A missing file is an empty map.
//
// # Locks
//
// None: callers serialize the writes of one file.
package checkpoint
