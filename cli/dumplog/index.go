package dumplog

// .index and .timeindex files.

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"samsa/logfile"
	"samsa/mmapindex"
)

// openSibling opens the .log next to an index file, for --verify.
func openSibling(path string) (*os.File, int64, error) {
	logPath := strings.TrimSuffix(path, filepath.Ext(path)) + logfile.LogSuffix
	f, err := os.Open(logPath)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// readIndex reads an index file, reporting a size that is not a whole
// number of entries. Its entries are read with mmapindex's readers, which
// stop at the first all-zero entry: no valid entry is all zeros (mmapindex
// invariant 2), and the index of a live segment is preallocated with zeros
// past its entries (as Kafka's tool stops at the zero entries of a sparse
// index file).
func (d *dumper) readIndex(path string, entrySize int) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data)%entrySize != 0 {
		d.problem("size %d is not a multiple of %d", len(data), entrySize)
	}
	return data, nil
}

func (d *dumper) index(path string) error {
	base, err := baseOf(path)
	if err != nil {
		return err
	}
	data, err := d.readIndex(path, mmapindex.OffsetEntrySize)
	if err != nil {
		return err
	}
	var logf *os.File
	var logSize int64
	if d.verify {
		if logf, logSize, err = openSibling(path); err != nil {
			return fmt.Errorf("--verify needs the segment's .log: %w", err)
		}
		defer logf.Close()
	}
	lastRel, lastPos := int64(-1), int64(-1)
	n := 0 // entries read
	for rel, pos := range mmapindex.OffsetEntries(data) {
		i := n
		n++
		fmt.Fprintf(d.out, "offset: %d position: %d\n", base+rel, pos)
		if !d.verify {
			continue
		}
		if rel <= lastRel || pos <= lastPos {
			d.problem("entry %d (%d, %d) does not increase", i, base+rel, pos)
		}
		lastRel, lastPos = rel, pos
		h, _, err := batchAt(logf, pos, logSize)
		if err != nil {
			d.problem("entry %d: no batch at position %d: %v", i, pos, err)
		} else if h.LastOffset() != base+rel {
			d.problem("entry %d: offset %d, but the batch at position %d ends at %d", i, base+rel, pos, h.LastOffset())
		}
	}
	if n == 0 {
		fmt.Fprintf(d.out, "%s is empty.\n", path)
	}
	return nil
}

func (d *dumper) timeIndex(path string) error {
	base, err := baseOf(path)
	if err != nil {
		return err
	}
	data, err := d.readIndex(path, mmapindex.TimeEntrySize)
	if err != nil {
		return err
	}
	// The log is read after the index: an entry a running broker adds
	// meanwhile points at a batch that is in the log read.
	var maxTs map[int64]int64 // last offset of each batch -> running max timestamp
	if d.verify {
		logf, size, err := openSibling(path)
		if err != nil {
			return fmt.Errorf("--verify needs the segment's .log: %w", err)
		}
		defer logf.Close()
		maxTs = map[int64]int64{}
		running := int64(-1)
		for pos := int64(0); pos < size; {
			h, _, err := batchAt(logf, pos, size)
			if err != nil {
				break // judged by the dump of the .log
			}
			running = max(running, h.MaxTimestamp)
			maxTs[h.LastOffset()] = running
			pos += h.Size()
		}
	}
	lastTs, lastRel := int64(math.MinInt64), int64(-1)
	n := 0 // entries read
	for ts, rel := range mmapindex.TimeEntries(data) {
		i := n
		n++
		fmt.Fprintf(d.out, "timestamp: %d offset: %d\n", ts, base+rel)
		if !d.verify {
			continue
		}
		if i == 0 && ts == mmapindex.NoTimestamp && rel == 0 {
			// Older Samsa wrote this entry when it closed or rolled a
			// segment before any timestamp; Kafka writes none. The broker
			// accepts it and drops it from the active segment.
			fmt.Fprintf(d.out, "note: entry 0 (%d, %d) is the no-timestamp entry of older Samsa versions: harmless\n", ts, base)
			lastTs, lastRel = ts, rel
			continue
		}
		if ts <= lastTs || rel <= lastRel {
			d.problem("entry %d (%d, %d) does not increase", i, ts, base+rel)
		}
		lastTs, lastRel = ts, rel
		if m, ok := maxTs[base+rel]; !ok {
			d.problem("entry %d: offset %d is not the last offset of a batch", i, base+rel)
		} else if m != ts {
			d.problem("entry %d: timestamp %d, but the largest timestamp up to offset %d is %d", i, ts, base+rel, m)
		}
	}
	if n == 0 {
		fmt.Fprintf(d.out, "%s is empty.\n", path)
	}
	return nil
}
