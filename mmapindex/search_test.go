package mmapindex

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// TestSearchLE compares the interpolating search with sort.Search over key
// sequences near to and far from linear, for targets inside, between and
// beyond the keys, in both key widths.
func TestSearchLE(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	shapes := map[string]func(i int, prev int64) int64{
		"linear":      func(i int, prev int64) int64 { return prev + 16 },
		"random-gaps": func(i int, prev int64) int64 { return prev + 1 + rng.Int64N(64) },
		"two-rates": func(i int, prev int64) int64 {
			if i < 3000 {
				return prev + 1
			}
			return prev + 5000
		},
		"exponential": func(i int, prev int64) int64 {
			step := 1 + max(prev, -prev)/64
			if prev > math.MaxInt64-step {
				return prev + 1 // saturated
			}
			return prev + step
		},
		"one-jump": func(i int, prev int64) int64 {
			if i == 4000 {
				return prev + 1<<40
			}
			return prev + 1
		},
	}
	for name, next := range shapes {
		for _, n := range []int{0, 1, 2, 3, 17, 33, 5000} {
			for _, k := range []key{relOffsetKey, timestampKey} {
				size := OffsetEntrySize
				if k.wide {
					size = TimeEntrySize
				}
				keys := make([]int64, n)
				data := make([]byte, n*size)
				prev := int64(1)
				if k.wide {
					prev = -1 << 50 // negative keys, wide spans
				}
				for i := range n {
					v := next(i, prev)
					if !k.wide && v > math.MaxInt32 {
						v = prev + 1
					}
					if v <= prev {
						t.Fatalf("%s: key %d after %d does not increase", name, v, prev)
					}
					keys[i], prev = v, v
					if k.wide {
						binary.BigEndian.PutUint64(data[i*size:], uint64(v))
					} else {
						binary.BigEndian.PutUint32(data[i*size:], uint32(v))
					}
				}
				check := func(target int64) {
					want := sort.Search(n, func(i int) bool { return keys[i] > target }) - 1
					if got := searchLE(data, size, n, k, target); got != want {
						t.Fatalf("%s n=%d wide=%v target %d: got %d, want %d", name, n, k.wide, target, got, want)
					}
				}
				for _, target := range []int64{math.MinInt64, math.MaxInt64, -1, 0} {
					check(target)
				}
				for i := range n {
					check(keys[i])
					check(keys[i] - 1)
					check(keys[i] + 1)
				}
				if n > 0 {
					for range 2000 {
						check(keys[0] - 5 + rng.Int64N(keys[n-1]-keys[0]+10))
					}
				}
			}
		}
	}
}

// TestFencedLookups checks OffsetIndex and TimeIndex lookups, which search
// the fence first, against sort.Search over their entries: after appends of
// several strides, a truncation into the middle of a stride and appends
// with different spacing, a trim, and a reopen.
func TestFencedLookups(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 3))
	ox, err := OpenOffset(openFile(t, dir+"/x.index"), 1000, 8*5000, true)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := OpenTime(openFile(t, dir+"/x.timeindex"), 1000, 12*5000, true)
	if err != nil {
		t.Fatal(err)
	}
	off, pos, ts := int64(1000), int64(0), int64(1_700_000_000_000)
	appendN := func(n int, maxStep int64) {
		for range n {
			off += 1 + rng.Int64N(maxStep)
			pos += 100 + rng.Int64N(100*maxStep)
			ts += 1 + rng.Int64N(maxStep*maxStep)
			if err := ox.Append(off, pos); err != nil {
				t.Fatal(err)
			}
			if ok, err := tx.MaybeAppend(ts, off); err != nil || !ok {
				t.Fatal(ok, err)
			}
		}
	}
	check := func(ox *OffsetIndex, tx *TimeIndex) {
		t.Helper()
		n := ox.Len()
		for range 3000 {
			lastOff, lastPos := ox.Last()
			target := 990 + rng.Int64N(lastOff-980)
			want := sort.Search(n, func(i int) bool { o, _ := ox.Entry(i); return o > target }) - 1
			wo, wp := int64(1000), int64(0)
			if want >= 0 {
				wo, wp = ox.Entry(want)
			}
			if o, p := ox.Lookup(target); o != wo || p != wp {
				t.Fatalf("n=%d Lookup(%d) = (%d, %d), want (%d, %d)", n, target, o, p, wo, wp)
			}
			ptarget := rng.Int64N(lastPos + 10)
			want = sort.Search(n, func(i int) bool { _, p := ox.Entry(i); return p > ptarget }) - 1
			wo, wp = 1000, 0
			if want >= 0 {
				wo, wp = ox.Entry(want)
			}
			if o, p := ox.LookupPosition(ptarget); o != wo || p != wp {
				t.Fatalf("n=%d LookupPosition(%d) = (%d, %d), want (%d, %d)", n, ptarget, o, p, wo, wp)
			}
			lastTs, _ := tx.Last()
			ttarget := 1_700_000_000_000 - 5 + rng.Int64N(lastTs-1_700_000_000_000+10)
			want = sort.Search(tx.Len(), func(i int) bool { t2, _ := tx.Entry(i); return t2 > ttarget }) - 1
			wt, wto := int64(NoTimestamp), int64(1000)
			if want >= 0 {
				wt, wto = tx.Entry(want)
			}
			if t2, o := tx.Lookup(ttarget); t2 != wt || o != wto {
				t.Fatalf("n=%d time Lookup(%d) = (%d, %d), want (%d, %d)", tx.Len(), ttarget, t2, o, wt, wto)
			}
		}
	}
	appendN(3*offsetStride+17, 4)
	check(ox, tx)
	// Truncate into the middle of the second stride, then append with a
	// different spacing: the fence must follow.
	cut, _ := ox.Entry(offsetStride + 100)
	if err := ox.TruncateTo(cut); err != nil {
		t.Fatal(err)
	}
	if err := tx.TruncateTo(cut); err != nil {
		t.Fatal(err)
	}
	off, pos = ox.Last()
	ts, _ = tx.Last()
	appendN(2*offsetStride+3, 64)
	check(ox, tx)
	if err := ox.Trim(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Trim(); err != nil {
		t.Fatal(err)
	}
	check(ox, tx)
	ox.Close()
	tx.Close()
	rox, err := OpenOffset(openFile(t, dir+"/x.index"), 1000, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rox.Close()
	rtx, err := OpenTime(openFile(t, dir+"/x.timeindex"), 1000, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rtx.Close()
	check(rox, rtx)
}

// TestFencedLookupsConcurrent runs lookups while the writer appends,
// truncates and appends again: under -race this checks that the fence is
// published safely, and every answer is an entry at or below its target.
func TestFencedLookupsConcurrent(t *testing.T) {
	x, err := OpenOffset(openFile(t, t.TempDir()+"/x.index"), 0, 8*20000, true)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	done := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		defer close(errc)
		rng := rand.New(rand.NewPCG(4, 4))
		for {
			select {
			case <-done:
				return
			default:
			}
			target := rng.Int64N(200000)
			if o, _ := x.Lookup(target); o > target {
				errc <- fmt.Errorf("Lookup(%d) = %d", target, o)
				return
			}
		}
	}()
	for round := range 5 {
		for !x.Full() {
			o, p := x.Last()
			if err := x.Append(o+3, p+50); err != nil {
				t.Fatal(err)
			}
		}
		if err := x.TruncateTo(int64(1000 * (round + 1))); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
