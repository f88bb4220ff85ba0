package txnindex

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync/atomic"

	"samsa/logfile/vfs"
	"samsa/record"
)

// EntrySize is the size of one entry.
const EntrySize = 34

const version = 0

// ErrCorrupt is a transaction index that is not one: a torn entry, an
// unknown version, entries out of order. It is also record.ErrCorrupt.
var ErrCorrupt = fmt.Errorf("%w: corrupt transaction index", record.ErrCorrupt)

// AbortedTxn is one entry.
type AbortedTxn struct {
	ProducerID       int64
	FirstOffset      int64 // the transaction's first record
	LastOffset       int64 // its ABORT marker
	LastStableOffset int64 // the last stable offset once the marker was written
}

// AppendEntry appends a's 34 bytes to dst.
func AppendEntry(dst []byte, a AbortedTxn) []byte {
	dst = binary.BigEndian.AppendUint16(dst, version)
	dst = binary.BigEndian.AppendUint64(dst, uint64(a.ProducerID))
	dst = binary.BigEndian.AppendUint64(dst, uint64(a.FirstOffset))
	dst = binary.BigEndian.AppendUint64(dst, uint64(a.LastOffset))
	return binary.BigEndian.AppendUint64(dst, uint64(a.LastStableOffset))
}

// Decode reads a transaction index file (invariant 1).
func Decode(b []byte) ([]AbortedTxn, error) {
	out := make([]AbortedTxn, 0, len(b)/EntrySize)
	be := binary.BigEndian
	for pos := 0; pos < len(b); pos += EntrySize {
		if len(b)-pos < EntrySize {
			return out, fmt.Errorf("%w: %d bytes left at %d, an entry is %d", ErrCorrupt, len(b)-pos, pos, EntrySize)
		}
		e := b[pos : pos+EntrySize]
		if v := int16(be.Uint16(e)); v != version {
			return out, fmt.Errorf("%w: entry at %d has version %d", ErrCorrupt, pos, v)
		}
		a := AbortedTxn{
			ProducerID:       int64(be.Uint64(e[2:])),
			FirstOffset:      int64(be.Uint64(e[10:])),
			LastOffset:       int64(be.Uint64(e[18:])),
			LastStableOffset: int64(be.Uint64(e[26:])),
		}
		if a.FirstOffset > a.LastOffset || a.FirstOffset < 0 {
			return out, fmt.Errorf("%w: entry at %d spans %d to %d", ErrCorrupt, pos, a.FirstOffset, a.LastOffset)
		}
		if n := len(out); n > 0 && out[n-1].LastOffset >= a.LastOffset {
			return out, fmt.Errorf("%w: entry at %d ends at %d, not after %d", ErrCorrupt, pos, a.LastOffset, out[n-1].LastOffset)
		}
		out = append(out, a)
	}
	return out, nil
}

func encode(entries []AbortedTxn) []byte {
	b := make([]byte, 0, len(entries)*EntrySize)
	for _, a := range entries {
		b = AppendEntry(b, a)
	}
	return b
}

// Index is one segment's transaction index file.
type Index struct {
	fs   vfs.FS
	path string
	// entries are published for lock-free readers (invariant 2).
	entries atomic.Pointer[[]AbortedTxn]

	// Writer state, guarded by the owner's lock.
	f     vfs.File // nil until the file is written
	stale bool
}

// New is the index of a new segment: no file, no entries.
func New(fsys vfs.FS, path string) *Index { return &Index{fs: fsys, path: path} }

// Open reads the index at path, if there is one. A file that does not
// decode makes a stale index (invariant 3).
func Open(fsys vfs.FS, path string) (*Index, error) {
	ix := New(fsys, path)
	b, err := vfs.ReadFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return ix, nil
	}
	if err != nil {
		return nil, fmt.Errorf("txnindex: read %s: %w", path, err)
	}
	entries, err := Decode(b)
	if err != nil {
		ix.stale = true
		return ix, nil
	}
	ix.entries.Store(&entries)
	return ix, nil
}

