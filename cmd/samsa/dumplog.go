package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/logfile"
	"samsa/mmapindex"
)

var codecNames = []string{"none", "gzip", "snappy", "lz4", "zstd"}

// dumpLog prints (and with verify checks) each file; it returns the exit
// status.
func dumpLog(paths []string, verify, printData bool) int {
	d := &dumper{out: os.Stdout, verify: verify, printData: printData}
	for _, path := range paths {
		fmt.Fprintf(d.out, "Dumping %s\n", path)
		var err error
		switch filepath.Ext(path) {
		case logfile.LogSuffix:
			err = d.log(path)
		case logfile.IndexSuffix:
			err = d.index(path)
		case logfile.TimeIndexSuffix:
			err = d.timeIndex(path)
		default:
			err = fmt.Errorf("not a .log, .index or .timeindex file")
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "samsa dump-log: %s: %v\n", path, err)
			d.problems++
		}
	}
	if d.problems > 0 {
		fmt.Fprintf(os.Stderr, "samsa dump-log: %d problem(s) found\n", d.problems)
		return 1
	}
	return 0
}

type dumper struct {
	out       io.Writer
	verify    bool
	printData bool
	problems  int
}

func (d *dumper) problem(format string, args ...any) {
	d.problems++
	fmt.Fprintf(d.out, "PROBLEM: "+format+"\n", args...)
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
func batchAt(f *os.File, pos, size int64) (logfile.Header, []byte, error) {
	var hdr [logfile.HeaderSize]byte
	if size-pos < logfile.HeaderSize {
		return logfile.Header{}, nil, fmt.Errorf("%w: %d bytes at %d", logfile.ErrTornTail, size-pos, pos)
	}
	if _, err := f.ReadAt(hdr[:], pos); err != nil {
		return logfile.Header{}, nil, err
	}
	h, err := logfile.ParseHeader(hdr[:])
	if err != nil {
		return h, nil, err
	}
	if h.Size() > size-pos {
		return h, nil, fmt.Errorf("%w: batch of %d bytes at %d, file has %d", logfile.ErrTornTail, h.Size(), pos, size-pos)
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
		if err != nil {
			d.problem("position %d: %v", pos, err)
			return nil
		}
		valid := logfile.CheckCRC(b, &h) == nil
		codec := "unknown"
		if c := h.Codec(); c < len(codecNames) {
			codec = codecNames[c]
		}
		tsType := "CreateTime"
		if h.Attributes&logfile.AttrLogAppendTime != 0 {
			tsType = "LogAppendTime"
		}
		lastSeq := int32(-1)
		if h.BaseSequence >= 0 {
			lastSeq = h.BaseSequence + h.LastOffsetDelta
		}
		fmt.Fprintf(d.out, "baseOffset: %d lastOffset: %d count: %d baseSequence: %d lastSequence: %d producerId: %d producerEpoch: %d partitionLeaderEpoch: %d isTransactional: %t isControl: %t position: %d %s: %d size: %d magic: %d compresscodec: %s crc: %d isvalid: %t\n",
			h.BaseOffset, h.LastOffset(), h.RecordCount, h.BaseSequence, lastSeq, h.ProducerID, h.ProducerEpoch,
			h.LeaderEpoch, h.Attributes&logfile.AttrTransactional != 0, h.Attributes&logfile.AttrControl != 0,
			pos, tsType, h.MaxTimestamp, h.Size(), h.Magic, codec, h.CRC, valid)
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

func (d *dumper) records(b []byte, h *logfile.Header) {
	if h.Codec() != 0 {
		fmt.Fprintf(d.out, "| (records compressed with %s are not shown)\n", codecNames[min(h.Codec(), len(codecNames)-1)])
		return
	}
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(b); err != nil {
		d.problem("batch at offset %d: %v", h.BaseOffset, err)
		return
	}
	recs := rb.Records
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
		var keys []string
		for _, hd := range r.Headers {
			keys = append(keys, hd.Key)
		}
		fmt.Fprintf(d.out, "| offset: %d CreateTime: %d keySize: %d valueSize: %d sequence: %d headerKeys: [%s] key: %s payload: %s\n",
			h.BaseOffset+int64(r.OffsetDelta), h.FirstTimestamp+r.TimestampDelta64, len(r.Key), len(r.Value),
			seqOf(h, r.OffsetDelta), strings.Join(keys, ","), r.Key, r.Value)
	}
	if len(recs) != 0 {
		d.problem("batch at offset %d: %d bytes after the last record", h.BaseOffset, len(recs))
	}
}

func seqOf(h *logfile.Header, delta int32) int32 {
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

func (d *dumper) index(path string) error {
	base, err := baseOf(path)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(data)%mmapindex.OffsetEntrySize != 0 {
		d.problem("size %d is not a multiple of %d", len(data), mmapindex.OffsetEntrySize)
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
	for i := 0; i+mmapindex.OffsetEntrySize <= len(data); i += mmapindex.OffsetEntrySize {
		rel := int64(int32(binary.BigEndian.Uint32(data[i:])))
		pos := int64(int32(binary.BigEndian.Uint32(data[i+4:])))
		if rel == 0 && pos == 0 && i > 0 {
			break // preallocated tail
		}
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
	return nil
}

func (d *dumper) timeIndex(path string) error {
	base, err := baseOf(path)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(data)%mmapindex.TimeEntrySize != 0 {
		d.problem("size %d is not a multiple of %d", len(data), mmapindex.TimeEntrySize)
	}
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
				break
			}
			running = max(running, h.MaxTimestamp)
			maxTs[h.LastOffset()] = running
			pos += h.Size()
		}
	}
	lastTs, lastRel := int64(-1)<<62, int64(-1)
	for i := 0; i+mmapindex.TimeEntrySize <= len(data); i += mmapindex.TimeEntrySize {
		ts := int64(binary.BigEndian.Uint64(data[i:]))
		rel := int64(int32(binary.BigEndian.Uint32(data[i+8:])))
		if ts == 0 && rel == 0 && i > 0 {
			break
		}
		fmt.Fprintf(d.out, "timestamp: %d offset: %d\n", ts, base+rel)
		if !d.verify {
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
	return nil
}
