package checkpoint

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"samsa/logfile/vfs"
)

// version is the only version of the format. Part of the format: never
// change.
const version = 0

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return tp.Topic + "-" + strconv.Itoa(int(tp.Partition)) }

// ErrMalformed: a checkpoint file that does not parse (invariant 2).
var ErrMalformed = errors.New("checkpoint: malformed checkpoint file")

// Write writes offsets to path (invariant 1).
func Write(fsys vfs.FS, path string, offsets map[TopicPartition]int64) error {
	if err := vfs.WriteFileAtomic(fsys, path, encode(offsets)); err != nil {
		return fmt.Errorf("checkpoint: write: %w", err)
	}
	return nil
}

// encode returns the bytes of a file holding offsets, sorted.
func encode(offsets map[TopicPartition]int64) []byte {
	tps := make([]TopicPartition, 0, len(offsets))
	for tp := range offsets {
		tps = append(tps, tp)
	}
	slices.SortFunc(tps, func(a, b TopicPartition) int {
		if c := strings.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		return int(a.Partition) - int(b.Partition)
	})
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d\n%d\n", version, len(tps))
	for _, tp := range tps {
		fmt.Fprintf(&b, "%s %d %d\n", tp.Topic, tp.Partition, offsets[tp])
	}
	return b.Bytes()
}

// Read reads the checkpoint file at path; a missing file is an empty map.
func Read(fsys vfs.FS, path string) (map[TopicPartition]int64, error) {
	data, err := vfs.ReadFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[TopicPartition]int64{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: read: %w", err)
	}
	return Parse(data)
}

// Parse parses the bytes of a checkpoint file.
func Parse(data []byte) (map[TopicPartition]int64, error) {
	bad := func(line int, why string) error {
		return fmt.Errorf("%w: line %d: %s", ErrMalformed, line, why)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	nextLine := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		line++
		return sc.Text(), true
	}
	v, ok := nextLine()
	if !ok {
		return nil, bad(1, "missing version")
	}
	if v != strconv.Itoa(version) {
		return nil, bad(1, fmt.Sprintf("unsupported version %q", v))
	}
	c, ok := nextLine()
	count, err := strconv.Atoi(c)
	if !ok || err != nil || count < 0 {
		return nil, bad(2, fmt.Sprintf("bad count %q", c))
	}
	out := make(map[TopicPartition]int64, min(count, 1<<16))
	for range count {
		s, ok := nextLine()
		if !ok {
			return nil, bad(line+1, fmt.Sprintf("expected %d entries, found %d", count, len(out)))
		}
		f := strings.Fields(s)
		if len(f) != 3 {
			return nil, bad(line, fmt.Sprintf("want 3 fields, got %q", s))
		}
		p, err1 := strconv.ParseInt(f[1], 10, 32)
		o, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || p < 0 {
			return nil, bad(line, fmt.Sprintf("bad numbers in %q", s))
		}
		out[TopicPartition{f[0], int32(p)}] = o
	}
	if s, ok := nextLine(); ok && strings.TrimSpace(s) != "" {
		return nil, bad(line, "data after the last entry")
	}
	return out, sc.Err()
}
