package epochcache

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"samsa/logfile/vfs"
)

// FileName is the checkpoint file in a partition directory. Part of the
// format: never change.
const FileName = "leader-epoch-checkpoint"

// Entry is one leader epoch and the first offset written in it.
type Entry struct {
	Epoch       int32
	StartOffset int64
}

// Cache is one partition's leader epochs (invariant 1) and their file.
type Cache struct {
	fs   vfs.FS
	path string

	mu      sync.Mutex
	entries []Entry
	// dirty: entries assigned without a write (AssignDeferred) are not in
	// the file yet. Changed under mu; read without it by Dirty.
	dirty atomic.Bool
}

// New returns an empty cache kept in the file at path.
func New(fsys vfs.FS, path string) *Cache { return &Cache{fs: fsys, path: path} }

// Load reads the file, if there is one, and drops the entries at or past
// logEnd (a log that recovery cut shorter), rewriting the file if any went.
// A file that does not parse is ignored (invariant 3).
func (c *Cache) Load(logEnd int64, log *slog.Logger) error {
	data, err := vfs.ReadFile(c.fs, c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("epochcache: %w", err)
	}
	entries, err := parse(data)
	if err != nil {
		log.Warn("ignoring unreadable leader epoch checkpoint", "path", c.path, "err", err)
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = entries
	if c.truncateFromEnd(logEnd) {
		return c.write()
	}
	return nil
}

func parse(data []byte) ([]Entry, error) {
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
	out := make([]Entry, 0, n)
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
		out = append(out, Entry{int32(e), o})
	}
	return out, nil
}

// write writes the file. Called with mu held.
func (c *Cache) write() error {
	var b strings.Builder
	fmt.Fprintf(&b, "0\n%d\n", len(c.entries))
	for _, e := range c.entries {
		fmt.Fprintf(&b, "%d %d\n", e.Epoch, e.StartOffset)
	}
	if err := vfs.WriteFileAtomic(c.fs, c.path, []byte(b.String())); err != nil {
		return fmt.Errorf("epochcache: write %s: %w", c.path, err)
	}
	c.dirty.Store(false)
	return nil
}

// Dirty reports whether entries were assigned without a write since the
// last one; it takes no lock, for the append path.
func (c *Cache) Dirty() bool { return c.dirty.Load() }

// WriteDeferred writes the file if entries were assigned without a write
// since the last one. Appends call it before writing their batches
// (invariant 2).
func (c *Cache) WriteDeferred() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dirty.Load() {
		return nil
	}
	return c.write()
}

// truncateFromEnd removes the entries whose start offset is at or past
// end (Kafka's truncateFromEnd); it reports whether any went. Called with
// mu held.
func (c *Cache) truncateFromEnd(end int64) bool {
	es := c.entries
	n := len(es)
	for n > 0 && es[n-1].StartOffset >= end {
		n--
	}
	if n == len(es) {
		return false
	}
	c.entries = es[:n]
	return true
}

// Assign records that epoch begins at startOffset, as a leader does when
// it takes leadership (at its log end) and a follower when it appends the
// first batch of a newer epoch, and writes the file if that changed the
// cache. An epoch not above the latest, or a start offset below the
// latest's, first removes the entries it contradicts (Kafka's assign).
func (c *Cache) Assign(epoch int32, startOffset int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.assign(epoch, startOffset) {
		return nil
	}
	return c.write()
}

// AssignDeferred is Assign but for the write: the entry counts at once
// (EndOffset, Entries), and reaches the file with the next write,
// WriteDeferred's before the first batch appended after it at the latest
// (invariant 2). Taking the leadership of a thousand partitions, new ones
// above all, thus writes no file until each has a batch to append.
func (c *Cache) AssignDeferred(epoch int32, startOffset int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.assign(epoch, startOffset) {
		c.dirty.Store(true)
	}
}

// assign changes the cache as Assign does and reports whether it changed.
// Called with mu held.
func (c *Cache) assign(epoch int32, startOffset int64) bool {
	if epoch < 0 {
		return false
	}
	es := c.entries
	if n := len(es); n > 0 && es[n-1].Epoch == epoch && es[n-1].StartOffset <= startOffset {
		return false
	}
	keep := es[:0:0]
	for _, e := range es {
		if e.Epoch < epoch && e.StartOffset < startOffset {
			keep = append(keep, e)
		}
	}
	c.entries = append(keep, Entry{epoch, startOffset})
	return true
}

// Entries returns a copy of the entries.
func (c *Cache) Entries() []Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Entry(nil), c.entries...)
}

// Latest is the newest epoch, -1 if none.
func (c *Cache) Latest() int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.entries); n > 0 {
		return c.entries[n-1].Epoch
	}
	return -1
}

// EndOffset answers OffsetForLeaderEpoch (Kafka's endOffsetFor) for a log
// that ends at logEnd: the largest epoch at or below requested and the
// offset its leadership ended at — the start of the next epoch, or logEnd
// for the latest epoch. (-1, -1) when requested is above every epoch held
// or the cache is empty; (requested, start of the first epoch) when it is
// below them all.
func (c *Cache) EndOffset(requested int32, logEnd int64) (epoch int32, endOffset int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	es := c.entries
	if requested < 0 || len(es) == 0 {
		return -1, -1
	}
	if es[len(es)-1].Epoch == requested {
		return requested, logEnd
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

// TruncateFromEnd keeps the cache in step with a log cut back to end,
// writing the file if entries went.
func (c *Cache) TruncateFromEnd(end int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.truncateFromEnd(end) {
		return c.write()
	}
	return nil
}

// TruncateFromStart keeps the cache in step with a log start moved to
// start (retention, DeleteRecords): entries wholly below it go, and the
// one holding it starts there (Kafka's truncateFromStart).
func (c *Cache) TruncateFromStart(start int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	es := c.entries
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
	c.entries = es
	return c.write()
}

// Clear removes every entry and writes the file, as a log that starts over
// empty (Kafka's truncateFullyAndStartAt) does.
func (c *Cache) Clear() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = nil
	return c.write()
}
