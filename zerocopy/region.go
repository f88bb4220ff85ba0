package zerocopy

import (
	"errors"
	"fmt"
)

// Region is Len bytes of the file open as FD, starting at offset Off.
// It is a plain value: the storage layer builds one from a segment's
// descriptor and a position, the network layer sends it.
type Region struct {
	FD  int   // open file descriptor; not owned by the Region
	Off int64 // absolute offset of the first byte in the file
	Len int64 // number of bytes
}

// ErrShortFile reports that the file ended before the region did.
var ErrShortFile = errors.New("zerocopy: short file")

// ErrInvalidRegion reports a region with a negative offset or length or a
// negative descriptor.
var ErrInvalidRegion = errors.New("zerocopy: invalid region")

func (r Region) String() string {
	return fmt.Sprintf("fd %d [%d, %d)", r.FD, r.Off, r.Off+r.Len)
}

func (r Region) check() error {
	if r.FD < 0 || r.Off < 0 || r.Len < 0 || r.Off+r.Len < r.Off {
		return fmt.Errorf("%w: %v", ErrInvalidRegion, r)
	}
	return nil
}

func shortFile(r Region, sent int64) error {
	return fmt.Errorf("%w: %v: file ends at offset %d, %d of %d bytes sent",
		ErrShortFile, r, r.Off+sent, sent, r.Len)
}
