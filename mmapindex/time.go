package mmapindex

import (
	"encoding/binary"
	"fmt"
	"math"
)

// TimeEntrySize is the size of one .timeindex entry. Part of the format: never change.
const TimeEntrySize = 12

// NoTimestamp is Kafka's "no timestamp" value, returned by lookups that find nothing.
const NoTimestamp = -1

// TimeIndex maps timestamps to offsets for one segment.
//
// One goroutine appends and truncates; any number look up concurrently.
type TimeIndex struct {
	base int64
	m    mapped
	ts   fence
}

// OpenTime maps a time index; see OpenOffset.
func OpenTime(f File, base int64, maxBytes int, writable bool) (*TimeIndex, error) {
	x := &TimeIndex{base: base}
	if err := x.m.load(f, TimeEntrySize, maxBytes, writable, x.checkIncreasing); err != nil {
		return nil, err
	}
	x.ts.build(x.m.data, TimeEntrySize, timeStride, int(x.m.n.Load()), timestampKey)
	return x, nil
}

func (x *TimeIndex) checkIncreasing(n int) error {
	var lastTs, lastRel int64 = math.MinInt64, -1
	for i := range n {
		ts, rel := x.raw(i)
		if ts <= lastTs || rel <= lastRel || rel < 0 {
			return fmt.Errorf("%w: %s: entry %d (%d, %d) does not increase", ErrCorrupt, x.m.f.Name(), i, ts, rel)
		}
		lastTs, lastRel = ts, rel
	}
	return nil
}

func (x *TimeIndex) raw(i int) (ts, rel int64) {
	return timeEntry(x.m.data[i*TimeEntrySize:])
}

// Entry returns entry i as a timestamp and an absolute offset.
func (x *TimeIndex) Entry(i int) (ts, offset int64) {
	ts, rel := x.raw(i)
	return ts, x.base + rel
}

// Last returns the last entry, or (NoTimestamp, base) when empty.
func (x *TimeIndex) Last() (ts, offset int64) {
	n := int(x.m.n.Load())
	if n == 0 {
		return NoTimestamp, x.base
	}
	return x.Entry(n - 1)
}

// Lookup returns the largest entry whose timestamp is <= target, or
// (NoTimestamp, base) when there is none. Every batch before the returned
// offset has a max timestamp <= the returned timestamp.
func (x *TimeIndex) Lookup(target int64) (ts, offset int64) {
	i := x.ts.search(x.m.data, TimeEntrySize, timeStride, int(x.m.n.Load()), timestampKey, target)
	if i < 0 {
		return NoTimestamp, x.base
	}
	return x.Entry(i)
}

// MaybeAppend adds (ts, offset) if ts exceeds the last entry's timestamp, as
// Kafka's TimeIndex.maybeAppend does; it reports whether it appended. The
// last timestamp of an empty index is NoTimestamp, so NoTimestamp itself is
// never appended: a segment without timestamps (an empty one at close or
// roll) keeps an empty time index. Disk is reserved as OffsetIndex.Append
// does: a full disk fails the append and leaves the index unchanged.
func (x *TimeIndex) MaybeAppend(ts, offset int64) (bool, error) {
	if !x.m.writable {
		return false, ErrReadOnly
	}
	n := int(x.m.n.Load())
	rel := offset - x.base
	if rel < 0 || rel > math.MaxInt32 {
		return false, fmt.Errorf("%w: offset %d out of range for base %d", ErrNotIncreasing, offset, x.base)
	}
	lt, lo := x.Last()
	if ts <= lt {
		return false, nil
	}
	if n > 0 && offset <= lo {
		return false, fmt.Errorf("%w: (%d, %d) after (%d, %d)", ErrNotIncreasing, ts, offset, lt, lo)
	}
	if ts == 0 && rel == 0 {
		// All zeros marks free space (invariant 2); an index is only a hint.
		return false, nil
	}
	if n >= x.m.maxEntries {
		return false, ErrFull
	}
	if err := x.m.reserve((n + 1) * TimeEntrySize); err != nil {
		return false, err
	}
	e := x.m.data[n*TimeEntrySize:]
	binary.BigEndian.PutUint64(e, uint64(ts))
	binary.BigEndian.PutUint32(e[8:], uint32(rel))
	if n%timeStride == 0 {
		x.ts.set(n/timeStride, ts)
	}
	x.m.publish(n + 1)
	return true, nil
}

// TruncateTo removes every entry whose offset is >= offset.
func (x *TimeIndex) TruncateTo(offset int64) error {
	keep := int(x.m.n.Load())
	for keep > 0 {
		if _, r := x.raw(keep - 1); x.base+r < offset {
			break
		}
		keep--
	}
	return x.truncate(keep)
}

func (x *TimeIndex) truncate(keep int) error {
	if err := x.m.truncate(keep); err != nil {
		return err
	}
	x.ts.truncate(keep, timeStride, true)
	return nil
}

// Len returns the number of valid entries.
func (x *TimeIndex) Len() int { return int(x.m.n.Load()) }

// MaxEntries returns the capacity of the mapping.
func (x *TimeIndex) MaxEntries() int { return x.m.maxEntries }

// Full reports whether another entry would not fit.
func (x *TimeIndex) Full() bool { return x.Len() >= x.m.maxEntries }

// Reset removes every entry; see OffsetIndex.Reset.
func (x *TimeIndex) Reset() error { return x.truncate(0) }

// Sync flushes the mapping to disk.
func (x *TimeIndex) Sync() error { return x.m.sync() }

// Trim shrinks the file to its entries, never below what a reader may have
// seen, so a closed or rolled segment's index holds no reserved tail.
func (x *TimeIndex) Trim() error {
	x.ts.truncate(x.Len(), timeStride, false)
	return x.m.trim()
}

// Close unmaps and closes the file. No lookup may run concurrently.
func (x *TimeIndex) Close() error { return x.m.close() }
