package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/logfile"
	"samsa/mmapindex"
	"samsa/record"
	"samsa/record/codec"
)

var codecNames = []string{"none", "gzip", "snappy", "lz4", "zstd"}

// dumpLog prints (and with verify checks) each file, directory or glob;
// it returns the exit status.
func dumpLog(paths []string, verify, printData bool) int {
	d := &dumper{out: os.Stdout, verify: verify, printData: printData}
	for _, path := range paths {
		d.dumpPath(path)
	}
	if d.problems > 0 {
		fmt.Fprintf(os.Stderr, "samsa dump-log: %d problem(s) found\n", d.problems)
		return 1
	}
	return 0
}

// maxDecompressed bounds what --print-data inflates one batch to: a
// corrupt or hostile batch costs at most this much memory.
const maxDecompressed = 256 << 20

type dumper struct {
	out       io.Writer
	errOut    io.Writer // notes and errors; os.Stderr when nil
	verify    bool
	printData bool
	problems  int
}

func (d *dumper) problem(format string, args ...any) {
	d.problems++
	fmt.Fprintf(d.out, "PROBLEM: "+format+"\n", args...)
}

func (d *dumper) stderr() io.Writer {
	if d.errOut == nil {
		return os.Stderr
	}
	return d.errOut
}

// fail reports a file that could not be dumped at all.
func (d *dumper) fail(path string, err error) {
	fmt.Fprintf(d.stderr(), "samsa dump-log: %s: %v\n", path, err)
	d.problems++
}

// Rank of each file kind when a directory is dumped: a segment's files
// together, the .log first.
var kinds = map[string]int{logfile.LogSuffix: 0, logfile.IndexSuffix: 1, logfile.TimeIndexSuffix: 2, snapshotSuffix: 3}

const snapshotSuffix = ".snapshot"

// dumpPath dumps one argument: a file; a directory, such as a partition
// directory, whose files are dumped in segment order; or a glob the shell
// did not expand. Files that are not segment files (partition.metadata,
// leader-epoch-checkpoint, leftovers such as .deleted or .swap) are skipped
// with a note on stderr, as Kafka's tool does; they are not problems.
func (d *dumper) dumpPath(path string) {
	fi, err := os.Stat(path)
	if err != nil {
		if matches, gerr := filepath.Glob(path); gerr == nil && len(matches) > 0 {
			for _, m := range sortSegmentFiles(matches) {
				d.dumpPath(m)
			}
			return
		}
		d.fail(path, err)
		return
	}
	if !fi.IsDir() {
		d.dumpFile(path)
		return
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		d.fail(path, err)
		return
	}
	var files []string
	for _, e := range entries {
		if e.IsDir() {
			fmt.Fprintf(d.stderr(), "Ignoring directory %s\n", filepath.Join(path, e.Name()))
			continue
		}
		files = append(files, filepath.Join(path, e.Name()))
	}
	for _, f := range sortSegmentFiles(files) {
		d.dumpFile(f)
	}
}

// sortSegmentFiles orders paths by name stem (for segment files, the base
// offset), a segment's .log before its indexes and snapshot.
func sortSegmentFiles(paths []string) []string {
	rank := func(p string) int {
		if r, ok := kinds[filepath.Ext(p)]; ok {
			return r
		}
		return len(kinds)
	}
	stem := func(p string) string { return strings.TrimSuffix(p, filepath.Ext(p)) }
	slices.SortStableFunc(paths, func(a, b string) int {
		if c := strings.Compare(stem(a), stem(b)); c != 0 {
			return c
		}
		return rank(a) - rank(b)
	})
	return paths
}

