package logfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"samsa/logfile/vfs"
)

// LeaderEpochCheckpoint is the file in a partition directory that holds
// the leader epoch cache (Kafka's LeaderEpochFileCache): for each leader
// epoch, the first offset written in it. Text, as Kafka writes it:
//
//	0                 version
//	2                 number of entries
//	0 0               epoch startOffset
//	3 1200
//
// Written to a .tmp file, fsynced and renamed. Part of the format: never
// change.
const LeaderEpochCheckpoint = "leader-epoch-checkpoint"

// EpochEntry is one leader epoch and the first offset written in it.
type EpochEntry struct {
	Epoch       int32
	StartOffset int64
}

// epochCache is a log's leader epochs, ascending in both epoch and start
// offset (invariant: an entry is added only above the last one; one that
// is not removes the entries it contradicts, as Kafka's does).
type epochCache struct {
	mu      sync.Mutex
	entries []EpochEntry
	// dirty: entries assigned without a write (AssignEpochDeferred) are
	// not in the checkpoint file yet. Changed under mu; appends read it
	// without the lock and write the file before their batches.
	dirty atomic.Bool
}

func (l *Log) epochPath() string { return filepath.Join(l.dir, LeaderEpochCheckpoint) }

// loadEpochs reads the checkpoint and drops entries past the log end (a
// log truncated by recovery).
func (l *Log) loadEpochs() error {
	data, err := vfs.ReadFile(l.fs, l.epochPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("logfile: %w", err)
	}
	entries, err := parseEpochs(data)
	if err != nil {
		// A broken cache is rebuilt by the leader's next assignment; the
		// log itself is fine. Losing it makes divergence checks coarser,
		// never wrong: a follower then truncates to its high watermark.
		l.opts.Logger.Warn("ignoring unreadable leader epoch checkpoint", "path", l.epochPath(), "err", err)
		return nil
	}
	l.epochs.entries = entries
	end := l.end.Load()
	if l.truncateEpochsFrom(end) {
		return l.writeEpochs()
	}
	return nil
}

func parseEpochs(data []byte) ([]EpochEntry, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		return strings.TrimSpace(sc.Text()), true
	}
	v, ok := line()
	if !ok || v != "0" {
		return nil, fmt.Errorf("version %q", v)
	}
	c, ok := line()
	n, err := strconv.Atoi(c)
	if !ok || err != nil || n < 0 || n > 1<<20 {
		return nil, fmt.Errorf("count %q", c)
	}
	out := make([]EpochEntry, 0, n)
	for i := range n {
		s, ok := line()
		f := strings.Fields(s)
		if !ok || len(f) != 2 {
			return nil, fmt.Errorf("entry %d: %q", i, s)
		}
		e, err1 := strconv.ParseInt(f[0], 10, 32)
		o, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil || e < 0 || o < 0 {
			return nil, fmt.Errorf("entry %d: %q", i, s)
		}
		if len(out) > 0 && (int32(e) <= out[len(out)-1].Epoch || o < out[len(out)-1].StartOffset) {
			return nil, fmt.Errorf("entry %d: %q not above the one before", i, s)
		}
		out = append(out, EpochEntry{int32(e), o})
	}
	return out, nil
}

func (l *Log) writeEpochs() error {
	var b strings.Builder
	fmt.Fprintf(&b, "0\n%d\n", len(l.epochs.entries))
	for _, e := range l.epochs.entries {
		fmt.Fprintf(&b, "%d %d\n", e.Epoch, e.StartOffset)
	}
	if err := vfs.WriteFileAtomic(l.fs, l.epochPath(), []byte(b.String())); err != nil {
		return fmt.Errorf("logfile: write %s: %w", l.epochPath(), err)
	}
	l.epochs.dirty.Store(false)
	return nil
}

// writeDeferredEpochs writes the checkpoint file if entries were assigned
// without a write since the last one. Appends call it before writing their
// batches: a batch reaches the disk only after the entry of its epoch.
func (l *Log) writeDeferredEpochs() error {
	l.epochs.mu.Lock()
	defer l.epochs.mu.Unlock()
	if !l.epochs.dirty.Load() {
		return nil
	}
	return l.writeEpochs()
}

// truncateEpochsFrom removes the entries whose start offset is at or past
// end (Kafka's truncateFromEnd); it reports whether any went.
func (l *Log) truncateEpochsFrom(end int64) bool {
	es := l.epochs.entries
	n := len(es)
	for n > 0 && es[n-1].StartOffset >= end {
		n--
	}
	if n == len(es) {
		return false
	}
	l.epochs.entries = es[:n]
	return true
}

