package producerstate

// Entries lists the producers of the table as a snapshot would write them
// (DescribeProducers shows them, KIP-664), in producer id order. Its
// owner's Mu must be held.
func (ps *State) Entries() []SnapshotEntry {
	entries, _ := ReadSnapshot(EncodeSnapshot(ps)) // its own bytes: they frame and match
	return entries
}
