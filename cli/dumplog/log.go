package dumplog

// .log files: each batch, and with --print-data each record.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"samsa/record"
	"samsa/record/codec"
)

func (d *dumper) log(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	base, err := baseOf(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "Log starting offset: %d\n", base)
	next := base
	for pos := int64(0); pos < fi.Size(); {
		h, b, err := batchAt(f, pos, fi.Size())
		if errors.Is(err, record.ErrTornTail) {
			// Kafka's wording. The live segment of a running broker may
			// end in a batch being written; after a crash, recovery cuts
			// these bytes. Neither is a fault of the file.
			fmt.Fprintf(d.out, "Found %d invalid bytes at the end of %s\n", fi.Size()-pos, filepath.Base(path))
			return nil
		}
		if err != nil {
			d.problem("position %d: %v", pos, err)
			return nil
		}
		valid := record.CheckCRC(b, &h) == nil
		lastSeq := int32(-1)
		if h.BaseSequence >= 0 {
			lastSeq = h.BaseSequence + h.LastOffsetDelta
		}
		fmt.Fprintf(d.out, "baseOffset: %d lastOffset: %d count: %d baseSequence: %d lastSequence: %d producerId: %d producerEpoch: %d partitionLeaderEpoch: %d isTransactional: %t isControl: %t position: %d %s: %d size: %d magic: %d compresscodec: %s crc: %d isvalid: %t\n",
			h.BaseOffset, h.LastOffset(), h.RecordCount, h.BaseSequence, lastSeq, h.ProducerID, h.ProducerEpoch,
			h.LeaderEpoch, h.Attributes&record.AttrTransactional != 0, h.Attributes&record.AttrControl != 0,
			pos, timestampType(&h), h.MaxTimestamp, h.Size(), h.Magic, codecName(&h), h.CRC, valid)
		if d.verify {
			if !valid {
				d.problem("batch at position %d: crc mismatch", pos)
			}
			if h.BaseOffset < next {
				d.problem("batch at position %d: offset %d not after %d", pos, h.BaseOffset, next-1)
			}
		}
		if d.printData {
			d.records(b, &h)
		}
		next = h.NextOffset()
		pos += h.Size()
	}
	return nil
}

func timestampType(h *record.Header) string {
	if h.Attributes&record.AttrLogAppendTime != 0 {
		return "LogAppendTime"
	}
	return "CreateTime"
}

// codecName names the batch's compression as Kafka's tool does: codec's
// name, or "unknown" for a value that is not a codec.
func codecName(h *record.Header) string {
	name := codec.Codec(h.Codec()).String()
	if _, ok := codec.Parse(name); !ok {
		return "unknown"
	}
	return name
}

// records prints each record of a batch as Kafka's tool does with
// --print-data, decompressing compressed batches first.
func (d *dumper) records(b []byte, h *record.Header) {
	recs, err := record.Inflate(b, h, nil, maxDecompressed)
	if err != nil {
		d.problem("batch at offset %d: %v records: %v", h.BaseOffset, codec.Codec(h.Codec()), err)
		return
	}
	control := h.Attributes&record.AttrControl != 0
	it := record.NewIter(recs, h.RecordCount)
	var keys []string
	for it.Next() {
		r := it.Record()
		keys = keys[:0]
		for k := range r.Headers() {
			keys = append(keys, string(k))
		}
		fmt.Fprintf(d.out, "| offset: %d %s: %d keySize: %d valueSize: %d sequence: %d headerKeys: [%s]",
			r.Offset(h), timestampType(h), r.Timestamp(h), nullableLen(r.Key), nullableLen(r.Value),
			seqOf(h, r.OffsetDelta), strings.Join(keys, ","))
		switch {
		case control:
			fmt.Fprint(d.out, controlRecord(r.Key, r.Value))
		default:
			if r.Key != nil {
				fmt.Fprintf(d.out, " key: %s", r.Key)
			}
			if r.Value != nil {
				fmt.Fprintf(d.out, " payload: %s", r.Value)
			}
		}
		fmt.Fprintln(d.out)
	}
	if err := it.Err(); err != nil {
		d.problem("batch at offset %d: %v", h.BaseOffset, err)
		return
	}
	if rest := it.Rest(); len(rest) != 0 {
		d.problem("batch at offset %d: %d bytes after the last record", h.BaseOffset, len(rest))
	}
}

// nullableLen is Kafka's keySize/valueSize: -1 for null.
func nullableLen(b []byte) int {
	if b == nil {
		return -1
	}
	return len(b)
}

// controlRecord describes a control record as Kafka's tool does: its
// type, and for an end-transaction marker the coordinator epoch (record's
// readers of the control record format).
func controlRecord(key, value []byte) string {
	typ, err := record.ParseControlKey(key)
	if err != nil {
		return " controlType: UNKNOWN(-1)"
	}
	name := map[int16]string{record.ControlAbort: "ABORT", record.ControlCommit: "COMMIT"}[typ]
	if name == "" {
		return fmt.Sprintf(" controlType: UNKNOWN(%d)", typ)
	}
	epoch, err := record.ParseMarkerValue(value)
	if err != nil {
		epoch = -1
	}
	return fmt.Sprintf(" endTxnMarker: %s coordinatorEpoch: %d", name, epoch)
}

func seqOf(h *record.Header, delta int32) int32 {
	if h.BaseSequence < 0 {
		return -1
	}
	return h.BaseSequence + delta
}
