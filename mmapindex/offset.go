package mmapindex

import (
	"encoding/binary"
	"fmt"
	"math"
)

// OffsetEntrySize is the size of one .index entry. Part of the format: never change.
const OffsetEntrySize = 8

// OffsetIndex maps offsets to .log positions for one segment.
//
// One goroutine appends and truncates; any number look up concurrently.
type OffsetIndex struct {
	base     int64
	m        mapped
	rel, pos fence
}

// OpenOffset maps an offset index for the segment whose first offset is base.
// A writable index holds up to maxBytes of entries and reserves disk for them
// a step at a time (invariant 3), from room for one more entry on open, so a
// full disk fails the open of a new index. An existing file is checked
// (see the package comment) at a cost that grows with its valid entries, not
// with its size; a file that fails is ErrCorrupt, closed and left untouched
// for the caller to replace with a new file and rebuild.
func OpenOffset(f File, base int64, maxBytes int, writable bool) (*OffsetIndex, error) {
	x := &OffsetIndex{base: base}
	if err := x.m.load(f, OffsetEntrySize, maxBytes, writable, x.checkIncreasing); err != nil {
		return nil, err
	}
	n := int(x.m.n.Load())
	x.rel.build(x.m.data, OffsetEntrySize, offsetStride, n, relOffsetKey)
	x.pos.build(x.m.data, OffsetEntrySize, offsetStride, n, positionKey)
	return x, nil
}

func (x *OffsetIndex) checkIncreasing(n int) error {
	var lastRel, lastPos int64 = -1, -1
	for i := range n {
		rel, pos := x.raw(i)
		if rel <= lastRel || pos <= lastPos || rel < 0 || pos < 0 {
			return fmt.Errorf("%w: %s: entry %d (%d, %d) does not increase", ErrCorrupt, x.m.f.Name(), i, rel, pos)
		}
		lastRel, lastPos = rel, pos
	}
	return nil
}

func (x *OffsetIndex) raw(i int) (rel, pos int64) {
	return offsetEntry(x.m.data[i*OffsetEntrySize:])
}

// Base returns the segment's base offset.
func (x *OffsetIndex) Base() int64 { return x.base }

// Entry returns entry i as an absolute offset and a position.
func (x *OffsetIndex) Entry(i int) (offset, pos int64) {
	rel, pos := x.raw(i)
	return x.base + rel, pos
}

// Last returns the last entry, or (base, 0) when the index is empty.
func (x *OffsetIndex) Last() (offset, pos int64) {
	n := int(x.m.n.Load())
	if n == 0 {
		return x.base, 0
	}
	return x.Entry(n - 1)
}

// Lookup returns the largest entry whose offset is <= target, or (base, 0)
// when there is none: the position from which to scan for target.
func (x *OffsetIndex) Lookup(target int64) (offset, pos int64) {
	i := x.rel.search(x.m.data, OffsetEntrySize, offsetStride, int(x.m.n.Load()), relOffsetKey, target-x.base)
	if i < 0 {
		return x.base, 0
	}
	return x.Entry(i)
}

// LookupPosition returns the largest entry whose position is <= pos, or
// (base, 0) when there is none.
func (x *OffsetIndex) LookupPosition(pos int64) (offset, position int64) {
	i := x.pos.search(x.m.data, OffsetEntrySize, offsetStride, int(x.m.n.Load()), positionKey, pos)
	if i < 0 {
		return x.base, 0
	}
	return x.Entry(i)
}

// Append adds an entry mapping offset to pos. Both must exceed the last
// entry's, the relative offset must fit an int32 and pos must fit an int32.
// An entry that needs more disk than is reserved reserves the next step
// first; if the disk is full, Append fails and the index is unchanged.
func (x *OffsetIndex) Append(offset, pos int64) error {
	if !x.m.writable {
		return ErrReadOnly
	}
	n := int(x.m.n.Load())
	if n >= x.m.maxEntries {
		return ErrFull
	}
	rel := offset - x.base
	if rel < 0 || rel > math.MaxInt32 || pos < 0 || pos > math.MaxInt32 || (rel == 0 && pos == 0) {
		return fmt.Errorf("%w: (%d, %d) out of range for base %d", ErrNotIncreasing, offset, pos, x.base)
	}
	if n > 0 {
		if lr, lp := x.raw(n - 1); rel <= lr || pos <= lp {
			return fmt.Errorf("%w: (%d, %d) after (%d, %d)", ErrNotIncreasing, offset, pos, x.base+lr, lp)
		}
	}
	if err := x.m.reserve((n + 1) * OffsetEntrySize); err != nil {
		return err
	}
	e := x.m.data[n*OffsetEntrySize:]
	binary.BigEndian.PutUint32(e, uint32(rel))
	binary.BigEndian.PutUint32(e[4:], uint32(pos))
	if n%offsetStride == 0 {
		x.rel.set(n/offsetStride, rel)
		x.pos.set(n/offsetStride, pos)
	}
	x.m.publish(n + 1)
	return nil
}

// TruncateTo removes every entry whose offset is >= offset.
func (x *OffsetIndex) TruncateTo(offset int64) error {
	n := int(x.m.n.Load())
	keep := n
	for keep > 0 {
		if r, _ := x.raw(keep - 1); x.base+r < offset {
			break
		}
		keep--
	}
	return x.truncate(keep)
}

func (x *OffsetIndex) truncate(keep int) error {
	if err := x.m.truncate(keep); err != nil {
		return err
	}
	x.rel.truncate(keep, offsetStride, true)
	x.pos.truncate(keep, offsetStride, true)
	return nil
}

// Len returns the number of valid entries.
func (x *OffsetIndex) Len() int { return int(x.m.n.Load()) }

// MaxEntries returns the capacity of the mapping.
func (x *OffsetIndex) MaxEntries() int { return x.m.maxEntries }

// Full reports whether another entry would not fit.
func (x *OffsetIndex) Full() bool { return x.Len() >= x.m.maxEntries }

// Reset removes every entry. It zeroes only the entries ever published, so
// its cost grows with them, not with the maximum size.
func (x *OffsetIndex) Reset() error { return x.truncate(0) }

// Sync flushes the mapping to disk.
func (x *OffsetIndex) Sync() error { return x.m.sync() }

// Trim shrinks the file to its entries, never below what a reader may have
// seen, so a closed or rolled segment's index holds no reserved tail.
func (x *OffsetIndex) Trim() error {
	x.rel.truncate(x.Len(), offsetStride, false)
	x.pos.truncate(x.Len(), offsetStride, false)
	return x.m.trim()
}

// Close unmaps and closes the file. No lookup may run concurrently.
func (x *OffsetIndex) Close() error { return x.m.close() }