// Entries returns the published entries; the slice is not to be changed.
func (ix *Index) Entries() []AbortedTxn {
	if p := ix.entries.Load(); p != nil {
		return *p
	}
	return nil
}

// Stale reports whether the index awaits a Rewrite.
func (ix *Index) Stale() bool { return ix.stale }

// MarkStale drops the entries until a Rewrite.
func (ix *Index) MarkStale() {
	ix.stale = true
	ix.entries.Store(nil)
}

// Check is Kafka's sanity check against the segment's offsets [base,
// next): an entry whose marker lies outside makes the index stale. It
// reports whether the index is sound.
func (ix *Index) Check(base, next int64) bool {
	for _, a := range ix.Entries() {
		if a.LastOffset < base || a.LastOffset >= next {
			ix.MarkStale()
			return false
		}
	}
	return !ix.stale
}

func (ix *Index) file() (vfs.File, error) {
	if ix.f == nil {
		f, err := ix.fs.OpenFile(ix.path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("txnindex: open %s: %w", ix.path, err)
		}
		ix.f = f
	}
	return ix.f, nil
}

// Append adds entries whose last offsets follow the index's.
func (ix *Index) Append(add []AbortedTxn) error {
	if len(add) == 0 {
		return nil
	}
	cur := ix.Entries()
	last := int64(-1)
	if len(cur) > 0 {
		last = cur[len(cur)-1].LastOffset
	}
	for _, a := range add {
		if a.LastOffset <= last {
			return fmt.Errorf("%w: %s: entry of marker %d after %d", ErrCorrupt, ix.path, a.LastOffset, last)
		}
		last = a.LastOffset
	}
	f, err := ix.file()
	if err != nil {
		return err
	}
	at := int64(len(cur)) * EntrySize
	if _, err := f.WriteAt(encode(add), at); err != nil {
		_ = f.Truncate(at)
		return fmt.Errorf("txnindex: append to %s: %w", ix.path, err)
	}
	next := append(append(make([]AbortedTxn, 0, len(cur)+len(add)), cur...), add...)
	ix.entries.Store(&next)
	return nil
}

// TruncateTo drops the entries of markers at or past offset.
func (ix *Index) TruncateTo(offset int64) error {
	cur := ix.Entries()
	keep := len(cur)
	for keep > 0 && cur[keep-1].LastOffset >= offset {
		keep--
	}
	if keep == len(cur) {
		return nil
	}
	return ix.Rewrite(cur[:keep:keep])
}

// Rewrite replaces the entries with entries, fsynced; no entries remove
// the file. The index is no longer stale.
func (ix *Index) Rewrite(entries []AbortedTxn) error {
	if len(entries) == 0 && ix.f == nil {
		if err := ix.fs.Remove(ix.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("txnindex: remove %s: %w", ix.path, err)
		}
	} else {
		f, err := ix.file()
		if err != nil {
			return err
		}
		b := encode(entries)
		if err := f.Truncate(int64(len(b))); err != nil {
			return fmt.Errorf("txnindex: truncate %s: %w", ix.path, err)
		}
		if _, err := f.WriteAt(b, 0); err != nil {
			return fmt.Errorf("txnindex: write %s: %w", ix.path, err)
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("txnindex: fsync %s: %w", ix.path, err)
		}
	}
	entries = append([]AbortedTxn(nil), entries...)
	ix.entries.Store(&entries)
	ix.stale = false
	return nil
}

// Sync fsyncs the file, if it was written.
func (ix *Index) Sync() error {
	if ix.f == nil {
		return nil
	}
	if err := ix.f.Sync(); err != nil {
		return fmt.Errorf("txnindex: fsync %s: %w", ix.path, err)
	}
	return nil
}

// Close closes the file, if it was opened.
func (ix *Index) Close() error {
	if ix.f == nil {
		return nil
	}
	err := ix.f.Close()
	ix.f = nil
	return err
}

// WriteFile writes a whole index file, fsynced; no entries remove it.
func WriteFile(fsys vfs.FS, name string, entries []AbortedTxn) error {
	if len(entries) == 0 {
		if err := fsys.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	f, err := fsys.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(encode(entries), 0); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