// AssignEpoch records that epoch begins at startOffset, as a leader does
// when it takes leadership (at its log end) and a follower when it appends
// the first batch of a newer epoch. An epoch not above the latest, or a
// start offset below the latest's, first removes the entries it
// contradicts (Kafka's assign).
func (l *Log) AssignEpoch(epoch int32, startOffset int64) error {
	l.epochs.mu.Lock()
	defer l.epochs.mu.Unlock()
	if !l.assignEpoch(epoch, startOffset) {
		return nil
	}
	return l.writeEpochs()
}

// AssignEpochDeferred is AssignEpoch but for the write: the entry counts
// at once (EpochEndOffset, Epochs), and reaches the checkpoint file before
// the first batch appended after it, or with any earlier write of the
// file. Taking the leadership of a thousand partitions, new ones above all,
// thus writes no file until each has a batch to append. A crash before the
// write loses the entry but no batch of its epoch, so the cache on disk
// still covers every batch on disk; the next leadership assigns anew.
func (l *Log) AssignEpochDeferred(epoch int32, startOffset int64) {
	l.epochs.mu.Lock()
	defer l.epochs.mu.Unlock()
	if l.assignEpoch(epoch, startOffset) {
		l.epochs.dirty.Store(true)
	}
}

// assignEpoch changes the cache as AssignEpoch does and reports whether it
// changed. Called with epochs.mu held.
func (l *Log) assignEpoch(epoch int32, startOffset int64) bool {
	if epoch < 0 {
		return false
	}
	es := l.epochs.entries
	if n := len(es); n > 0 && es[n-1].Epoch == epoch && es[n-1].StartOffset <= startOffset {
		return false
	}
	keep := es[:0:0]
	for _, e := range es {
		if e.Epoch < epoch && e.StartOffset < startOffset {
			keep = append(keep, e)
		}
	}
	l.epochs.entries = append(keep, EpochEntry{epoch, startOffset})
	return true
}

// Epochs returns a copy of the leader epoch cache.
func (l *Log) Epochs() []EpochEntry {
	l.epochs.mu.Lock()
	defer l.epochs.mu.Unlock()
	return append([]EpochEntry(nil), l.epochs.entries...)
}

// LatestEpoch is the newest epoch in the cache, -1 if none.
func (l *Log) LatestEpoch() int32 {
	l.epochs.mu.Lock()
	defer l.epochs.mu.Unlock()
	if n := len(l.epochs.entries); n > 0 {
		return l.epochs.entries[n-1].Epoch
	}
	return -1
}

// EpochEndOffset answers OffsetForLeaderEpoch (Kafka's endOffsetFor): the
// largest epoch at or below requested and the offset its leadership ended
// at — the start of the next epoch, or the log end for the latest epoch.
// (-1, -1) when requested is above every epoch held or the cache is empty;
// (requested, start of the first epoch) when it is below them all.
func (l *Log) EpochEndOffset(requested int32) (epoch int32, endOffset int64) {
	l.epochs.mu.Lock()
	defer l.epochs.mu.Unlock()
	es := l.epochs.entries
	if requested < 0 || len(es) == 0 {
		return -1, -1
	}
	if es[len(es)-1].Epoch == requested {
		return requested, l.end.Load()
	}
	higher := -1
	for i, e := range es {
		if e.Epoch > requested {
			higher = i
			break
		}
	}
	if higher < 0 {
		return -1, -1
	}
	if higher == 0 {
		return requested, es[0].StartOffset
	}
	return es[higher-1].Epoch, es[higher].StartOffset
}

// epochsTruncated keeps the cache in step with a log cut back to end.
func (l *Log) epochsTruncated(end int64) error {
	l.epochs.mu.Lock()
	defer l.epochs.mu.Unlock()
	if l.truncateEpochsFrom(end) {
		return l.writeEpochs()
	}
	return nil
}

// epochsStartMoved keeps the cache in step with a log start moved to
// start (retention, DeleteRecords): entries wholly below it go, and the
// one holding it starts there (Kafka's truncateFromStart).
func (l *Log) epochsStartMoved(start int64) error {
	l.epochs.mu.Lock()
	defer l.epochs.mu.Unlock()
	es := l.epochs.entries
	i := 0
	for i+1 < len(es) && es[i+1].StartOffset <= start {
		i++
	}
	if len(es) == 0 || (i == 0 && es[0].StartOffset >= start) {
		return nil
	}
	es = es[i:]
	if es[0].StartOffset < start {
		es[0].StartOffset = start
	}
	l.epochs.entries = es
	return l.writeEpochs()
}
