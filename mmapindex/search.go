package mmapindex

import (
	"encoding/binary"
	"sync/atomic"
)

// A key selects the field a lookup searches: its byte offset in an entry
// and its width.
type key struct {
	off  int
	wide bool // int64 rather than int32
}

var (
	relOffsetKey = key{off: 0}             // offset index: relative offset
	positionKey  = key{off: 4}             // offset index: position
	timestampKey = key{off: 0, wide: true} // time index: timestamp
)

func (k key) at(data []byte, size, i int) int64 {
	e := data[i*size+k.off:]
	if k.wide {
		return int64(binary.BigEndian.Uint64(e))
	}
	return int64(int32(binary.BigEndian.Uint32(e)))
}

const (
	// guard is the first gallop step from an interpolated probe: 8
	// entries, one or two cache lines away. Steps grow fourfold, at most
	// gallopSteps of them (8 and 32 entries: within a page).
	guard       = 8
	gallopSteps = 2
	// interpolationRounds bounds the interpolate-and-gallop rounds before
	// plain bisection of what is left.
	interpolationRounds = 4
	blockRounds         = 1
)

// searchLE returns the largest i in [0, n) whose key is <= target, or -1.
// Keys must increase with i (invariant 1).
//
// A plain binary search over a full 10 MiB index makes 21 dependent loads,
// the last dozen of them cache and TLB misses. Index keys grow close to
// linearly with the entry number (an entry per index.interval.bytes of log;
// timestamps that advance with time), so the search interpolates instead:
// it probes where the target should be on the line through the bracket's
// ends, then gallops from there toward the target in steps of 8 and 32
// entries. For a near-linear index the first step brackets the target
// within a cache line or two. If no step does, the line was off (keys that
// grow at one rate and then another) and the next round interpolates on
// the bracket that is left, whose end is now near the target; keys that
// wander about a line (batch sizes that vary) are bracketed by the second
// round. A round that does not halve the bracket also bisects it, and
// after a few rounds bisection takes over, so keys far from linear cost a
// few probes more than bisection, not unboundedly more.
func searchLE(data []byte, size, n int, k key, target int64) int {
	if n == 0 {
		return -1
	}
	lo, hi := 0, n-1
	klo, khi := k.at(data, size, lo), k.at(data, size, hi)
	if klo > target {
		return -1
	}
	if khi <= target {
		return hi
	}
	return searchBracket(data, size, k, target, lo, hi, klo, khi, interpolationRounds)
}

// searchBracket returns the largest i in [lo, hi) whose key is <= target,
// given key(lo) = klo <= target < key(hi) = khi.
func searchBracket(data []byte, size int, k key, target int64, lo, hi int, klo, khi int64, rounds int) int {
	// Invariant: key(lo) <= target < key(hi); the answer is in [lo, hi).
	for round := 0; round < rounds && hi-lo > 2*guard; round++ {
		width := hi - lo
		// Float arithmetic: keys may span the whole int64 range.
		frac := (float64(target) - float64(klo)) / (float64(khi) - float64(klo))
		g := min(max(lo+int(frac*float64(hi-lo)), lo+1), hi-1)
		if kg := k.at(data, size, g); kg <= target {
			lo, klo = g, kg
			for step := guard; step <= guard<<(2*(gallopSteps-1)) && lo+step < hi; step *= 4 {
				e := lo + step
				ke := k.at(data, size, e)
				if ke > target {
					hi, khi = e, ke
					break
				}
				lo, klo = e, ke
			}
		} else {
			hi, khi = g, kg
			for step := guard; step <= guard<<(2*(gallopSteps-1)) && hi-step > lo; step *= 4 {
				e := hi - step
				ke := k.at(data, size, e)
				if ke <= target {
					lo, klo = e, ke
					break
				}
				hi, khi = e, ke
			}
		}
		if hi-lo > width/2 {
			// The line was far off: halve the bracket too, so that
			// rounds converge however the keys grow.
			mid := int(uint(lo+hi) >> 1)
			if km := k.at(data, size, mid); km <= target {
				lo, klo = mid, km
			} else {
				hi, khi = mid, km
			}
		}
	}
	for hi-lo > 1 {
		mid := int(uint(lo+hi) >> 1)
		if k.at(data, size, mid) <= target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// Fence strides: one fence key per page of offset index (512 entries of 8
// bytes, page-aligned), one per 3 KiB of time index.
const (
	offsetStride = 4096 / OffsetEntrySize
	timeStride   = 256
)

// A fence keeps in Go memory the key of every stride-th entry of an index
// (20 KiB for a full 10 MiB offset index), as 8-byte big-endian keys so
// that searchLE searches it too. A lookup first finds the stride of entries
// that holds its answer in the fence, which stays in the CPU cache, then
// searches only that stride of the mapping, knowing the keys at both its
// ends: the interpolation probe and its gallop touch one page and a cache
// line or two of the mapping instead of a dozen cold pages.
//
// Readers never see a slot change: the writer sets slot j just before it
// publishes entry j*stride, beyond every slot a reader may use, and a
// truncation replaces the slice rather than rewrite slots a reader with an
// older entry count may still read. Growth replaces the slice too.
type fence struct {
	p atomic.Pointer[[]byte]
}

// fenceKey is the key of a fence slot.
var fenceKey = key{off: 0, wide: true}

func (f *fence) slots() []byte {
	if p := f.p.Load(); p != nil {
		return *p
	}
	return nil
}

// set stores v as the key of entry j*stride. Writer only.
func (f *fence) set(j int, v int64) {
	s := f.slots()
	if (j+1)*8 > len(s) {
		ns := make([]byte, max(j+1, len(s)/8*2, 16)*8)
		copy(ns, s)
		f.p.Store(&ns)
		s = ns
	}
	binary.BigEndian.PutUint64(s[j*8:], uint64(v))
}

// truncate keeps the slots of the first n entries in a new slice, with
// capacity to grow if it is to grow again. Writer only.
func (f *fence) truncate(n, stride int, spare bool) {
	s := f.slots()
	need := min((n+stride-1)/stride*8, len(s))
	size := need
	if spare {
		size = len(s)
	}
	ns := make([]byte, size)
	copy(ns, s[:need])
	f.p.Store(&ns)
}

// build fills the fence from the first n entries of the mapping.
func (f *fence) build(data []byte, size, stride, n int, k key) {
	for j := 0; j*stride < n; j++ {
		f.set(j, k.at(data, size, j*stride))
	}
	f.truncate(n, stride, false)
}

// search is searchLE narrowed by the fence: n is the published entry count,
// loaded before the fence.
func (f *fence) search(data []byte, size, stride, n int, k key, target int64) int {
	s := f.slots()
	nb := (n + stride - 1) / stride
	if nb < 2 || len(s) < nb*8 {
		return searchLE(data, size, n, k, target)
	}
	j := searchLE(s, 8, nb, fenceKey, target)
	if j < 0 {
		return -1
	}
	lo, klo := j*stride, fenceKey.at(s, 8, j)
	if j+1 < nb {
		return searchBracket(data, size, k, target, lo, (j+1)*stride, klo, fenceKey.at(s, 8, j+1), blockRounds)
	}
	hi := n - 1
	khi := k.at(data, size, hi)
	if khi <= target {
		return hi
	}
	return searchBracket(data, size, k, target, lo, hi, klo, khi, blockRounds)
}
