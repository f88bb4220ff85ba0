package reqcheck

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// flexibleVersions calls fn for every described flexible version.
func flexibleVersions(fn func(key, version int16)) {
	for key, r := range requests {
		if r != nil {
			for v := r.flexible; v <= r.max; v++ {
				fn(int16(key), v)
			}
		}
	}
}

// TestMetadataTagSpin is the body that costs kmsg 141 s of CPU: Metadata
// v12, no topics, two booleans, then a tag count of 2^32-1.
func TestMetadataTagSpin(t *testing.T) {
	body := []byte{0x01, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f}
	if err := Check(3, 12, body); !errors.Is(err, errTagCount) || !errors.Is(err, ErrMalformed) {
		t.Fatalf("Check = %v, want the tag count rejected", err)
	}
}

func TestTagCount(t *testing.T) {
	for _, tc := range []struct {
		tags []byte // Metadata v12's top-level tag section
		ok   bool
	}{
		{[]byte{0}, true},
		{[]byte{2, 5, 0, 6, 0}, true},
		{[]byte{2, 5, 0, 6, 0, 7}, true},  // a trailing byte is ignored
		{[]byte{2, 5, 0, 6}, false},       // two tags in three bytes
		{[]byte{3, 5, 0, 6, 0}, false},    // three tags in four bytes
		{[]byte{3, 5, 0, 6, 0, 7}, false}, // three tags in five bytes
		{[]byte{1, 5, 2, 0}, false},       // a value running out
		{[]byte{1, 0x80, 0, 0}, true},     // an overlong uvarint, as kmsg reads it
		{[]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0}, true},
		{[]byte{1, 0xff, 0xff, 0xff, 0xff, 0x10, 0}, false}, // 33 bits
	} {
		body := append([]byte{0x01, 0x01, 0x00}, tc.tags...)
		if err := Check(3, 12, body); (err == nil) != tc.ok {
			t.Errorf("tags %x: Check = %v, want ok %v", tc.tags, err, tc.ok)
		}
		if err := decode(3, 12, body); (err == nil) != tc.ok {
			t.Errorf("tags %x: kmsg = %v, want ok %v", tc.tags, err, tc.ok)
		}
	}
}

// TestFetchReplicaStateTags: kmsg decodes Fetch's tag 1 as ReplicaState at
// v12 already (Kafka: v15+), tag section included, so Check walks into it.
func TestFetchReplicaStateTags(t *testing.T) {
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(12)
	body := req.AppendTo(nil)
	body = body[:len(body)-1] // drop the empty top-level tag section
	withState := func(state ...byte) []byte {
		return slices.Concat(body, []byte{1, 1, byte(len(state))}, state)
	}
	id, epoch := []byte{0, 0, 0, 1}, []byte{0, 0, 0, 0, 0, 0, 0, 2}
	spin := withState(slices.Concat(id, epoch, []byte{0xff, 0xff, 0xff, 0xff, 0x0f})...)
	if err := Check(1, 12, spin); !errors.Is(err, errTagCount) {
		t.Fatalf("Check = %v, want the ReplicaState tag count rejected", err)
	}
	if err := agree(t, 1, 12, withState(slices.Concat(id, epoch, []byte{0})...)); err != nil {
		t.Fatalf("a valid ReplicaState is rejected: %v", err)
	}
	if err := agree(t, 1, 12, withState(slices.Concat(id, epoch[:7])...)); err == nil {
		t.Fatalf("a short ReplicaState is accepted")
	}
}

// TestVersionsMatchKmsg: Check walks exactly kmsg's flexible versions.
func TestVersionsMatchKmsg(t *testing.T) {
	for key, r := range requests {
		if r == nil {
			continue
		}
		req := kmsg.RequestForKey(int16(key))
		if req.MaxVersion() < r.max {
			t.Errorf("key %d: described up to v%d, kmsg knows up to v%d", key, r.max, req.MaxVersion())
		}
		for v := int16(0); v <= r.max; v++ {
			req.SetVersion(v)
			if req.IsFlexible() != (v >= r.flexible) {
				t.Errorf("key %d v%d: kmsg flexible %v", key, v, req.IsFlexible())
			}
		}
		if err := Check(int16(key), r.max+1, nil); !errors.Is(err, ErrUnknown) {
			t.Errorf("key %d v%d: Check = %v, want ErrUnknown", key, r.max+1, err)
		}
	}
	for _, kv := range [][2]int16{{-1, 0}, {58, 0}, {3, -1}, {62, 0}, {1000, 0}} { // Envelope and BrokerRegistration: KRaft only
		if err := Check(kv[0], kv[1], nil); !errors.Is(err, ErrUnknown) {
			t.Errorf("key %d v%d: Check = %v, want ErrUnknown", kv[0], kv[1], err)
		}
	}
}

// TestAgainstKmsg encodes random requests of every flexible version with
// kmsg, then checks that Check accepts them and agrees with kmsg's decoder
// on every truncation, on random byte changes (half of them nudges, as to a length) and on huge tag counts put in
// place of zero bytes (most of which are empty tag sections).
func TestAgainstKmsg(t *testing.T) {
	perVersion := 200
	if testing.Short() {
		perVersion = 20
	}
	flexibleVersions(func(key, version int16) {
		g := filler{rand.New(rand.NewPCG(uint64(key), uint64(version)))}
		var mutants, accepted, tagCounts int
		try := func(body []byte) {
			mutants++
			switch err := agree(t, key, version, body); {
			case err == nil:
				accepted++
			case errors.Is(err, errTagCount):
				tagCounts++
			}
		}
		for range perVersion {
			body := g.request(key, version).AppendTo(nil)
			if err := Check(key, version, body); err != nil {
				t.Fatalf("key %d v%d: Check rejects kmsg's encoding %x: %v", key, version, body, err)
			}
			for i := range body {
				try(body[:i])
			}
			for range 20 {
				m := slices.Clone(body)
				for range 1 + g.rng.IntN(3) {
					if len(m) == 0 {
						break
					}
					i := g.rng.IntN(len(m))
					if g.rng.IntN(2) == 0 {
						m[i] = byte(g.rng.Uint32())
					} else {
						m[i] += byte(g.rng.IntN(17) - 8) // a length a little off
					}
				}
				try(m)
			}
			for range 10 {
				i := g.rng.IntN(len(body))
				if body[i] != 0 {
					continue
				}
				huge := [][]byte{{0xff, 0xff, 0xff, 0xff, 0x0f}, {0x80, 0x80, 0x04}, {0x7f}}[g.rng.IntN(3)]
				try(slices.Concat(body[:i], huge, body[i+1:]))
			}
		}
		t.Logf("key %2d v%2d: %d requests, %d mutants: %d accepted, %d tag counts rejected", key, version, perVersion, mutants, accepted, tagCounts)
	})
}

func TestNoAllocs(t *testing.T) {
	for _, c := range benchCases() {
		if allocs := testing.AllocsPerRun(100, func() { _ = Check(c.key, c.version, c.body) }); allocs != 0 {
			t.Errorf("%s: %v allocs per Check", c.name, allocs)
		}
	}
}
