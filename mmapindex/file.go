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
	// maximum size, past the end of the file (invariant 3), so that it is
	// never remapped; for a read-only one, the file as found.
	data []byte
	// maxEntries is len(data)/entrySize.
	maxEntries int
	// peak is the largest entry count ever published over this file: the
	// file is never trimmed below it (invariant 4). Writer-only.
	peak int
	// reserved is how far into the mapping a store may reach: the bytes
	// [0, reserved) lie inside the file on reserved or written blocks, so
	// a store there cannot fault (invariant 3). peak*entrySize <= reserved
	// <= len(data). Writer-only; 0 for a read-only index.
	reserved int

	// n is the published entry count; entries [0, n) are valid and stay
	// readable (invariant 4).
	n atomic.Int64
}

// load maps f and finds its valid entries, checking them with increasing; a
// writable index then reserves room for the next entry (invariant 3). It
// reads the valid prefix and the rest of the page after it, never the whole
// file (invariant 7). Any error closes the index, and a corrupt file is left
// as found, for the caller to replace.
func (m *mapped) load(f File, entrySize, maxBytes int, writable bool, increasing func(n int) error) error {
	size, err := m.open(f, entrySize, maxBytes, writable)
	n := 0
	if err == nil {
		n, err = m.validPrefix(int(size / int64(entrySize)))
	}
	if err == nil {
		err = increasing(n)
	}
	if err == nil && writable && n < m.maxEntries {
		// Only the blocks under the entries are known to exist: a file
		// preallocated by an older version, or left untrimmed by a crash,
		// is longer, and fallocate over blocks it already has costs
		// nothing, while trusting its length would trust a sparse copy.
		m.reserved = n * entrySize
		err = m.reserve((n + 1) * entrySize)
	}
	if err != nil {
		m.close()
		return err
	}
	m.peak = n
	m.n.Store(int64(n))
	return nil
}

// maxReserveStep bounds how far ahead of its entries an index reserves
// blocks. Each reservation doubles the reserved prefix, from one page up to
// this step: an empty index holds one page of disk, and a busy one calls
// fallocate once per 64 KiB of entries (8,192 offset entries, 32 MiB of log
// at the default index.interval.bytes).
const maxReserveStep = 64 << 10

// reserve makes the first need bytes of the mapping safe to store into
// (invariant 3). It fails, having stored nothing, when the blocks cannot be
// had: a full disk is an error of the append that needed them. The caller
// keeps need <= len(data).
func (m *mapped) reserve(need int) error {
	if need <= m.reserved {
		return nil
	}
	return m.reserveStep(need)
}

// reserveStep is reserve's slow path, kept out of line so that the check
// inlines into every append.
func (m *mapped) reserveStep(need int) error {
	step := min(max(m.reserved, reservePage), maxReserveStep)
	// A whole number of entries, or a crash before the next trim would
	// leave a file that open rejects; need is one already.
	end := roundUp(max(need, m.reserved+step), reservePage) / m.entrySize * m.entrySize
	end = min(end, len(m.data))
	// fallocate reserves the blocks and grows the file without touching a
	// page of it, so the tail stays zero (invariant 7).
	if err := m.f.Allocate(int64(m.reserved), int64(end-m.reserved)); err != nil {
		return fmt.Errorf("mmapindex: reserve %s to %d bytes: %w", m.f.Name(), end, err)
	}
	m.reserved = end
	return nil
}

// reservePage is the unit of reservation: a store dirties a whole page,
// which must lie inside the file on reserved blocks, but for the end of a
// reservation that is not a whole page (entries do not divide it).
var reservePage = max(unix.Getpagesize(), pageSize)

func roundUp(n, unit int) int { return (n + unit - 1) / unit * unit }

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
// (rounded down to a whole entry), past the end of the file, which grows
// only as entries need it (invariant 3). A file that is not a whole number
// of entries is ErrCorrupt and is not mapped.
//
// The mapping is MADV_RANDOM: lookups are searches, and the kernel's
// read-around on a fault would otherwise fill the page cache with the zeros
// of a reserved tail (or of a file preallocated whole by an older version),
// read_ahead_kb of them per fault (8 MiB on some devices) for a page that
// an append or a check needed. validPrefix reads ahead itself, no further
// than the entries it has found.
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
// and reads no further: past it lies, in a file this package reserved, only
// never-written space (invariant 7).
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

// trim shrinks the file to the peak entry count (invariant 4), giving back
// the blocks reserved past it.
func (m *mapped) trim() error {
	if !m.writable {
		return nil
	}
	size := m.peak * m.entrySize
	if err := m.f.Truncate(int64(size)); err != nil {
		return fmt.Errorf("mmapindex: trim %s: %w", m.f.Name(), err)
	}
	// Past size lies the end of the file now: an append after a trim
	// reserves again (invariant 3).
	m.reserved = size
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
