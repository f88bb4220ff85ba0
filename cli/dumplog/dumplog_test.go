package dumplog

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"samsa/internal/clitest"
	"samsa/internal/testbatch"
	"samsa/logfile"
	"samsa/record"
	"samsa/record/codec"
)

// run runs samsa dump-log args... and returns its stdout and stderr
// together, and its exit status.
func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	return clitest.Combined(t, NewCommand, args...)
}

// runSplit runs samsa dump-log args... and returns its stdout and stderr
// apart, and its exit status.
func runSplit(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return clitest.Exec(t, NewCommand, "", args...)
}

func TestDumpLog(t *testing.T) {
	dir := clitest.MakeSegment(t)
	seg := func(suf string) string { return filepath.Join(dir, logfile.SegmentName(0, suf)) }

	out, code := run(t, "dump-log", "--verify", "--print-data", seg(".log"), seg(".index"), seg(".timeindex"))
	if code != 0 {
		t.Fatalf("verify of a good segment failed (%d):\n%s", code, out)
	}
	if n := strings.Count(out, "baseOffset: "); n != 40 {
		t.Fatalf("%d batches printed, want 40", n)
	}
	for _, want := range []string{
		"baseOffset: 78 lastOffset: 79 count: 2",
		"compresscodec: none",
		"isvalid: true",
		"| offset: 79 CreateTime: 1040 keySize: 1 valueSize: 100",
		"key: k payload: nnnn",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out[:min(len(out), 2000)])
		}
	}
	if strings.Count(out, "offset: ") < 80+5 || !strings.Contains(out, "timestamp: ") {
		t.Fatal("index entries not printed")
	}

	// A flipped payload byte: the batch is printed as invalid and --verify fails.
	data, _ := os.ReadFile(seg(".log"))
	data[len(data)-10] ^= 0xff
	os.WriteFile(seg(".log"), data, 0o644)
	out, code = run(t, "dump-log", "--verify", seg(".log"))
	if code != 1 || !strings.Contains(out, "isvalid: false") || !strings.Contains(out, "PROBLEM: batch at position") {
		t.Fatalf("corrupt batch not reported (exit %d):\n%s", code, out)
	}

	// An index entry that points at the wrong position.
	idx, _ := os.ReadFile(seg(".index"))
	idx[7]++
	os.WriteFile(seg(".index"), idx, 0o644)
	out, code = run(t, "dump-log", "--verify", seg(".index"))
	if code != 1 || !strings.Contains(out, "PROBLEM: entry 0") {
		t.Fatalf("bad index entry not reported (exit %d):\n%s", code, out)
	}

	if _, code := run(t, "dump-log", filepath.Join(dir, "x.txt")); code != 1 {
		t.Fatal("a missing file should fail")
	}
	if _, code := run(t, "dump-log"); code != 2 {
		t.Fatal("no files should be a usage error")
	}
}

