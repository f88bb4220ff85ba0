package tags

import (
	"errors"
	"fmt"
)

var (
	// ErrMalformed: the bytes are not a tag section (a uvarint runs out or
	// is too long, a value runs past the end).
	ErrMalformed = errors.New("tags: malformed tag section")
	// ErrCount: the count claims more tags than the bytes can hold.
	ErrCount = fmt.Errorf("%w: more tags than bytes", ErrMalformed)
)

// Uvarint reads a uvarint of at most 32 bits from the start of b and
// returns it with the number of bytes it took; n is 0 if b holds none.
func Uvarint(b []byte) (v uint32, n int) {
	for i, c := range b {
		if i == 4 && c > 0x0f {
			return 0, 0
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// Walk reads the tag section at the start of b, calls fn with each tag's
// key and value (a subslice of b), and returns the bytes after the
// section. An error of fn ends the walk and is returned as it is.
func Walk(b []byte, fn func(key uint32, value []byte) error) ([]byte, error) {
	if len(b) > 0 && b[0] == 0 { // no tags, the usual case
		return b[1:], nil
	}
	count, n := Uvarint(b)
	if n == 0 {
		return nil, ErrMalformed
	}
	b = b[n:]
	if uint64(count) > uint64(len(b))/2 {
		return nil, ErrCount
	}
	for range count {
		key, n := Uvarint(b)
		if n == 0 {
			return nil, ErrMalformed
		}
		b = b[n:]
		size, n := Uvarint(b)
		if n == 0 || uint64(size) > uint64(len(b)-n) {
			return nil, ErrMalformed
		}
		b = b[n:]
		if fn != nil {
			if err := fn(key, b[:size]); err != nil {
				return nil, err
			}
		}
		b = b[size:]
	}
	return b, nil
}

// Skip returns the bytes after the tag section at the start of b.
func Skip(b []byte) ([]byte, error) { return Walk(b, nil) }
