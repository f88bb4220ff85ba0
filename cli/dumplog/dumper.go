package dumplog

// Which files are dumped, in what order, and how problems are counted.

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"samsa/logfile"
	"samsa/record"
)

// maxDecompressed bounds what --print-data inflates one batch to: a
// corrupt or hostile batch costs at most this much memory.
const maxDecompressed = 256 << 20

type dumper struct {
	out       io.Writer
	errOut    io.Writer // notes and errors
	verify    bool
	printData bool
	problems  int
}

func (d *dumper) problem(format string, args ...any) {
	d.problems++
	fmt.Fprintf(d.out, "PROBLEM: "+format+"\n", args...)
}

// fail reports a file that could not be dumped at all.
func (d *dumper) fail(path string, err error) {
	fmt.Fprintf(d.errOut, "samsa dump-log: %s: %v\n", path, err)
	d.problems++
}

// Rank of each file kind when a directory is dumped: a segment's files
// together, the .log first.
var kinds = map[string]int{logfile.LogSuffix: 0, logfile.IndexSuffix: 1, logfile.TimeIndexSuffix: 2, logfile.TxnIndexSuffix: 3, snapshotSuffix: 4}

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
			fmt.Fprintf(d.errOut, "Ignoring directory %s\n", filepath.Join(path, e.Name()))
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
	case logfile.TxnIndexSuffix:
		dump = d.txnIndex
	case snapshotSuffix:
		dump = d.snapshot
	default:
		fmt.Fprintf(d.errOut, "Ignoring %s: not a .log, .index, .timeindex, .txnindex or .snapshot file\n", path)
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
