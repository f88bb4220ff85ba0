package mmapindex

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// File is what an index needs of its backing file. *os.File satisfies it
// except for Allocate; logfile's vfs.File satisfies it fully, which lets tests
// inject faults.
type File interface {
	Fd() uintptr
	Name() string
	Stat() (os.FileInfo, error)
	Truncate(size int64) error
	// Allocate reserves disk blocks for [off, off+n), growing the file.
	Allocate(off, n int64) error
	Sync() error
	Close() error
}

var (
	// ErrCorrupt is the class of every structural problem found in an index
	// file. Callers test it with errors.Is and rebuild the index.
	ErrCorrupt = errors.New("mmapindex: corrupt index")
	// ErrFull means the index has no room for another entry: roll the segment.
	ErrFull = errors.New("mmapindex: index full")
	// ErrNotIncreasing means an append would break invariant 1.
	ErrNotIncreasing = errors.New("mmapindex: entry not increasing")
	// ErrReadOnly means an append or truncate on an index opened read-only.
	ErrReadOnly = errors.New("mmapindex: index is read-only")
)

// mapped is the file and mapping shared by both index kinds.
type mapped struct {
	f         File
	entrySize int
	writable  bool

	// data is the whole mapping. For a writable index it covers the
	// preallocated maximum; for a read-only one, the file as found.
	data []byte
	// maxEntries is len(data)/entrySize.
	maxEntries int
	// peak is the largest entry count ever published over this file: the
	// file is never trimmed below it (invariant 4). Writer-only.
	peak int

	// n is the published entry count; entries [0, n) are valid and stay
	// readable (invariant 4).
	n atomic.Int64
}

// load maps f and finds its valid entries, checking them with increasing; a
// writable index is then preallocated. It reads the valid prefix and the rest
// of the page after it, never the whole file (invariant 7). Any error closes
// the index, and a corrupt file is left as found, for the caller to replace.
func (m *mapped) load(f File, entrySize, maxBytes int, writable bool, increasing func(n int) error) error {
	size, err := m.open(f, entrySize, maxBytes, writable)
	n := 0
	if err == nil {
		n, err = m.validPrefix(int(size / int64(entrySize)))
	}
	if err == nil {
		err = increasing(n)
	}
	if err == nil && int64(len(m.data)) > size {
		// fallocate: blocks reserved, no page of the file touched. The
		// mapping already covers them; nothing has touched that part yet.
		if err = f.Allocate(size, int64(len(m.data))-size); err != nil {
			err = fmt.Errorf("mmapindex: preallocate %s to %d: %w", f.Name(), len(m.data), err)
		}
	}
	if err != nil {
		m.close()
		return err
	}
	m.peak = n
	m.n.Store(int64(n))
	return nil
}

// publish makes entry n-1 visible: its bytes were written first.
func (m *mapped) publish(n int) {
	m.n.Store(int64(n))
	m.peak = max(m.peak, n)
}

// truncate keeps the first keep entries and zeroes the rest.
func (m *mapped) truncate(keep int) error {
	if !m.writable {
		return ErrReadOnly
	}
	m.n.Store(int64(keep))
	m.zeroFrom(keep)
	return nil
}

// open maps f: a read-only index as it is, a writable one to maxBytes
// (rounded down to a whole entry), past the end of the file until load
// preallocates it. A file that is not a whole number of entries is
// ErrCorrupt and is not mapped.
//
// The mapping is MADV_RANDOM: lookups are searches, and the kernel's
// read-around on a fault would otherwise fill the page cache with the zeros
// of a preallocated tail, read_ahead_kb of them per fault (8 MiB on some
// devices) for a page that an append or a check needed. validPrefix reads
// ahead itself, no further than the entries it has found.
func (m *mapped) open(f File, entrySize int, maxBytes int, writable bool) (size int64, err error) {
	m.f, m.entrySize, m.writable = f, entrySize, writable
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("mmapindex: stat %s: %w", f.Name(), err)
	}
	size = fi.Size()
	if size%int64(entrySize) != 0 {
		return size, fmt.Errorf("%w: %s: size %d is not a multiple of %d", ErrCorrupt, f.Name(), size, entrySize)
	}
	mapLen := size
	if writable {
		want := int64(maxBytes / entrySize * entrySize)
		if want < int64(entrySize) {
			return size, fmt.Errorf("mmapindex: %s: max size %d holds no entry", f.Name(), maxBytes)
		}
		mapLen = max(want, size)
	}
	if mapLen == 0 {
		return size, nil
	}
	prot := unix.PROT_READ
	if writable {
		prot |= unix.PROT_WRITE
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(mapLen), prot, unix.MAP_SHARED)
	if err != nil {
		return size, fmt.Errorf("mmapindex: mmap %s: %w", f.Name(), err)
	}
	m.data = data
	m.maxEntries = int(mapLen) / entrySize
	// Advice is only advice: an error changes nothing that matters.
	_ = unix.Madvise(data, unix.MADV_RANDOM)
	return size, nil
}

// validPrefix returns the number of leading entries before the first all-zero
// entry. It checks that the rest of the page holding that entry is zero too,
// and reads no further: past it lies, in a file this package preallocated,
// only never-written space (invariant 7).
//
// Reading ahead, it asks the kernel (MADV_WILLNEED) for the next stretch of
// the file as long as the stretch already checked, a page at first: a full
// index is read in large, asynchronous steps, and at most as much again as
// the valid entries, plus a page, is read in all.
func (m *mapped) validPrefix(fileEntries int) (int, error) {
	es := m.entrySize
	end := fileEntries * es
	ahead := 0 // [0, ahead) has been asked for
	n := 0
	for ; n < fileEntries; n++ {
		if off := (n + 1) * es; off > ahead {
			next := min(max(2*ahead, pageSize), end)
			_ = unix.Madvise(m.data[ahead:next], unix.MADV_WILLNEED)
			ahead = next
		}
		if isZero(m.data[n*es : (n+1)*es]) {
			break
		}
	}
	pageEnd := min((n*es/pageSize+1)*pageSize, end)
	for i := n * es; i < pageEnd; i++ {
		if m.data[i] != 0 {
			return 0, fmt.Errorf("%w: %s: data after the zero entry %d", ErrCorrupt, m.f.Name(), n)
		}
	}
	return n, nil
}

// pageSize bounds the zero check after the valid prefix.
const pageSize = 4096

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// trim shrinks the file to the peak entry count (invariant 4).
func (m *mapped) trim() error {
	if !m.writable {
		return nil
	}
	if err := m.f.Truncate(int64(m.peak * m.entrySize)); err != nil {
		return fmt.Errorf("mmapindex: trim %s: %w", m.f.Name(), err)
	}
	return nil
}

func (m *mapped) sync() error {
	if m.writable && m.data != nil {
		if err := unix.Msync(m.data, unix.MS_SYNC); err != nil {
			return fmt.Errorf("mmapindex: msync %s: %w", m.f.Name(), err)
		}
	}
	return nil
}

// zeroFrom clears entries [n, peak) so that a later trim leaves only zeros
// after the valid prefix. Entries past peak were never written: it touches
// only pages that entries have dirtied already (invariant 7).
func (m *mapped) zeroFrom(n int) {
	clear(m.data[n*m.entrySize : m.peak*m.entrySize])
}

func (m *mapped) close() error {
	var errs []error
	if m.data != nil {
		if err := unix.Munmap(m.data); err != nil {
			errs = append(errs, fmt.Errorf("mmapindex: munmap %s: %w", m.f.Name(), err))
		}
	}
	m.data = nil
	if err := m.f.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
