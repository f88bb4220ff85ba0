package logfile

import (
	"fmt"

	"samsa/logfile/internal/segment"
)

// DeleteOldSegments applies retention and the log start offset, oldest
// segment first, and returns how many segments it deleted. A segment goes
// when it lies wholly below the log start offset, when its newest timestamp
// is older than retention.ms, or while the log is larger than
// retention.bytes without it; only segments wholly below the high watermark
// go, and never the active one (an expired active segment is rolled first,
// as Kafka does, so that its data can expire). A compact-only log
// (NoDelete) loses segments only to the log start offset.
func (l *Log) DeleteOldSegments() (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	cfg := l.cfg.Load()
	now := l.opts.Now()
	expired := func(s *segment.Segment) bool {
		if cfg.RetentionMs < 0 || cfg.NoDelete {
			return false
		}
		ts := s.MaxTimestamp()
		if ts < 0 {
			fi, err := s.File.Stat()
			if err != nil {
				return false
			}
			ts = fi.ModTime().UnixMilli()
		}
		return now.UnixMilli()-ts > cfg.RetentionMs
	}
	hw := l.hw.Load()
	if act := l.active(); act.Size() > 0 && act.Next() <= hw && expired(act) && l.Err() == nil {
		if _, err := l.roll(); err != nil {
			return 0, err
		}
	}
	segs := *l.segs.Load()
	total := l.Size()
	start := l.start.Load()
	n := 0
	for ; n < len(segs)-1; n++ {
		s := segs[n]
		if s.Next() > hw {
			break
		}
		size := s.Size()
		byStart := segs[n+1].Base() <= start
		byBytes := cfg.RetentionBytes >= 0 && !cfg.NoDelete && total-size >= cfg.RetentionBytes
		if !byStart && !byBytes && !expired(s) {
			break
		}
		total -= size
	}
	if n == 0 {
		return 0, nil
	}
	return n, l.deleteFirst(n)
}

// deleteFirst removes the first n segments from the list and their files
// once no reader holds them. Called with l.mu held.
func (l *Log) deleteFirst(n int) error {
	segs := *l.segs.Load()
	rest := append([]*segment.Segment(nil), segs[n:]...)
	l.segs.Store(&rest)
	if b := rest[0].Base(); b > l.start.Load() {
		l.start.Store(b)
		if err := l.epochs.TruncateFromStart(b); err != nil {
			l.opts.Logger.Warn("leader epoch checkpoint", "err", err)
		}
	}
	var firstErr error
	for _, s := range segs[:n] {
		if err := s.MarkDeleted(); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("logfile: delete segment: %w", err)
		}
		l.opts.Logger.Info("deleted segment", "dir", l.dir, "base", s.Base(), "next", s.Next(), "bytes", s.Size())
		s.Release()
	}
	return firstErr
}

// DeleteRecordsBefore moves the log start offset up to offset (Kafka's
// DeleteRecords), deleting the segments wholly below it, and returns the new
// log start offset. offset may not pass the high watermark.
func (l *Log) DeleteRecordsBefore(offset int64) (int64, error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0, ErrClosed
	}
	if hw := l.hw.Load(); offset > hw || offset < 0 {
		l.mu.Unlock()
		return 0, fmt.Errorf("%w: %d past the high watermark %d", ErrOffsetOutOfRange, offset, hw)
	}
	if offset > l.start.Load() {
		l.start.Store(offset)
		if err := l.epochs.TruncateFromStart(offset); err != nil {
			l.opts.Logger.Warn("leader epoch checkpoint", "err", err)
		}
	}
	l.mu.Unlock()
	_, err := l.DeleteOldSegments()
	return l.start.Load(), err
}
