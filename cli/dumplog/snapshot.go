package dumplog

// .snapshot files: producer state.

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
)

// snapshot prints a producer-state snapshot, Kafka's format version 1:
// version int16, crc uint32 (CRC-32C of the rest), count int32, then count
// entries of producerId int64, epoch int16, lastSequence int32, lastOffset
// int64, offsetDelta int32, timestamp int64, coordinatorEpoch int32,
// currentTxnFirstOffset int64. The lines are Kafka's tool's.
func (d *dumper) snapshot(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	const entrySize = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8
	if len(b) < 10 {
		d.problem("snapshot of %d bytes: shorter than its header", len(b))
		return nil
	}
	if v := binary.BigEndian.Uint16(b); v != 1 {
		d.problem("snapshot version %d, want 1", v)
		return nil
	}
	if crc32.Checksum(b[6:], crc32.MakeTable(crc32.Castagnoli)) != binary.BigEndian.Uint32(b[2:]) {
		d.problem("snapshot crc mismatch")
	}
	n := int(int32(binary.BigEndian.Uint32(b[6:])))
	if n < 0 || len(b)-10 != n*entrySize {
		d.problem("snapshot declares %d entries in %d bytes", n, len(b)-10)
		return nil
	}
	for p := b[10:]; len(p) > 0; p = p[entrySize:] {
		be := binary.BigEndian
		lastSeq, delta := int32(be.Uint32(p[10:])), int32(be.Uint32(p[22:]))
		ts := int64(be.Uint64(p[26:]))
		fmt.Fprintf(d.out, "producerId: %d producerEpoch: %d coordinatorEpoch: %d currentTxnFirstOffset: %d lastTimestamp: %d firstSequence: %d lastSequence: %d lastOffset: %d offsetDelta: %d timestamp: %d\n",
			int64(be.Uint64(p)), int16(be.Uint16(p[8:])), int32(be.Uint32(p[34:])), int64(be.Uint64(p[38:])), ts,
			lastSeq-delta, lastSeq, int64(be.Uint64(p[14:])), delta, ts)
	}
	return nil
}
