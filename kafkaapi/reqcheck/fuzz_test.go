package reqcheck

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// FuzzCheck holds Check to its invariants, whatever the bytes:
//   - Check never panics;
//   - an unknown key or version is ErrUnknown, a non-flexible one nil;
//   - for a flexible version, Check accepts a body exactly when kmsg decodes
//     it, so when Check accepts, kmsg's decode ends (within a second) without
//     error or panic; a rejected tag count is not decoded (kmsg could spin).
//
// Seeds: testdata/fuzz/FuzzCheck, and a random request of every flexible
// version.
func FuzzCheck(f *testing.F) {
	g := filler{rand.New(rand.NewPCG(1, 2))}
	flexibleVersions(func(key, version int16) {
		f.Add(key, version, g.request(key, version).AppendTo(nil))
	})
	f.Fuzz(func(t *testing.T, key, version int16, body []byte) {
		err := Check(key, version, body)
		switch {
		case key < 0 || int(key) >= len(requests) || requests[key] == nil || version < 0 || version > requests[key].max:
			if !errors.Is(err, ErrUnknown) {
				t.Fatalf("key %d v%d: Check = %v, want ErrUnknown", key, version, err)
			}
		case version < requests[key].flexible:
			if err != nil {
				t.Fatalf("key %d v%d is not flexible: Check = %v", key, version, err)
			}
		default:
			agree(t, key, version, body)
		}
	})
}
