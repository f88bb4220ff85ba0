package logfile

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"samsa/logfile/checkpoint"
	"samsa/logfile/compact"
	"samsa/logfile/vfs"
)

// Checkpoint files in a log directory (package checkpoint has their
// format). Part of the format: never change.
const (
	RecoveryPointCheckpoint  = "recovery-point-offset-checkpoint"
	LogStartOffsetCheckpoint = "log-start-offset-checkpoint"
	ReplicationCheckpoint    = "replication-offset-checkpoint"
	CleanShutdownMarker      = ".kafka_cleanshutdown"
)

// TopicPartition names a partition.
type TopicPartition = checkpoint.TopicPartition

// ErrDirLocked: another process holds the log directory.
var ErrDirLocked = errors.New("logfile: log directory is in use by another process")

const (
	lockFile      = ".lock"
	deletedDirSfx = "-delete"
)

// DirOptions configure a log directory.
type DirOptions struct {
	FS     vfs.FS
	Now    func() time.Time
	Logger *slog.Logger
	// ConfigFor returns the configuration of a topic whose logs are found on
	// open. Nil: DefaultConfig.
	ConfigFor func(topic string) Config
	// RetentionCheckInterval is log.retention.check.interval.ms (5 min).
	RetentionCheckInterval time.Duration
	// CheckpointInterval is log.flush.offset.checkpoint.interval.ms (60 s).
	CheckpointInterval time.Duration
	// FlushCheckInterval is log.flush.scheduler.interval.ms: how often
	// flush.ms is checked (1 s).
	FlushCheckInterval time.Duration
	// Cleaner runs the log cleaner (compaction of the logs whose config
	// has Compact) every CleanerBackoff (log.cleaner.backoff.ms, 15 s),
	// with a key map of at most CleanerMaxKeys keys.
	Cleaner        bool
	CleanerBackoff time.Duration
	CleanerMaxKeys int
	// ManualHighWatermark: the logs' high watermarks are set by the
	// replica layer (ZooKeeper mode: the ISR decides), checkpointed in
	// replication-offset-checkpoint and restored from it.
	ManualHighWatermark bool
}

// Dir is one entry of log.dirs: the partition logs in it, its checkpoint
// files and its clean-shutdown marker. It runs retention, time-based
// flushes and checkpointing in the background.
type Dir struct {
	path string
	opts DirOptions
	fs   vfs.FS
	lock *os.File
	// clean: the clean-shutdown marker was found. fresh: nothing of a log
	// directory was (no marker, no recovery-point checkpoint, no partition):
	// a new directory, neither a clean nor an unclean shutdown.
	clean, fresh bool
	loadStats    LoadStats

	mu     sync.Mutex // guards logs and closed
	logs   map[TopicPartition]*Log
	closed bool

	// Checkpoint writes are group-committed: ckMu guards ckNext, the
	// round of callers waiting for the next write (all of them share it),
	// and ckSem, one slot, serializes the writes themselves. A channel
	// rather than a mutex: the next round's writer waits on it durably.
	ckMu   sync.Mutex
	ckNext *ckRound
	ckSem  chan struct{}

	cleaner *compact.Cleaner // nil: no cleaner

	stop chan struct{}
	done chan struct{}
}

// OpenDir locks and opens a log directory, loading every partition in it.
// Without the clean-shutdown marker each log is recovered from its
// checkpointed recovery point. The marker is removed once all logs are
// loaded, so a crash from here on is detected at the next open.
func OpenDir(path string, opts DirOptions) (*Dir, error) {
	if opts.FS == nil {
		opts.FS = vfs.OS
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ConfigFor == nil {
		opts.ConfigFor = func(string) Config { return DefaultConfig() }
	}
	if opts.RetentionCheckInterval <= 0 {
		opts.RetentionCheckInterval = 5 * time.Minute
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = time.Minute
	}
	if opts.FlushCheckInterval <= 0 {
		opts.FlushCheckInterval = time.Second
	}
	d := &Dir{path: path, opts: opts, fs: opts.FS, logs: map[TopicPartition]*Log{}, ckSem: make(chan struct{}, 1)}
	if err := d.fs.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("logfile: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(path, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("logfile: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrDirLocked, path, err)
	}
	d.lock = lock
	if err := d.load(); err != nil {
		d.closeLogs()
		lock.Close()
		return nil, err
	}
	if opts.Cleaner {
		if opts.CleanerBackoff <= 0 {
			opts.CleanerBackoff = 15 * time.Second
		}
		if d.cleaner, err = d.NewCleaner(max(opts.CleanerMaxKeys, 1)); err != nil {
			d.closeLogs()
			lock.Close()
			return nil, err
		}
		d.opts = opts
	}
	d.stop, d.done = make(chan struct{}), make(chan struct{})
	go d.background()
	return d, nil
}

