package mmapindex

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
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

	// n is the published entry count (invariant 4).
	n atomic.Int64
}

// OpenTime maps a time index; see OpenOffset.
func OpenTime(f File, base int64, maxBytes int, writable bool) (*TimeIndex, error) {
	x := &TimeIndex{base: base}
	size, err := x.m.open(f, TimeEntrySize, maxBytes, writable)
	if err != nil && !(writable && errors.Is(err, ErrCorrupt) && x.m.data != nil) {
		x.m.close()
		return nil, err
	}
	n := 0
	if err == nil {
		n, err = x.m.validPrefix(int(size / TimeEntrySize))
	}
	if err == nil {
		err = x.checkIncreasing(n)
	}
	if err != nil {
		if writable {
			x.m.peak = int(size / TimeEntrySize)
			return x, err
		}
		x.m.close()
		return nil, err
	}
	x.m.peak = n
	x.n.Store(int64(n))
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
	e := x.m.data[i*TimeEntrySize:]
	return int64(binary.BigEndian.Uint64(e)), int64(int32(binary.BigEndian.Uint32(e[8:])))
}

// Len returns the number of valid entries.
func (x *TimeIndex) Len() int { return int(x.n.Load()) }

// MaxEntries returns the capacity of the mapping.
func (x *TimeIndex) MaxEntries() int { return x.m.maxEntries }

// Full reports whether Append would return ErrFull.
func (x *TimeIndex) Full() bool { return int(x.n.Load()) >= x.m.maxEntries }

// Entry returns entry i as a timestamp and an absolute offset.
func (x *TimeIndex) Entry(i int) (ts, offset int64) {
	ts, rel := x.raw(i)
	return ts, x.base + rel
}

// Last returns the last entry, or (NoTimestamp, base) when empty.
func (x *TimeIndex) Last() (ts, offset int64) {
	n := int(x.n.Load())
	if n == 0 {
		return NoTimestamp, x.base
	}
	return x.Entry(n - 1)
}

// Lookup returns the largest entry whose timestamp is <= target, or
// (NoTimestamp, base) when there is none. Every batch before the returned
// offset has a max timestamp <= the returned timestamp.
func (x *TimeIndex) Lookup(target int64) (ts, offset int64) {
	n := int(x.n.Load())
	lo, hi := 0, n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if t, _ := x.raw(mid); t <= target {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return NoTimestamp, x.base
	}
	return x.Entry(lo - 1)
}

// MaybeAppend adds (ts, offset) if ts exceeds the last entry's timestamp, as
// Kafka does; it reports whether it appended.
func (x *TimeIndex) MaybeAppend(ts, offset int64) (bool, error) {
	if !x.m.writable {
		return false, ErrReadOnly
	}
	n := int(x.n.Load())
	rel := offset - x.base
	if rel < 0 || rel > math.MaxInt32 {
		return false, fmt.Errorf("%w: offset %d out of range for base %d", ErrNotIncreasing, offset, x.base)
	}
	if n > 0 {
		lt, lr := x.raw(n - 1)
		if ts <= lt {
			return false, nil
		}
		if rel <= lr {
			return false, fmt.Errorf("%w: (%d, %d) after (%d, %d)", ErrNotIncreasing, ts, offset, lt, x.base+lr)
		}
	}
	if ts == 0 && rel == 0 {
		// All zeros marks free space (invariant 2); an index is only a hint.
		return false, nil
	}
	if n >= x.m.maxEntries {
		return false, ErrFull
	}
	e := x.m.data[n*TimeEntrySize:]
	binary.BigEndian.PutUint64(e, uint64(ts))
	binary.BigEndian.PutUint32(e[8:], uint32(rel))
	x.n.Store(int64(n + 1))
	x.m.peak = max(x.m.peak, n+1)
	return true, nil
}

// TruncateTo removes every entry whose offset is >= offset.
func (x *TimeIndex) TruncateTo(offset int64) error {
	if !x.m.writable {
		return ErrReadOnly
	}
	keep := int(x.n.Load())
	for keep > 0 {
		if _, r := x.raw(keep - 1); x.base+r < offset {
			break
		}
		keep--
	}
	x.n.Store(int64(keep))
	x.m.zeroFrom(keep)
	return nil
}

// Reset removes every entry, for a rebuild.
func (x *TimeIndex) Reset() error {
	if !x.m.writable {
		return ErrReadOnly
	}
	x.n.Store(0)
	x.m.zeroFrom(0)
	return nil
}

// Sync flushes the mapping to disk.
func (x *TimeIndex) Sync() error { return x.m.sync() }

// Trim shrinks the file to its entries; see OffsetIndex.Trim.
func (x *TimeIndex) Trim() error { return x.m.trim() }

// Close unmaps and closes the file. No lookup may run concurrently.
func (x *TimeIndex) Close() error { return x.m.close() }
