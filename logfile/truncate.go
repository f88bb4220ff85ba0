package logfile

import (
	"fmt"
)

// TruncateTo removes every batch that holds an offset >= offset, as a
// follower does when its log diverged from the leader's. The truncation is
// durable when it returns (truncationDurable). Segments above it
// are deleted; the segment holding it is cut and becomes the active one. A
// batch that straddles offset goes whole, so the new log end may be below
// offset. Readers holding regions of removed bytes keep valid descriptors
// but may read short.
func (l *Log) TruncateTo(offset int64) error {
	return l.truncating(offset, l.truncateTo)
}

// truncating runs fn with the log's locks held and no background flush
// under way, for an offset that is not negative (as Kafka's: no segment may
// be named by a negative base).
func (l *Log) truncating(offset int64, fn func(offset int64) error) error {
	if offset < 0 {
		return fmt.Errorf("%w: truncate %s to %d", ErrOffsetOutOfRange, l.dir, offset)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.bg.Wait()
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	return fn(offset)
}

// truncateTo is TruncateTo with the locks held.
func (l *Log) truncateTo(offset int64) error {
	if offset >= l.end.Load() {
		return nil
	}
	segs := *l.segs.Load()
	if offset <= segs[0].base || offset < l.start.Load() {
		return l.truncateFully(offset)
	}
	i := segmentFor(segs, offset)
	old := segs[i]
	cfg := l.cfg.Load()
	pos, err := old.locate(offset, old.sizeNow())
	if err != nil {
		return l.fail(fmt.Errorf("logfile: truncate %s: %w", l.dir, err))
	}
	// A fresh writable segment over the same files replaces the old object,
	// which readers may still hold (invariant 4).
	ns, rebuild, err := openSegment(l.fs, l.dir, old.base, cfg, segWritable|segShared)
	if err != nil {
		return l.fail(fmt.Errorf("logfile: truncate %s: %w", l.dir, err))
	}
	if err := ns.log.Truncate(pos); err != nil {
		ns.close()
		return l.fail(fmt.Errorf("logfile: truncate %s: %w", ns.path(LogSuffix), err))
	}
	ns.publish(pos, ns.base)
	if !rebuild {
		if err = ns.idx.TruncateTo(offset); err == nil {
			err = ns.tidx.TruncateTo(offset)
		}
		if err == nil {
			err = ns.loadTail()
		}
		if err != nil {
			// Rebuild into new index files: the old ones may still be
			// mapped by readers of old.
			ns.close()
			if ns, _, err = openSegment(l.fs, l.dir, old.base, cfg, segRebuild|segShared); err != nil {
				return l.fail(fmt.Errorf("logfile: truncate %s: %w", l.dir, err))
			}
			rebuild = true
		}
	}
	if rebuild {
		_, err = ns.recover(cfg, ns.base, l.opts.Logger)
	}
	if err == nil {
		if old.txn.Stale() {
			ns.txn.MarkStale()
		} else {
			// The markers cut off take their entries with them.
			err = ns.txn.TruncateTo(ns.nextNow())
		}
	}
	if err != nil {
		ns.close()
		return l.fail(fmt.Errorf("logfile: truncate %s: %w", l.dir, err))
	}
	ns.rollStart = ns.firstTimestamp(l.opts.Now())
	if err := ns.log.Sync(); err != nil {
		ns.close()
		return l.fail(fmt.Errorf("logfile: truncate %s: %w", l.dir, err))
	}
	ns.synced.Store(pos)
	next := append(append([]*segment(nil), segs[:i]...), ns)
	l.segs.Store(&next)
	end := ns.nextNow()
	l.end.Store(end)
	l.hw.Store(min(l.hw.Load(), end))
	if err := l.epochs.TruncateFromEnd(end); err != nil {
		return l.fail(err)
	}
	l.recoveryPoint.Store(min(l.recoveryPoint.Load(), end))
	old.release()
	for _, s := range segs[i+1:] {
		if err := s.markDeleted(); err != nil {
			l.opts.Logger.Warn("delete segment on truncate", "err", err)
		}
		s.release()
	}
	return l.truncationDurable()
}

// truncationDurable makes a truncation survive a power cut before anything
// is appended after it: the partition directory is fsynced (removed
// segments stay removed, a new one stays) and, for a log of a Dir, the
// checkpoints are rewritten, as Kafka's LogManager.truncateTo does. A
// checkpoint still holding the old recovery point would let an unclean
// open trust unsynced bytes appended after the truncation below it.
// Called with l.mu and l.flushMu held.
func (l *Log) truncationDurable() error {
	if err := l.fs.SyncDir(l.dir); err != nil {
		return l.fail(fmt.Errorf("logfile: truncate %s: %w", l.dir, err))
	}
	l.dirDirty.Store(false)
	if l.opts.checkpoint != nil {
		if err := l.opts.checkpoint(); err != nil {
			return l.fail(fmt.Errorf("logfile: truncate %s: %w", l.dir, err))
		}
	}
	return nil
}

// TruncateFullyAndStartAt deletes every segment and starts the log empty
// at offset, as a follower does whose log ends below its leader's log
// start (Kafka's truncateFullyAndStartAt).
func (l *Log) TruncateFullyAndStartAt(offset int64) error {
	return l.truncating(offset, l.truncateFully)
}

// truncateFully deletes every segment and starts the log empty at offset.
// Called with l.mu and l.flushMu held.
func (l *Log) truncateFully(offset int64) error {
	segs := *l.segs.Load()
	for _, s := range segs {
		if err := s.markDeleted(); err != nil {
			return l.fail(fmt.Errorf("logfile: truncate %s: %w", l.dir, err))
		}
	}
	ns, _, err := openSegment(l.fs, l.dir, offset, l.cfg.Load(), segCreate)
	if err != nil {
		return l.fail(fmt.Errorf("logfile: truncate %s: %w", l.dir, err))
	}
	l.segs.Store(&[]*segment{ns})
	for _, s := range segs {
		s.release()
	}
	l.txnRebuild.Store(-1)
	l.end.Store(offset)
	l.start.Store(offset)
	l.hw.Store(offset)
	l.recoveryPoint.Store(offset)
	if err := l.epochs.Clear(); err != nil {
		return l.fail(err)
	}
	return l.truncationDurable()
}