func (d *dumper) dumpFile(path string) {
	var dump func(string) error
	switch filepath.Ext(path) {
	case logfile.LogSuffix:
		dump = d.log
	case logfile.IndexSuffix:
		dump = d.index
	case logfile.TimeIndexSuffix:
		dump = d.timeIndex
	case snapshotSuffix:
		dump = d.snapshot
	default:
		fmt.Fprintf(d.stderr(), "Ignoring %s: not a .log, .index, .timeindex or .snapshot file\n", path)
		return
	}
	fmt.Fprintf(d.out, "Dumping %s\n", path)
	if err := dump(path); err != nil {
		d.fail(path, err)
	}
}

func baseOf(path string) (int64, error) {
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	b, err := strconv.ParseInt(stem, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("file name %q is not a base offset", filepath.Base(path))
	}
	return b, nil
}

// batchAt reads the whole batch at pos of f.
func batchAt(f *os.File, pos, size int64) (record.Header, []byte, error) {
	var hdr [record.HeaderSize]byte
	if size-pos < record.HeaderSize {
		return record.Header{}, nil, fmt.Errorf("%w: %d bytes at %d", record.ErrTornTail, size-pos, pos)
	}
	if _, err := f.ReadAt(hdr[:], pos); err != nil {
		return record.Header{}, nil, err
	}
	h, err := record.ParseHeader(hdr[:])
	if err != nil {
		return h, nil, err
	}
	if h.Size() > size-pos {
		return h, nil, fmt.Errorf("%w: batch of %d bytes at %d, file has %d", record.ErrTornTail, h.Size(), pos, size-pos)
	}
	b := make([]byte, h.Size())
	_, err = f.ReadAt(b, pos)
	return h, b, err
}

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
		codec := "unknown"
		if c := h.Codec(); c < len(codecNames) {
			codec = codecNames[c]
		}
		lastSeq := int32(-1)
		if h.BaseSequence >= 0 {
			lastSeq = h.BaseSequence + h.LastOffsetDelta
		}
		fmt.Fprintf(d.out, "baseOffset: %d lastOffset: %d count: %d baseSequence: %d lastSequence: %d producerId: %d producerEpoch: %d partitionLeaderEpoch: %d isTransactional: %t isControl: %t position: %d %s: %d size: %d magic: %d compresscodec: %s crc: %d isvalid: %t\n",
			h.BaseOffset, h.LastOffset(), h.RecordCount, h.BaseSequence, lastSeq, h.ProducerID, h.ProducerEpoch,
			h.LeaderEpoch, h.Attributes&record.AttrTransactional != 0, h.Attributes&record.AttrControl != 0,
			pos, timestampType(&h), h.MaxTimestamp, h.Size(), h.Magic, codec, h.CRC, valid)
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

