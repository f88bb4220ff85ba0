package segment

import (
	"errors"
	"fmt"
	"math"
	"time"

	"samsa/mmapindex"
	"samsa/record"
)

// Recover rebuilds a segment's indexes from its batches, checking each, and
// cuts the file at the first invalid one; it reports whether it cut.
func (s *Segment) Recover(indexInterval, minOffset int64, log interface{ Warn(string, ...any) }) (bool, error) {
	if err := s.resetIndexes(); err != nil {
		return false, err
	}
	s.maxTs.Store(-1)
	s.maxTsOffset.Store(s.base)
	s.bytesSinceIndex = 0
	s.HasControl = false
	next := s.base
	size := s.Size()
	end, err := s.scan(0, size, max(minOffset, s.base), func(h *record.Header, pos int64) error {
		if h.LastOffset()-s.base > math.MaxInt32 {
			return fmt.Errorf("%w: offset %d too far from base %d", record.ErrCorrupt, h.LastOffset(), s.base)
		}
		s.HasControl = s.HasControl || h.IsControl()
		next = h.NextOffset()
		return s.IndexBatch(h, pos, indexInterval)
	})
	if err == nil {
		s.Publish(size, next)
		return false, nil
	}
	if !errors.Is(err, record.ErrCorrupt) {
		return false, err
	}
	log.Warn("cutting log at the first invalid batch", "segment", s.Path(LogSuffix), "position", end, "dropped_bytes", size-end, "reason", err)
	if err := s.File.Truncate(end); err != nil {
		return false, fmt.Errorf("logfile: cut %s: %w", s.Path(LogSuffix), err)
	}
	if err := s.File.Sync(); err != nil {
		return false, fmt.Errorf("logfile: cut %s: %w", s.Path(LogSuffix), err)
	}
	s.Publish(end, next)
	return true, nil
}

// LoadTail finds the end offset and largest timestamp of a cleanly closed
// segment by scanning from its last index entry, checking that the indexes
// agree with the log.
func (s *Segment) LoadTail() error {
	lastOff, pos := s.Index.Last()
	size := s.Size()
	if pos > size {
		return fmt.Errorf("%w: index entry at %d past log size %d", record.ErrCorrupt, pos, size)
	}
	if ts, off := s.TimeIndex.Last(); ts != -1 {
		s.maxTs.Store(ts)
		s.maxTsOffset.Store(off)
	}
	next := s.base
	first := true
	end, err := s.scan(pos, size, s.base, func(h *record.Header, p int64) error {
		if first && s.Index.Len() > 0 && h.LastOffset() != lastOff {
			return fmt.Errorf("%w: index entry (%d, %d) but batch there ends at %d", record.ErrCorrupt, lastOff, pos, h.LastOffset())
		}
		first = false
		if h.MaxTimestamp > s.maxTs.Load() {
			s.maxTs.Store(h.MaxTimestamp)
			s.maxTsOffset.Store(h.LastOffset())
		}
		next = h.NextOffset()
		return nil
	})
	if err != nil {
		return err
	}
	if end != size {
		return fmt.Errorf("%w: scan ended at %d of %d", record.ErrCorrupt, end, size)
	}
	if s.Index.Len() > 0 && first {
		return fmt.Errorf("%w: index entry at %d with no batch there", record.ErrCorrupt, pos)
	}
	if s.legacyNoTimestampEntry() {
		// Written by Samsa before time indexes followed Kafka's maybeAppend
		// rule (mmapindex invariant 8): a segment closed, rolled or indexed
		// before any timestamp, above all an empty one, got the entry
		// (NoTimestamp, base). It says nothing, so it is no fault. A
		// writable (active) segment drops it, zeroing 12 bytes, because a
		// later entry at base would not increase past it; a read-only one
		// keeps it, and lookups take it for no entry.
		if err := s.TimeIndex.Reset(); err != nil && !errors.Is(err, mmapindex.ErrReadOnly) {
			return err
		}
	} else if _, off := s.TimeIndex.Last(); s.TimeIndex.Len() > 0 && off >= next {
		return fmt.Errorf("%w: time index offset %d past segment end %d", record.ErrCorrupt, off, next)
	}
	s.Publish(size, next)
	s.bytesSinceIndex = size - pos
	return nil
}

// legacyNoTimestampEntry reports whether the time index holds just the
// (NoTimestamp, base) entry that older Samsa wrote when closing or rolling a
// segment without timestamps.
func (s *Segment) legacyNoTimestampEntry() bool {
	if s.TimeIndex.Len() != 1 {
		return false
	}
	ts, off := s.TimeIndex.Entry(0)
	return ts == mmapindex.NoTimestamp && off == s.base
}

// StartTime is when the segment started, for segment.ms: the first
// batch's max timestamp when plausible, now otherwise.
func (s *Segment) StartTime(now time.Time) time.Time {
	if s.Size() == 0 {
		return time.Time{}
	}
	h, err := s.HeaderAt(0, s.Size())
	if err != nil || h.MaxTimestamp <= 0 || h.MaxTimestamp > now.UnixMilli() {
		return now
	}
	return time.UnixMilli(h.MaxTimestamp)
}
