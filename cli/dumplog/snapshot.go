package dumplog

// .snapshot files: producer state, read by producerstate.ReadSnapshot.

import (
	"errors"
	"fmt"
	"os"

	"samsa/producerstate"
)

// snapshot prints a producer-state snapshot, one line per producer as
// Kafka's tool prints it. A snapshot whose CRC does not match is a
// problem, and its entries are still printed when they frame.
func (d *dumper) snapshot(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	entries, err := producerstate.ReadSnapshot(b)
	if err != nil {
		d.problem("%v", err)
		if !errors.Is(err, producerstate.ErrSnapshotCRC) {
			return nil
		}
	}
	for _, e := range entries {
		fmt.Fprintf(d.out, "producerId: %d producerEpoch: %d coordinatorEpoch: %d currentTxnFirstOffset: %d lastTimestamp: %d firstSequence: %d lastSequence: %d lastOffset: %d offsetDelta: %d timestamp: %d\n",
			e.ProducerID, e.Epoch, e.CoordinatorEpoch, e.CurrentTxnFirstOffset, e.Timestamp,
			e.LastSequence-e.OffsetDelta, e.LastSequence, e.LastOffset, e.OffsetDelta, e.Timestamp)
	}
	return nil
}