// records prints each record of a batch as Kafka's tool does with
// --print-data, decompressing compressed batches first.
func (d *dumper) records(b []byte, h *record.Header) {
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(b); err != nil {
		d.problem("batch at offset %d: %v", h.BaseOffset, err)
		return
	}
	recs := rb.Records
	if c := codec.Codec(h.Codec()); c != codec.None {
		raw, err := codec.Decompress(c, nil, recs, maxDecompressed)
		if err != nil {
			d.problem("batch at offset %d: %v records: %v", h.BaseOffset, c, err)
			return
		}
		recs = raw
	}
	control := h.Attributes&record.AttrControl != 0
	for i := range int(rb.NumRecords) {
		var r kmsg.Record
		n, size := binary.Varint(recs)
		if size <= 0 || n < 0 || int64(len(recs)-size) < n {
			d.problem("batch at offset %d: record %d: bad length", h.BaseOffset, i)
			return
		}
		if err := r.ReadFrom(recs[:size+int(n)]); err != nil {
			d.problem("batch at offset %d: record %d: %v", h.BaseOffset, i, err)
			return
		}
		recs = recs[size+int(n):]
		ts := h.FirstTimestamp + r.TimestampDelta64
		if h.Attributes&record.AttrLogAppendTime != 0 {
			ts = h.MaxTimestamp // as Kafka reads a LogAppendTime record
		}
		keys := make([]string, len(r.Headers))
		for j, hd := range r.Headers {
			keys[j] = hd.Key
		}
		fmt.Fprintf(d.out, "| offset: %d %s: %d keySize: %d valueSize: %d sequence: %d headerKeys: [%s]",
			h.BaseOffset+int64(r.OffsetDelta), timestampType(h), ts, nullableLen(r.Key), nullableLen(r.Value),
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
	if len(recs) != 0 {
		d.problem("batch at offset %d: %d bytes after the last record", h.BaseOffset, len(recs))
	}
}

// nullableLen is Kafka's keySize/valueSize: -1 for null.
func nullableLen(b []byte) int {
	if b == nil {
		return -1
	}
	return len(b)
}

// controlRecord describes a control record as Kafka's tool does: key
// version int16, type int16 (0 abort, 1 commit); an end-transaction
// marker's value is version int16, coordinatorEpoch int32.
func controlRecord(key, value []byte) string {
	if len(key) < 4 {
		return " controlType: UNKNOWN(-1)"
	}
	typ := int16(binary.BigEndian.Uint16(key[2:]))
	name := map[int16]string{0: "ABORT", 1: "COMMIT"}[typ]
	if name == "" {
		return fmt.Sprintf(" controlType: UNKNOWN(%d)", typ)
	}
	epoch := int32(-1)
	if len(value) >= 6 {
		epoch = int32(binary.BigEndian.Uint32(value[2:]))
	}
	return fmt.Sprintf(" endTxnMarker: %s coordinatorEpoch: %d", name, epoch)
}

func seqOf(h *record.Header, delta int32) int32 {
	if h.BaseSequence < 0 {
		return -1
	}
	return h.BaseSequence + delta
}

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
// number of entries.
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

// The entries of an index end at the first all-zero entry: no valid entry is
// all zeros (mmapindex invariant 2), and the index of a live segment is
// preallocated with zeros past its entries (as Kafka's tool stops at the
// zero entries of a sparse index file).

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
	n := 0
	for i := 0; i+mmapindex.OffsetEntrySize <= len(data); i += mmapindex.OffsetEntrySize {
		rel := int64(int32(binary.BigEndian.Uint32(data[i:])))
		pos := int64(int32(binary.BigEndian.Uint32(data[i+4:])))
		if rel == 0 && pos == 0 {
			break
		}
		n++
		fmt.Fprintf(d.out, "offset: %d position: %d\n", base+rel, pos)
		if !d.verify {
			continue
		}
		if rel <= lastRel || pos <= lastPos {
			d.problem("entry %d (%d, %d) does not increase", i/8, base+rel, pos)
		}
		lastRel, lastPos = rel, pos
		h, _, err := batchAt(logf, pos, logSize)
		if err != nil {
			d.problem("entry %d: no batch at position %d: %v", i/8, pos, err)
		} else if h.LastOffset() != base+rel {
			d.problem("entry %d: offset %d, but the batch at position %d ends at %d", i/8, base+rel, pos, h.LastOffset())
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
	n := 0
	for i := 0; i+mmapindex.TimeEntrySize <= len(data); i += mmapindex.TimeEntrySize {
		ts := int64(binary.BigEndian.Uint64(data[i:]))
		rel := int64(int32(binary.BigEndian.Uint32(data[i+8:])))
		if ts == 0 && rel == 0 {
			break
		}
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
			d.problem("entry %d (%d, %d) does not increase", i/12, ts, base+rel)
		}
		lastTs, lastRel = ts, rel
		if m, ok := maxTs[base+rel]; !ok {
			d.problem("entry %d: offset %d is not the last offset of a batch", i/12, base+rel)
		} else if m != ts {
			d.problem("entry %d: timestamp %d, but the largest timestamp up to offset %d is %d", i/12, ts, base+rel, m)
		}
	}
	if n == 0 {
		fmt.Fprintf(d.out, "%s is empty.\n", path)
	}
	return nil
}

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
