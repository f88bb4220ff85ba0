package bench

import (
	"math"
	"math/bits"
	"time"
)

// latencyHist is a log-linear histogram of durations in microseconds:
// values below 128µs are counted exactly; above, each power of two is split
// into 64 buckets, so a bucket's width is under 1/64 of its values (a
// percentile is reported at most 1.6% high). Memory is fixed whatever the
// number of records.
type latencyHist struct {
	counts [histBuckets]int64
	total  int64
	max    time.Duration
}

const (
	histSubBits = 6 // 64 buckets per power of two
	histExact   = 2 << histSubBits
	histBuckets = histExact + (64-histSubBits-1)*(1<<histSubBits)
)

func histIndex(us uint64) int {
	if us < histExact {
		return int(us)
	}
	shift := bits.Len64(us) - histSubBits - 1 // us>>shift is in [64, 128)
	return histExact + (shift-1)<<histSubBits + int(us>>shift) - 1<<histSubBits
}

// histUpper returns the largest value counted in bucket i.
func histUpper(i int) uint64 {
	if i < histExact {
		return uint64(i)
	}
	j := i - histExact
	shift := j>>histSubBits + 1
	m := uint64(j&(1<<histSubBits-1) + 1<<histSubBits)
	return (m+1)<<shift - 1
}

func (h *latencyHist) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[histIndex(uint64(d.Microseconds()))]++
	h.total++
	h.max = max(h.max, d)
}

// quantile returns the smallest bucket bound at or below which a fraction q
// of the values lie, capped at the maximum seen.
func (h *latencyHist) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1)
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(histUpper(i))*time.Microsecond, h.max)
		}
	}
	return h.max
}

func (h *latencyHist) summary() *latencySummary {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return &latencySummary{
		P50:  ms(h.quantile(0.50)),
		P95:  ms(h.quantile(0.95)),
		P99:  ms(h.quantile(0.99)),
		P999: ms(h.quantile(0.999)),
		Max:  ms(h.max),
	}
}
