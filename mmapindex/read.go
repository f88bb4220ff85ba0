package mmapindex

import (
	"encoding/binary"
	"iter"
)

// Reading index files that are not open: tools such as samsa dump-log
// read a file's bytes and decode its entries here, where the layout is
// defined, rather than computing byte offsets of their own.

// OffsetEntries yields the entries of an offset index file's bytes as
// stored: relative offset and position, in file order. It stops at the
// first all-zero entry, the unused tail of a preallocated file (invariant
// 2), or at the last whole entry. It checks nothing else: a caller judges
// the entries (invariant 1) itself.
func OffsetEntries(b []byte) iter.Seq2[int64, int64] {
	return func(yield func(rel, pos int64) bool) {
		for i := 0; i+OffsetEntrySize <= len(b); i += OffsetEntrySize {
			e := b[i : i+OffsetEntrySize]
			if isZero(e) {
				return
			}
			if !yield(offsetEntry(e)) {
				return
			}
		}
	}
}

// TimeEntries yields the entries of a time index file's bytes as stored:
// timestamp and relative offset, in file order; see OffsetEntries.
func TimeEntries(b []byte) iter.Seq2[int64, int64] {
	return func(yield func(ts, rel int64) bool) {
		for i := 0; i+TimeEntrySize <= len(b); i += TimeEntrySize {
			e := b[i : i+TimeEntrySize]
			if isZero(e) {
				return
			}
			if !yield(timeEntry(e)) {
				return
			}
		}
	}
}

// offsetEntry decodes the offset index entry at the start of e.
func offsetEntry(e []byte) (rel, pos int64) {
	return int64(int32(binary.BigEndian.Uint32(e))), int64(int32(binary.BigEndian.Uint32(e[4:])))
}

// timeEntry decodes the time index entry at the start of e.
func timeEntry(e []byte) (ts, rel int64) {
	return int64(binary.BigEndian.Uint64(e)), int64(int32(binary.BigEndian.Uint32(e[8:])))
}
