// Package epochcache is a partition's leader epoch cache and its
// checkpoint file (Kafka's LeaderEpochFileCache): for each leader epoch,
// the first offset written in it. A leader answers OffsetForLeaderEpoch
// and fetches' diverging epochs from it; a follower assigns the epochs of
// the batches it fetches. Package logfile holds one per log and keeps it
// in step with the log's truncations and start.
//
// # Format (part of the format: never change)
//
// The file leader-epoch-checkpoint in a partition directory, text, as
// Kafka writes it, through a .tmp file that is fsynced and renamed:
//
//	0                 version
//	2                 number of entries
//	0 0               epoch startOffset
//	3 1200
//
// # Invariants
//
//  1. Entries ascend in both epoch and start offset: an entry is added
//     only above the last one; one that is not removes the entries it
//     contradicts (Kafka's assign).
//  2. The file covers every batch the log holds on disk: an entry
//     assigned without a write (AssignDeferred) is written (WriteDeferred)
//     before the first batch appended after it. A crash before that loses
//     the entry and no batch of its epoch.
//  3. A file that does not parse is ignored with a warning, never an
//     error: losing the cache makes divergence checks coarser, never
//     wrong (a follower then truncates to its high watermark), and the
//     next leadership assigns anew.
//
// # Locks
//
// Cache.mu guards the entries and the file; a leaf, taken alone or under
// the log's locks. Dirty reads an atomic without it.
package epochcache