func (d *Dir) load() error {
	marker := filepath.Join(d.path, CleanShutdownMarker)
	_, err := d.fs.Stat(marker)
	d.clean = err == nil
	_, err = d.fs.Stat(filepath.Join(d.path, RecoveryPointCheckpoint))
	d.fresh = !d.clean && errors.Is(err, fs.ErrNotExist)
	rps, err := checkpoint.Read(d.fs, filepath.Join(d.path, RecoveryPointCheckpoint))
	if err != nil {
		return err
	}
	starts, err := checkpoint.Read(d.fs, filepath.Join(d.path, LogStartOffsetCheckpoint))
	if err != nil {
		return err
	}
	hws := map[TopicPartition]int64{}
	if d.opts.ManualHighWatermark {
		if hws, err = checkpoint.Read(d.fs, filepath.Join(d.path, ReplicationCheckpoint)); err != nil {
			return err
		}
	}
	entries, err := d.fs.ReadDir(d.path)
	if err != nil {
		return fmt.Errorf("logfile: %w", err)
	}
	began := d.opts.Now()
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		full := filepath.Join(d.path, name)
		if strings.HasSuffix(name, deletedDirSfx) {
			if err := d.fs.RemoveAll(full); err != nil {
				return fmt.Errorf("logfile: remove deleted partition: %w", err)
			}
			continue
		}
		topic, part, err := ParseDirName(name)
		if err != nil {
			d.opts.Logger.Warn("ignoring directory that is not a partition", "dir", full)
			continue
		}
		d.fresh = false // partitions without a checkpoint: copied in, or the checkpoint lost
		tp := TopicPartition{Topic: topic, Partition: part}
		l, err := Open(full, d.opts.ConfigFor(topic), Options{
			FS: d.fs, Now: d.opts.Now, Logger: d.opts.Logger, Clean: d.clean,
			RecoveryPoint: rps[tp], LogStartOffset: starts[tp], checkpoint: d.Checkpoint,
			ManualHighWatermark: d.opts.ManualHighWatermark, HighWatermark: hws[tp],
		})
		if err != nil {
			return fmt.Errorf("logfile: open %s: %w", full, err)
		}
		d.logs[tp] = l
		d.loadStats = d.loadStats.Add(l.LoadStats())
	}
	d.opts.Logger.Info("loaded log directory", "dir", d.path, "partitions", len(d.logs), "state", d.state(),
		"recovered_segments", d.loadStats.Recovered, "rebuilt_segments", d.loadStats.Rebuilt, "took", d.opts.Now().Sub(began))
	if err := d.Checkpoint(); err != nil {
		return err
	}
	if d.clean {
		if err := d.fs.Remove(marker); err != nil {
			return fmt.Errorf("logfile: remove clean-shutdown marker: %w", err)
		}
		if err := d.fs.SyncDir(d.path); err != nil {
			return fmt.Errorf("logfile: %w", err)
		}
	}
	return nil
}

// Path returns the directory.
func (d *Dir) Path() string { return d.path }

// FS returns the file system the directory's files go through, for the
// files other layers keep in a partition directory (partition.metadata).
func (d *Dir) FS() vfs.FS { return d.fs }

// WasClean reports whether the previous shutdown was clean. It is false for
// a new directory too; see Fresh.
func (d *Dir) WasClean() bool { return d.clean }

// Fresh reports whether the directory held no log data when opened: no
// clean-shutdown marker, no recovery-point checkpoint, no partition. Such a
// directory had no previous shutdown, clean or not.
func (d *Dir) Fresh() bool { return d.fresh }

// LoadStats sums what opening the directory's logs scanned and rebuilt.
func (d *Dir) LoadStats() LoadStats { return d.loadStats }

