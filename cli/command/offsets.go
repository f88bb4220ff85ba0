package command

// The spellings of positions in partitions (--from, --to) and of
// partition lists (-p), and their resolution to offsets with the admin
// APIs: shared by consume, group seek, topic delete-records and offsets,
// and bench consume.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// StartAt is a parsed --from: where to start, and where to stop.
type StartAt struct {
	Kind string // "beginning", "end", "offset", "time" or "relative"
	N    int64  // the offset, the millisecond, or the distance (+ from the start, - from the end)
	// Until is the offset to stop before, -1 for none; UntilEnd stops at
	// the high watermark as of the start (both: whichever comes first).
	Until    int64
	UntilEnd bool
}

// ParseFrom parses --from, in Samsa's own spelling and in kcat's and rpk's.
func ParseFrom(s string) (StartAt, error) {
	bad := func() (StartAt, error) {
		return StartAt{}, UsageErrorf("--from %q: want beginning, end, offset:N, time:MS, N, -N, +N, @MS, :end or M:N (see --help)", s)
	}
	at := StartAt{Until: -1}
	switch s {
	case "beginning", "start", "oldest", "earliest":
		at.Kind = "beginning"
		return at, nil
	case "end", "newest", "latest":
		at.Kind = "end"
		return at, nil
	case ":end":
		at.Kind, at.UntilEnd = "beginning", true
		return at, nil
	}
	if kind, arg, ok := strings.Cut(s, ":"); ok && (kind == "offset" || kind == "time") {
		n, err := strconv.ParseInt(arg, 10, 64)
		if err != nil || n < 0 {
			return bad()
		}
		at.Kind, at.N = kind, n
		return at, nil
	}
	if ts, ok := strings.CutPrefix(s, "s@"); ok { // kcat
		s = "@" + ts
	}
	if ts, ok := strings.CutPrefix(s, "@"); ok { // rpk
		ms, err := parseTimestamp(ts, time.Now())
		if err != nil {
			return bad()
		}
		at.Kind, at.N = "time", ms
		return at, nil
	}
	if len(s) > 1 && (s[0] == '-' || s[0] == '+') {
		n, err := strconv.ParseInt(s[1:], 10, 64)
		if err != nil || n < 0 {
			return bad()
		}
		if s[0] == '-' {
			n = -n
		}
		at.Kind, at.N = "relative", n
		return at, nil
	}
	first, second, ranged := strings.Cut(s, ":")
	at.Kind = "offset"
	if first == "" {
		if !ranged || second == "" {
			return bad()
		}
		at.Kind = "beginning"
	} else {
		n, err := strconv.ParseInt(first, 10, 64)
		if err != nil || n < 0 {
			return bad()
		}
		at.N = n
	}
	switch {
	case !ranged, second == "":
	case second == "end":
		at.UntilEnd = true
	default:
		n, err := strconv.ParseInt(second, 10, 64)
		if err != nil || n < 0 || (at.Kind == "offset" && n <= at.N) {
			return bad()
		}
		at.Until, at.UntilEnd = n, true
	}
	return at, nil
}

// parseTimestamp reads the time of an @ position: milliseconds since the
// epoch, an RFC 3339 time, a date, or a negative duration before now.
func parseTimestamp(s string, now time.Time) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return n, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UnixMilli(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UnixMilli(), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d <= 0 {
		return now.Add(d).UnixMilli(), nil
	}
	return 0, errors.New("not a time")
}

// OffsetRange is where reading a partition starts and where its log ended
// when the command looked (or the end of the range asked for).
type OffsetRange struct{ Start, End int64 }

// LookupRanges resolves the partitions to read (want, or all of the topic)
// and the offset each starts at, with the admin APIs, so that the start is
// known exactly: -e can then tell a partition with nothing to read.
func LookupRanges(ctx context.Context, adm *kadm.Client, topic string, want []int32, from StartAt) (map[int32]OffsetRange, error) {
	return LookupRangesIsolated(ctx, adm, topic, want, from, false)
}

