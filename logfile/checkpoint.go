package logfile

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

// Checkpoint file names in a log directory. Part of the format: never change.
const (
	RecoveryPointCheckpoint  = "recovery-point-offset-checkpoint"
	LogStartOffsetCheckpoint = "log-start-offset-checkpoint"
	ReplicationCheckpoint    = "replication-offset-checkpoint"
	CleanShutdownMarker      = ".kafka_cleanshutdown"
	checkpointVersion        = 0
)

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return tp.Topic + "-" + strconv.Itoa(int(tp.Partition)) }

// WriteCheckpoint writes offsets in Kafka's checkpoint format (a version
// line, a count line, then "topic partition offset" lines) to a temporary
// file that is fsynced and renamed over path.
func WriteCheckpoint(fsys vfs.FS, path string, offsets map[TopicPartition]int64) error {
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
	fmt.Fprintf(&b, "%d\n%d\n", checkpointVersion, len(tps))
	for _, tp := range tps {
		fmt.Fprintf(&b, "%s %d %d\n", tp.Topic, tp.Partition, offsets[tp])
	}
	if err := vfs.WriteFileAtomic(fsys, path, b.Bytes()); err != nil {
		return fmt.Errorf("logfile: write checkpoint: %w", err)
	}
	return nil
}

// ErrBadCheckpoint: a checkpoint file that does not parse.
var ErrBadCheckpoint = errors.New("logfile: malformed checkpoint file")

// ReadCheckpoint reads a checkpoint file; a missing file is an empty map.
func ReadCheckpoint(fsys vfs.FS, path string) (map[TopicPartition]int64, error) {
	data, err := vfs.ReadFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[TopicPartition]int64{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("logfile: read checkpoint: %w", err)
	}
	return ParseCheckpoint(data)
}

// ParseCheckpoint parses the bytes of a checkpoint file.
func ParseCheckpoint(data []byte) (map[TopicPartition]int64, error) {
	bad := func(line int, why string) error {
		return fmt.Errorf("%w: line %d: %s", ErrBadCheckpoint, line, why)
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
	if v != strconv.Itoa(checkpointVersion) {
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
