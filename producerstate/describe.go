package producerstate

import (
	"cmp"
	"slices"
)

// ProducerInfo is what a partition knows of one producer, as
// DescribeProducers (KIP-664) reports it.
type ProducerInfo struct {
	ProducerID            int64
	Epoch                 int16
	LastSequence          int32 // -1: none in this epoch
	LastTimestamp         int64 // of its last append, ms
	CoordinatorEpoch      int32 // of its last marker, -1: none
	CurrentTxnStartOffset int64 // -1: no open transaction
}

// Active returns the producers of the partition, by producer id, as a
// snapshot would write them. Its owner's Mu must be held.
func (ps *State) Active() []ProducerInfo {
	entries, _ := ReadSnapshot(EncodeSnapshot(ps)) // its own bytes: they frame and match
	out := make([]ProducerInfo, 0, len(entries))
	for _, e := range entries {
		out = append(out, ProducerInfo{ProducerID: e.ProducerID, Epoch: e.Epoch, LastSequence: e.LastSequence, LastTimestamp: e.Timestamp,
			CoordinatorEpoch: e.CoordinatorEpoch, CurrentTxnStartOffset: e.CurrentTxnFirstOffset})
	}
	slices.SortFunc(out, func(a, b ProducerInfo) int { return cmp.Compare(a.ProducerID, b.ProducerID) })
	return out
}