// producerSnapshot returns a Kafka version-1 producer snapshot of one
// producer: id 7, epoch 2, last sequence 9 at offset 79 (delta 1), 1040 ms.
func producerSnapshot() []byte {
	b := binary.BigEndian.AppendUint16(nil, 1)
	b = append(b, 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, 1)
	b = binary.BigEndian.AppendUint64(b, 7)
	b = binary.BigEndian.AppendUint16(b, 2)
	b = binary.BigEndian.AppendUint32(b, 9)
	b = binary.BigEndian.AppendUint64(b, 79)
	b = binary.BigEndian.AppendUint32(b, 1)
	b = binary.BigEndian.AppendUint64(b, 1040)
	b = binary.BigEndian.AppendUint32(b, ^uint32(0))
	b = binary.BigEndian.AppendUint64(b, ^uint64(0))
	binary.BigEndian.PutUint32(b[2:], crc32.Checksum(b[6:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

// TestDumpLogDirectory: a whole partition directory, as a directory or as
// a glob, dumps its segment files in segment order (the snapshot too) and
// skips the rest with a note on stderr, without failing.
func TestDumpLogDirectory(t *testing.T) {
	dir := clitest.MakeSegment(t)
	os.WriteFile(filepath.Join(dir, "partition.metadata"), []byte("version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAA\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "leader-epoch-checkpoint"), []byte("0\n0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, logfile.SegmentName(0, ".snapshot")), producerSnapshot(), 0o644)
	os.WriteFile(filepath.Join(dir, logfile.SegmentName(5, ".log.deleted")), nil, 0o644)
	for _, arg := range []string{dir, filepath.Join(dir, "*")} {
		out, errOut, code := runSplit(t, "dump-log", "--verify", arg)
		if code != 0 || strings.Contains(out, "PROBLEM") {
			t.Fatalf("dump-log --verify %s: exit %d\n%s\nstderr:\n%s", arg, code, out, errOut)
		}
		var dumped []string
		for _, line := range strings.Split(out, "\n") {
			if f, ok := strings.CutPrefix(line, "Dumping "); ok {
				dumped = append(dumped, filepath.Base(f))
			}
		}
		seg := func(suf string) string { return logfile.SegmentName(0, suf) }
		if want := []string{seg(".log"), seg(".index"), seg(".timeindex"), seg(".snapshot")}; strings.Join(dumped, " ") != strings.Join(want, " ") {
			t.Fatalf("%s: dumped %v, want %v", arg, dumped, want)
		}
		if !strings.Contains(out, "producerId: 7 producerEpoch: 2 coordinatorEpoch: -1 currentTxnFirstOffset: -1 lastTimestamp: 1040 firstSequence: 8 lastSequence: 9 lastOffset: 79 offsetDelta: 1 timestamp: 1040") {
			t.Fatalf("snapshot not dumped:\n%s", out)
		}
		for _, skipped := range []string{"partition.metadata", "leader-epoch-checkpoint", ".log.deleted"} {
			if !strings.Contains(errOut, "Ignoring ") || !strings.Contains(errOut, skipped) {
				t.Fatalf("%s: skipping of %s not noted on stderr:\n%s", arg, skipped, errOut)
			}
		}
	}
	// Named on its own, an existing file of another kind is skipped too.
	if _, errOut, code := runSplit(t, "dump-log", filepath.Join(dir, "partition.metadata")); code != 0 || !strings.Contains(errOut, "Ignoring") {
		t.Fatalf("partition.metadata alone: exit %d, %q", code, errOut)
	}
}

// encodeRecord encodes one record of a batch (Kafka's record format v2).
func encodeRecord(delta int, key, value []byte, headers ...[2]string) []byte {
	var r []byte
	r = append(r, 0)
	r = binary.AppendVarint(r, int64(delta)) // timestamp delta
	r = binary.AppendVarint(r, int64(delta)) // offset delta
	for _, b := range [][]byte{key, value} {
		if b == nil {
			r = binary.AppendVarint(r, -1)
		} else {
			r = binary.AppendVarint(r, int64(len(b)))
			r = append(r, b...)
		}
	}
	r = binary.AppendVarint(r, int64(len(headers)))
	for _, h := range headers {
		r = binary.AppendVarint(r, int64(len(h[0])))
		r = append(r, h[0]...)
		r = binary.AppendVarint(r, int64(len(h[1])))
		r = append(r, h[1]...)
	}
	return append(binary.AppendVarint(nil, int64(len(r))), r...)
}

// compressedBatch is a batch of three records (the second with a null
// key, the third with a null value) whose records are compressed with c;
// xerial frames snappy as Java clients do.
func compressedBatch(t *testing.T, c codec.Codec, xerial bool, ts int64) []byte {
	b := testbatch.Make(testbatch.Spec{Records: 3, Timestamp: ts})
	recs := append(append(encodeRecord(0, []byte("k0"), []byte(c.String()+"-0"), [2]string{"h", "x"}, [2]string{"trace", "y"}),
		encodeRecord(1, nil, []byte(c.String()+"-1"))...),
		encodeRecord(2, []byte("k2"), nil)...)
	z, err := codec.Compress(c, nil, recs)
	if err != nil {
		t.Fatal(err)
	}
	if xerial {
		x := append([]byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}, 0, 0, 0, 1, 0, 0, 0, 1)
		z = append(binary.BigEndian.AppendUint32(x, uint32(len(z))), z...)
	}
	b = append(b[:61], z...)
	record.SetLength(b, int32(len(b)-12))
	record.SetCodec(b, int(c))
	record.SetCRC(b)
	return b
}

// TestDumpLogPrintsCompressedRecords: --print-data decompresses gzip,
// snappy (raw and xerial), lz4 and zstd batches and prints each record as
// Kafka's tool does: null keys and values omitted, sizes -1.
func TestDumpLogPrintsCompressedRecords(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c-0")
	l, err := logfile.Open(dir, logfile.DefaultConfig(), logfile.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		c      codec.Codec
		xerial bool
	}{{codec.None, false}, {codec.Gzip, false}, {codec.Snappy, false}, {codec.Snappy, true}, {codec.LZ4, false}, {codec.Zstd, false}}
	for i, tc := range cases {
		if _, err := l.Append(compressedBatch(t, tc.c, tc.xerial, int64(5000+100*i))); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	out, code := run(t, "dump-log", "--print-data", "--verify", filepath.Join(dir, logfile.SegmentName(0, ".log")))
	if code != 0 || strings.Contains(out, "PROBLEM") || strings.Contains(out, "not shown") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for i, tc := range cases {
		o, ts, name := int64(3*i), int64(5000+100*i), tc.c.String()
		for _, want := range []string{
			fmt.Sprintf("compresscodec: %s", name),
			fmt.Sprintf("| offset: %d CreateTime: %d keySize: 2 valueSize: %d sequence: -1 headerKeys: [h,trace] key: k0 payload: %s-0\n", o, ts, len(name)+2, name),
			fmt.Sprintf("| offset: %d CreateTime: %d keySize: -1 valueSize: %d sequence: -1 headerKeys: [] payload: %s-1\n", o+1, ts+1, len(name)+2, name),
			fmt.Sprintf("| offset: %d CreateTime: %d keySize: 2 valueSize: -1 sequence: -1 headerKeys: [] key: k2\n", o+2, ts+2),
		} {
			if !strings.Contains(out, want) {
				t.Fatalf("%s (xerial %v): output lacks %q:\n%s", name, tc.xerial, want, out)
			}
		}
	}
}

// TestDumpLogVerifiesLiveSegment: the files of a log that is open and
// being written pass --verify as Kafka's tool judges them: indexes
// preallocated with zeros past their entries (or with no entry yet), a time
// index whose last entry lags the log, and a batch half written at the end.
func TestDumpLogVerifiesLiveSegment(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "live-0")
	l, err := logfile.Open(dir, logfile.DefaultConfig(), logfile.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	seg := func(suf string) string { return filepath.Join(dir, logfile.SegmentName(0, suf)) }
	verify := func(stage string) string {
		t.Helper()
		out, code := run(t, "dump-log", "--verify", seg(".log"), seg(".index"), seg(".timeindex"))
		if code != 0 || strings.Contains(out, "PROBLEM") {
			t.Fatalf("%s: live segment fails --verify (exit %d):\n%s", stage, code, out)
		}
		return out
	}
	// Empty, then a few batches: no index entry yet, 10 MiB of zeros.
	out := verify("empty")
	if strings.Count(out, "is empty.") != 2 {
		t.Fatalf("empty indexes not reported as empty:\n%s", out)
	}
	for i := range 3 {
		if _, err := l.Append(testbatch.Make(testbatch.Spec{Records: 2, ValueSize: 100, Timestamp: int64(1000 + i)})); err != nil {
			t.Fatal(err)
		}
	}
	verify("below the index interval")
	// Entries, with the log past the last of them.
	for i := range 60 {
		if _, err := l.Append(testbatch.Make(testbatch.Spec{Records: 2, ValueSize: 300, Timestamp: int64(2000 + i%7*10)})); err != nil {
			t.Fatal(err)
		}
	}
	if out := verify("with entries"); !strings.Contains(out, "timestamp: ") || !strings.Contains(out, "position: ") {
		t.Fatalf("no entries printed:\n%s", out)
	}
	// A batch being written: its first 40 bytes are in the file.
	f, err := os.OpenFile(seg(".log"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(testbatch.Make(testbatch.Spec{Records: 1, ValueSize: 50})[:40])
	f.Close()
	if out := verify("partial batch at the end"); !strings.Contains(out, "Found 40 invalid bytes at the end of") {
		t.Fatalf("partial batch not reported:\n%s", out)
	}
}

// TestDumpLogLegacyTimeIndex: the lone (NoTimestamp, base) entry that older
// Samsa wrote when closing an empty segment is noted, not a problem.
func TestDumpLogLegacyTimeIndex(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "old-0")
	os.MkdirAll(dir, 0o755)
	seg := func(suf string) string { return filepath.Join(dir, logfile.SegmentName(0, suf)) }
	os.WriteFile(seg(".log"), nil, 0o644)
	os.WriteFile(seg(".index"), nil, 0o644)
	os.WriteFile(seg(".timeindex"), binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, ^uint64(0)), 0), 0o644)
	out, code := run(t, "dump-log", "--verify", dir)
	if code != 0 || strings.Contains(out, "PROBLEM") || !strings.Contains(out, "note: entry 0 (-1, 0)") {
		t.Fatalf("legacy empty-segment time index (exit %d):\n%s", code, out)
	}
}

// TestDumpLogCorruptSnapshot: a snapshot that producerstate cannot read
// is a problem named by its reader; one whose CRC alone is wrong still
// shows its producers.
func TestDumpLogCorruptSnapshot(t *testing.T) {
	dir := t.TempDir()
	snap := producerSnapshot()
	producer := "producerId: 7 producerEpoch: 2 coordinatorEpoch: -1 currentTxnFirstOffset: -1 lastTimestamp: 1040 firstSequence: 8 lastSequence: 9 lastOffset: 79 offsetDelta: 1 timestamp: 1040\n"
	for _, tc := range []struct {
		name    string
		b       []byte
		problem string
		shown   bool
	}{
		{"good", snap, "", true},
		{"crc", append(append([]byte(nil), snap[:2]...), append([]byte{snap[2] ^ 1}, snap[3:]...)...), "PROBLEM: producerstate: corrupt snapshot: crc mismatch\n", true},
		{"short", snap[:8], "PROBLEM: producerstate: corrupt snapshot: 8 bytes\n", false},
		{"version", append([]byte{0, 7}, snap[2:]...), "PROBLEM: producerstate: corrupt snapshot: version 7\n", false},
		{"count", append(snap[:6:6], 0, 0, 0, 2), "PROBLEM: producerstate: corrupt snapshot: crc mismatch\n", false},
	} {
		path := filepath.Join(dir, tc.name+".snapshot")
		os.WriteFile(path, tc.b, 0o644)
		out, code := run(t, "dump-log", path)
		if want := map[bool]int{true: 1, false: 0}[tc.problem != ""]; code != want {
			t.Errorf("%s: exit %d, want %d:\n%s", tc.name, code, want, out)
		}
		if tc.problem != "" && !strings.Contains(out, tc.problem) {
			t.Errorf("%s: output lacks %q:\n%s", tc.name, tc.problem, out)
		}
		if strings.Contains(out, producer) != tc.shown {
			t.Errorf("%s: producer shown %v, want %v:\n%s", tc.name, !tc.shown, tc.shown, out)
		}
	}
}

// TestDumpLogBadRecordFraming: with --print-data, records that do not
// frame as the batch header says, or bytes after the last record, are
// problems; the records before them are printed.
func TestDumpLogBadRecordFraming(t *testing.T) {
	bad := testbatch.Make(testbatch.Spec{Records: 2, ValueSize: 10, Timestamp: 7})
	bad[61] = 0x7e // the first record's length: 63, past the batch's end
	record.SetCRC(bad)
	trailing := testbatch.Make(testbatch.Spec{Records: 2, ValueSize: 10, Timestamp: 7})
	trailing = append(trailing, 0)
	record.SetLength(trailing, int32(len(trailing)-12))
	record.SetCRC(trailing)
	record.SetBaseOffset(trailing, 2)
	dir := filepath.Join(t.TempDir(), "f-0")
	os.MkdirAll(dir, 0o755)
	seg := filepath.Join(dir, logfile.SegmentName(0, ".log"))
	os.WriteFile(seg, append(bad, trailing...), 0o644)

	out, code := run(t, "dump-log", "--print-data", seg)
	for _, want := range []string{
		"PROBLEM: batch at offset 0: record: corrupt batch: record framing does not match the header: record 0 length\n",
		"| offset: 2 CreateTime: 7 keySize: -1 valueSize: 10 sequence: -1 headerKeys: [] payload: ",
		"| offset: 3 CreateTime: 8 ",
		"PROBLEM: batch at offset 2: 1 bytes after the last record\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code != 1 || strings.Count(out, "PROBLEM") != 2 {
		t.Errorf("exit %d, want 1 with two problems:\n%s", code, out)
	}
}

// TestDumpLogTransactions: a segment with transactional batches and
// markers prints their flags and, with --print-data, each marker's type
// and coordinator epoch; its .txnindex prints each aborted transaction as
// Kafka's tool does. A torn index is a problem, its whole entries still
// printed; with --verify an entry before the segment's base is one too.
func TestDumpLogTransactions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "t-0")
	l, err := logfile.Open(dir, logfile.DefaultConfig(), logfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := record.NewBuilder(1000)
	b.Header.Attributes = record.AttrTransactional
	b.Header.ProducerID, b.Header.ProducerEpoch, b.Header.BaseSequence = 7, 2, 0
	b.Add(1000, []byte("k"), []byte("v"))
	data, _ := b.AppendTo(nil)
	if _, err := l.Append(data); err != nil {
		t.Fatal(err)
	}
	marker := record.AppendEndTxnMarker(nil, 7, 2, record.EndTxnMarker{Type: record.ControlAbort, CoordinatorEpoch: 4}, 1001)
	bs, err := record.ValidateProduce(marker, 1<<20, true)
	if err != nil {
		t.Fatal(err)
	}
	entry := logfile.AbortedTxn{ProducerID: 7, FirstOffset: 0, LastOffset: 1, LastStableOffset: 2}
	if _, err := l.AppendValidatedTxn(&bs, func(*record.Batches) ([]logfile.AbortedTxn, error) { return []logfile.AbortedTxn{entry}, nil }); err != nil {
		t.Fatal(err)
	}
	l.Close()
	seg := func(suf string) string { return filepath.Join(dir, logfile.SegmentName(0, suf)) }
	out, code := run(t, "dump-log", "--verify", "--print-data", seg(".log"), seg(".txnindex"))
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{
		"baseOffset: 0 lastOffset: 0 count: 1 baseSequence: 0 lastSequence: 0 producerId: 7 producerEpoch: 2",
		"isTransactional: true isControl: false",
		"baseOffset: 1 lastOffset: 1 count: 1 baseSequence: -1 lastSequence: -1 producerId: 7 producerEpoch: 2",
		"isTransactional: true isControl: true",
		"| offset: 1 CreateTime: 1001 keySize: 4 valueSize: 6 sequence: -1 headerKeys: [] endTxnMarker: ABORT coordinatorEpoch: 4",
		"Dumping " + seg(".txnindex"),
		"version: 0 producerId: 7 firstOffset: 0 lastOffset: 1 lastStableOffset: 2",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}

	idx, _ := os.ReadFile(seg(".txnindex"))
	os.WriteFile(seg(".txnindex"), append(idx, 0, 0, 1), 0o644)
	out, code = run(t, "dump-log", seg(".txnindex"))
	if code != 1 || !strings.Contains(out, "lastStableOffset: 2") || !strings.Contains(out, "PROBLEM: ") {
		t.Fatalf("torn index (exit %d):\n%s", code, out)
	}
	moved := filepath.Join(dir, logfile.SegmentName(5, ".txnindex"))
	os.WriteFile(moved, idx, 0o644)
	if out, code := run(t, "dump-log", "--verify", moved); code != 1 || !strings.Contains(out, "before the segment's base offset 5") {
		t.Fatalf("entry before the base (exit %d):\n%s", code, out)
	}
}
