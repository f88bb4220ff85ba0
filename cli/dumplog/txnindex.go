package dumplog

// .txnindex files: the aborted transactions of a segment, read by
// txnindex.Decode.

import (
	"fmt"
	"os"

	"samsa/txnindex"
)

// txnIndex prints a transaction index, one line per aborted transaction
// as Kafka's tool prints it. An index that does not decode is a problem,
// its entries before the fault still printed; with --verify, so is an
// entry whose marker lies before the segment's base offset (Kafka's
// sanity check).
func (d *dumper) txnIndex(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	base, err := baseOf(path)
	if err != nil {
		return err
	}
	entries, derr := txnindex.Decode(b)
	for _, a := range entries {
		fmt.Fprintf(d.out, "version: 0 producerId: %d firstOffset: %d lastOffset: %d lastStableOffset: %d\n",
			a.ProducerID, a.FirstOffset, a.LastOffset, a.LastStableOffset)
		if d.verify && a.LastOffset < base {
			d.problem("aborted transaction of producer %d ends at %d, before the segment's base offset %d", a.ProducerID, a.LastOffset, base)
		}
	}
	if derr != nil {
		d.problem("%v", derr)
	}
	return nil
}