// state names what the directory was found in, for the log: "new", or the
// previous shutdown, "clean" or "unclean".
func (d *Dir) state() string {
	switch {
	case d.fresh:
		return "new"
	case d.clean:
		return "clean"
	}
	return "unclean"
}

// Get returns a partition's log, or nil.
func (d *Dir) Get(tp TopicPartition) *Log {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.logs[tp]
}

// Logs returns every log, sorted by topic and partition.
func (d *Dir) Logs() []*Log {
	d.mu.Lock()
	out := make([]*Log, 0, len(d.logs))
	for _, l := range d.logs {
		out = append(out, l)
	}
	d.mu.Unlock()
	slices.SortFunc(out, func(a, b *Log) int {
		if c := strings.Compare(a.topic, b.topic); c != 0 {
			return c
		}
		return int(a.partition) - int(b.partition)
	})
	return out
}

// Create makes a new empty log for tp; it returns the existing log if there
// is one.
func (d *Dir) Create(tp TopicPartition, cfg Config) (*Log, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, ErrClosed
	}
	if l := d.logs[tp]; l != nil {
		return l, nil
	}
	if tp.Topic == "" || strings.ContainsAny(tp.Topic, "/\x00") || tp.Topic == "." || tp.Topic == ".." || tp.Partition < 0 {
		return nil, fmt.Errorf("logfile: invalid partition name %q", tp)
	}
	l, err := Open(filepath.Join(d.path, tp.String()), cfg, Options{
		FS: d.fs, Now: d.opts.Now, Logger: d.opts.Logger, Clean: true, checkpoint: d.Checkpoint,
		ManualHighWatermark: d.opts.ManualHighWatermark,
	})
	if err != nil {
		return nil, err
	}
	if err := d.fs.SyncDir(d.path); err != nil {
		l.Close()
		return nil, fmt.Errorf("logfile: %w", err)
	}
	d.logs[tp] = l
	return l, nil
}

// Delete closes a partition's log and removes its files: the directory is
// renamed to "<name>.<nanos>-delete" at once (a restart finishes the job)
// and removed in the background.
func (d *Dir) Delete(tp TopicPartition) error {
	d.mu.Lock()
	l := d.logs[tp]
	delete(d.logs, tp)
	d.mu.Unlock()
	if l == nil {
		return nil
	}
	l.Close()
	gone := l.dir + "." + strconv.FormatInt(d.opts.Now().UnixNano(), 10) + deletedDirSfx
	if err := d.fs.Rename(l.dir, gone); err != nil {
		return fmt.Errorf("logfile: delete %s: %w", tp, err)
	}
	if err := d.fs.SyncDir(d.path); err != nil {
		return fmt.Errorf("logfile: %w", err)
	}
	go func() {
		if err := d.fs.RemoveAll(gone); err != nil {
			d.opts.Logger.Warn("remove deleted partition", "dir", gone, "err", err)
		}
	}()
	return nil
}

// NewCleaner returns a cleaner of the directory's compacted logs (package
// compact), reading its checkpoint; maxKeys bounds each pass's key map
// (compact.Options.MaxKeys). OpenDir runs one when DirOptions.Cleaner is
// set; tests and tools run passes of their own.
func (d *Dir) NewCleaner(maxKeys int) (*compact.Cleaner, error) {
	return compact.NewCleaner(compact.CleanerOptions{FS: d.fs, Dir: d.path, MaxKeys: maxKeys, Now: d.opts.Now, Logger: d.opts.Logger,
		Logs: func() []compact.Log {
			logs := d.Logs()
			out := make([]compact.Log, len(logs))
			for i, l := range logs {
				out[i] = compactLog{l}
			}
			return out
		}})
}

// ckRound is one write of the checkpoint files, shared by every caller
// that joined it before it began.
type ckRound struct {
	done chan struct{} // closed when the write has ended
	err  error         // its result, set before done closes
}