// LookupRangesIsolated is LookupRanges for a reader of committed records
// only when committed is set (isolation read_committed): a partition's
// log then ends at its last stable offset, not its high watermark.
func LookupRangesIsolated(ctx context.Context, adm *kadm.Client, topic string, want []int32, from StartAt, committed bool) (map[int32]OffsetRange, error) {
	want, err := TopicPartitions(ctx, adm, topic, want)
	if err != nil {
		return nil, err
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	listEnds := adm.ListEndOffsets
	if committed {
		listEnds = adm.ListCommittedOffsets
	}
	ends, err := listEnds(ctx, topic)
	if err != nil {
		return nil, err
	}
	var atTime kadm.ListedOffsets
	if from.Kind == "time" {
		if atTime, err = adm.ListOffsetsAfterMilli(ctx, from.N, topic); err != nil {
			return nil, err
		}
	}
	lookup := func(l kadm.ListedOffsets, what string, p int32) (int64, error) {
		o, ok := l.Lookup(topic, p)
		if !ok {
			return 0, fmt.Errorf("partition %d: no %s offset in the response", p, what)
		}
		if o.Err != nil {
			return 0, fmt.Errorf("partition %d: listing %s offset: %w", p, what, o.Err)
		}
		return o.Offset, nil
	}

	ranges := make(map[int32]OffsetRange, len(want))
	for _, p := range want {
		lo, err := lookup(starts, "start", p)
		if err != nil {
			return nil, err
		}
		hi, err := lookup(ends, "end", p)
		if err != nil {
			return nil, err
		}
		r := OffsetRange{Start: lo, End: hi}
		switch from.Kind {
		case "end":
			r.Start = hi
		case "offset":
			r.Start = min(max(from.N, lo), hi)
		case "relative":
			if from.N < 0 {
				r.Start = max(hi+from.N, lo)
			} else {
				r.Start = min(lo+from.N, hi)
			}
		case "time":
			at, err := lookup(atTime, "time", p)
			if err != nil {
				return nil, err
			}
			if at < 0 {
				at = hi
			}
			r.Start = min(max(at, lo), hi)
		}
		if from.Until >= 0 {
			r.End = max(min(r.End, from.Until), r.Start)
		}
		ranges[p] = r
	}
	return ranges, nil
}

// TopicPartitions returns want, checked against the topic's partitions,
// or all of them when want is empty, sorted.
func TopicPartitions(ctx context.Context, adm *kadm.Client, topic string, want []int32) ([]int32, error) {
	tds, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return nil, err
	}
	td, ok := tds[topic]
	if !ok {
		return nil, fmt.Errorf("topic %s: not in the metadata response", topic)
	}
	if td.Err != nil {
		return nil, fmt.Errorf("topic %s: %w", topic, td.Err)
	}
	if len(want) == 0 {
		return td.Partitions.Numbers(), nil
	}
	for _, p := range want {
		if _, ok := td.Partitions[p]; !ok {
			return nil, fmt.Errorf("topic %s has no partition %d (it has %d)", topic, p, len(td.Partitions))
		}
	}
	ps := slices.Clone(want)
	slices.Sort(ps)
	return ps, nil
}

// ParsePartitionList parses the values of a repeatable --partition flag,
// each a number or a comma-separated list: "0,1" "5".
func ParsePartitionList(flagName string, vals []string) ([]int32, error) {
	var ps []int32
	seen := make(map[int32]bool)
	for _, s := range vals {
		for f := range strings.SplitSeq(s, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 32)
			if err != nil || n < 0 {
				return nil, UsageErrorf("%s %q: want partition numbers, comma-separated", flagName, s)
			}
			if !seen[int32(n)] {
				seen[int32(n)] = true
				ps = append(ps, int32(n))
			}
		}
	}
	return ps, nil
}
