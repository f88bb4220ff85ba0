package logfile

import "samsa/logfile/epochcache"

// The leader epoch cache is package epochcache's; a Log keeps one in step
// with its truncations and start (invariant 9) and answers for it.

// LeaderEpochCheckpoint is the epoch cache's file in a partition
// directory; see package epochcache. Part of the format: never change.
const LeaderEpochCheckpoint = epochcache.FileName

// EpochEntry is one leader epoch and the first offset written in it
// (an epochcache.Entry).
type EpochEntry struct {
	Epoch       int32
	StartOffset int64
}

// AssignEpoch records that epoch begins at startOffset and writes the
// checkpoint (epochcache.Cache.Assign).
func (l *Log) AssignEpoch(epoch int32, startOffset int64) error {
	return l.epochs.Assign(epoch, startOffset)
}

// AssignEpochDeferred is AssignEpoch without the write: the entry counts at
// once and is written before the first batch appended after it (invariant
// 9), so taking a thousand leaderships writes no file until each partition
// has a batch. A crash before the write loses the entry but no batch of
// its epoch; the next leadership assigns anew.
func (l *Log) AssignEpochDeferred(epoch int32, startOffset int64) {
	l.epochs.AssignDeferred(epoch, startOffset)
}

// Epochs returns a copy of the leader epoch cache.
func (l *Log) Epochs() []EpochEntry {
	es := l.epochs.Entries()
	out := make([]EpochEntry, len(es))
	for i, e := range es {
		out[i] = EpochEntry(e)
	}
	return out
}

// LatestEpoch is the newest epoch in the cache, -1 if none.
func (l *Log) LatestEpoch() int32 { return l.epochs.Latest() }

// EpochEndOffset answers OffsetForLeaderEpoch (Kafka's endOffsetFor): the
// largest epoch at or below requested and the offset its leadership ended
// at, the log end for the latest epoch (epochcache.Cache.EndOffset).
func (l *Log) EpochEndOffset(requested int32) (epoch int32, endOffset int64) {
	return l.epochs.EndOffset(requested, l.end.Load())
}
