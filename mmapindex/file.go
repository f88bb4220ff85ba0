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
	// retired holds mappings replaced by grow; unmapped by Close (invariant 5).
	retired [][]byte
	// peak is the largest entry count ever published over this file: the
	// file is never trimmed below it (invariant 4). Writer-only.
	peak int

	// n is the published entry count; entries [0, n) are valid and stay
	// readable (invariant 4).
	n atomic.Int64
}

// load maps f and finds its valid entries, checking them with increasing.
// A writable index whose contents are corrupt stays mapped, empty of valid
// entries, and is returned with ErrCorrupt so that the caller may Reset
// and rebuild it; otherwise an error closes it.
func (m *mapped) load(f File, entrySize, maxBytes int, writable bool, increasing func(n int) error) error {
	size, err := m.open(f, entrySize, maxBytes, writable)
	if err != nil && !(writable && errors.Is(err, ErrCorrupt) && m.data != nil) {
		m.close()
		return err
	}
	n := 0
	if err == nil {
		n, err = m.validPrefix(int(size / int64(entrySize)))
	}
	if err == nil {
		err = increasing(n)
	}
	if err != nil {
		if !writable {
			m.close()
			return err
		}
		m.peak = int(size / int64(entrySize))
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

// open maps f. A writable index is first grown to maxBytes (rounded down to a
// whole entry).
func (m *mapped) open(f File, entrySize int, maxBytes int, writable bool) (size int64, err error) {
	m.f, m.entrySize, m.writable = f, entrySize, writable
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("mmapindex: stat %s: %w", f.Name(), err)
	}
	size = fi.Size()
	var corrupt error
	if size%int64(entrySize) != 0 {
		corrupt = fmt.Errorf("%w: %s: size %d is not a multiple of %d", ErrCorrupt, f.Name(), size, entrySize)
		if !writable {
			return size, corrupt
		}
		// Writable: drop the partial entry so the file can be mapped, reset
		// and rebuilt by the caller; it gets ErrCorrupt all the same.
		size -= size % int64(entrySize)
		if err := f.Truncate(size); err != nil {
			return size, fmt.Errorf("mmapindex: truncate %s: %w", f.Name(), err)
		}
	}
	mapLen := size
	if writable {
		want := int64(maxBytes / entrySize * entrySize)
		if want < int64(entrySize) {
			return size, fmt.Errorf("mmapindex: %s: max size %d holds no entry", f.Name(), maxBytes)
		}
		if want < size {
			want = size
		}
		if want > size {
			if err := f.Allocate(size, want-size); err != nil {
				return size, fmt.Errorf("mmapindex: preallocate %s to %d: %w", f.Name(), want, err)
			}
		}
		mapLen = want
	}
	if mapLen == 0 {
		return size, corrupt
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
	return size, corrupt
}

// validPrefix returns the number of leading entries before the first all-zero
// entry, and checks that everything after them is zero.
func (m *mapped) validPrefix(fileEntries int) (int, error) {
	es := m.entrySize
	n := 0
	for n < fileEntries && !isZero(m.data[n*es:(n+1)*es]) {
		n++
	}
	for i := n * es; i < fileEntries*es; i++ {
		if m.data[i] != 0 {
			return 0, fmt.Errorf("%w: %s: data after the zero entry %d", ErrCorrupt, m.f.Name(), n)
		}
	}
	return n, nil
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// trim shrinks the file to the peak entry count and syncs it.
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
// after the valid prefix.
func (m *mapped) zeroFrom(n int) {
	clear(m.data[n*m.entrySize : m.peak*m.entrySize])
}

func (m *mapped) close() error {
	var errs []error
	for _, d := range append(m.retired, m.data) {
		if d != nil {
			if err := unix.Munmap(d); err != nil {
				errs = append(errs, fmt.Errorf("mmapindex: munmap %s: %w", m.f.Name(), err))
			}
		}
	}
	m.data, m.retired = nil, nil
	if err := m.f.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