// Checkpoint writes the recovery points, log start offsets and (with
// ManualHighWatermark) high watermarks of every log, as they are when the
// write begins, which is after the call: a caller may rely on what it
// changed before calling being on disk when Checkpoint returns nil.
//
// Concurrent callers share writes: while one write runs, every caller
// joins the next round, which one of them writes once the first ends. A
// burst of calls from any number of goroutines (a truncation per
// partition after a leader change, DeleteRecords requests) costs two
// writes, not one per call.
func (d *Dir) Checkpoint() error {
	d.ckMu.Lock()
	r := d.ckNext
	writer := r == nil
	if writer {
		r = &ckRound{done: make(chan struct{})}
		d.ckNext = r
	}
	d.ckMu.Unlock()
	if !writer {
		<-r.done
		return r.err
	}
	d.ckSem <- struct{}{}
	// From here on a caller needs a write that begins after it.
	d.ckMu.Lock()
	d.ckNext = nil
	d.ckMu.Unlock()
	r.err = d.writeCheckpoints()
	<-d.ckSem
	close(r.done)
	return r.err
}

// writeCheckpoints writes the checkpoint files; called with ckSem held.
func (d *Dir) writeCheckpoints() error {
	rps := map[TopicPartition]int64{}
	starts := map[TopicPartition]int64{}
	hws := map[TopicPartition]int64{}
	for _, l := range d.Logs() {
		tp := TopicPartition{Topic: l.topic, Partition: l.partition}
		rps[tp] = l.RecoveryPoint()
		starts[tp] = l.StartOffset()
		hws[tp] = l.HighWatermark()
	}
	if err := checkpoint.Write(d.fs, filepath.Join(d.path, RecoveryPointCheckpoint), rps); err != nil {
		return err
	}
	if d.opts.ManualHighWatermark {
		if err := checkpoint.Write(d.fs, filepath.Join(d.path, ReplicationCheckpoint), hws); err != nil {
			return err
		}
	}
	return checkpoint.Write(d.fs, filepath.Join(d.path, LogStartOffsetCheckpoint), starts)
}

// RunRetention runs one retention pass over every log and returns the
// number of segments deleted.
func (d *Dir) RunRetention() (int, error) {
	var total int
	var errs []error
	for _, l := range d.Logs() {
		n, err := l.DeleteOldSegments()
		total += n
		if err != nil && !errors.Is(err, ErrClosed) {
			errs = append(errs, fmt.Errorf("%s: %w", l.dir, err))
		}
	}
	return total, errors.Join(errs...)
}

func (d *Dir) background() {
	defer close(d.done)
	ret := time.NewTicker(d.opts.RetentionCheckInterval)
	ck := time.NewTicker(d.opts.CheckpointInterval)
	fl := time.NewTicker(d.opts.FlushCheckInterval)
	defer ret.Stop()
	defer ck.Stop()
	defer fl.Stop()
	var clean <-chan time.Time
	if d.cleaner != nil {
		cl := time.NewTicker(d.opts.CleanerBackoff)
		defer cl.Stop()
		clean = cl.C
	}
	for {
		select {
		case <-d.stop:
			return
		case <-ret.C:
			if _, err := d.RunRetention(); err != nil {
				d.opts.Logger.Error("retention", "err", err)
			}
		case <-ck.C:
			if err := d.Checkpoint(); err != nil {
				d.opts.Logger.Error("checkpoint", "err", err)
			}
		case <-clean:
			if _, err := d.cleaner.RunOnce(false); err != nil {
				d.opts.Logger.Error("log cleaner", "err", err)
			}
		case <-fl.C:
			now := d.opts.Now()
			for _, l := range d.Logs() {
				if err := l.MaybeFlush(now); err != nil && !errors.Is(err, ErrClosed) {
					d.opts.Logger.Error("flush", "dir", l.dir, "err", err)
				}
			}
		}
	}
}

func (d *Dir) closeLogs() error {
	var errs []error
	for _, l := range d.Logs() {
		errs = append(errs, l.Close())
	}
	return errors.Join(errs...)
}

// Close stops the background work, closes (flushes) every log, writes the
// checkpoints and, if all of that worked, the clean-shutdown marker.
func (d *Dir) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	close(d.stop)
	<-d.done
	err := d.closeLogs()
	for _, l := range d.Logs() {
		if l.Err() != nil {
			err = errors.Join(err, l.Err())
		}
	}
	if cerr := d.Checkpoint(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err == nil {
		err = vfs.WriteFileAtomic(d.fs, filepath.Join(d.path, CleanShutdownMarker), nil)
	}
	d.lock.Close()
	return err
}
