package main

// samsa consume: read partitions directly, or as a member of a consumer
// group with --group (group.go), and print each record through a format
// string, like kcat -C and rpk topic consume.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const consumeLong = `Reads the partitions of TOPIC directly (or, with --group, as a member of a
consumer group) and prints each record with --format. Runs until
interrupted, unless -n, -e or an end in --from says when to stop. Records
of different partitions interleave. Exits 1 if the brokers stay
unreachable for --timeout, 130 or 143 when stopped by SIGINT or SIGTERM.

--from (-o) says where to start in each partition; kcat's and rpk's -o
spellings are accepted too:
  beginning, start, earliest  the log start offset (the default)
  end, latest                 the high watermark: new records only
  offset:N, N                 offset N (clamped to the log)
  -N                          N records before the high watermark (kcat, rpk)
  +N                          N records after the log start (rpk)
  time:MS, s@MS, @MS          the first record with a timestamp at or after MS
                              milliseconds since the epoch (kcat s@, rpk @);
                              @ also takes an RFC 3339 time or a duration
                              before now: @2024-05-01T10:00:00Z, @-1h
  :end                        from the start up to the high watermark (rpk)
  :N, M:N                     from the start (or offset M) up to, not
                              including, offset N (rpk)
A range that has an end exits when every partition has reached it.

--format F prints each record: %t topic  %p partition  %o offset  %k key
%v value  %T timestamp (ms)  %h headers as k=v,k=v  %% a percent sign;
\n \t \r \\ escapes. The default is "%v\n".`

func consumeCmd(cf *clientFlags) *cobra.Command {
	var (
		parts     []string
		from      string
		format    string
		num       int
		exitAtEnd bool
		groupID   string
	)
	c := &cobra.Command{
		Use:   "consume TOPIC [flags]",
		Short: "Print the records of a topic's partitions",
		Long:  consumeLong,
		Example: `  samsa consume events --from beginning -e --format '%p@%o %k=%v\n'
  samsa consume events -p 0 -o -10 -e       # the last 10 records of partition 0
  samsa consume events --group readers      # as a member of group readers`,
		Args:              exactArgs(1, "exactly one TOPIC"),
		ValidArgsFunction: cf.completeTopic,
		RunE: cf.runE(func(s *session, args []string) error {
			topic := args[0]
			fparts, err := parseFormat(format)
			if err != nil {
				return err
			}
			start, err := parseFrom(from)
			if err != nil {
				return err
			}
			if num < 0 {
				return usageErrorf("--num %d: want a positive count", num)
			}
			want, err := parsePartitionList("--partition", parts)
			if err != nil {
				return err
			}
			if start.untilEnd {
				exitAtEnd = true
			}
			if groupID != "" {
				switch {
				case len(want) > 0:
					return usageErrorf("--partition and --group do not go together: the group assigns partitions")
				case start.until >= 0:
					return usageErrorf("--from %q: an end offset does not go with --group", from)
				case start.kind == "relative":
					return usageErrorf("--from %q: relative offsets do not go with --group", from)
				}
				return consumeGroup(s, topic, groupID, fparts, start, num, exitAtEnd)
			}
			return consumePartitions(s, topic, want, fparts, start, num, exitAtEnd)
		}),
	}
	c.Flags().StringArrayVarP(&parts, "partition", "p", nil, "read only partition `P` (repeatable, or comma-separated; default all)")
	c.Flags().StringVarP(&from, "from", "o", "beginning", "where to start (and end): `POSITION`, see above")
	c.Flags().StringVar(&format, "format", `%v\n`, "how to print each record: `F`, see above")
	c.Flags().IntVarP(&num, "num", "n", 0, "exit after `N` records")
	c.Flags().BoolVarP(&exitAtEnd, "exit-at-end", "e", false, "exit once every partition has been read up to its high watermark as of when it caught up")
	c.Flags().StringVarP(&groupID, "group", "g", "", "consume as a member of consumer group `G`: members share the partitions, reading starts at the group's committed offsets (--from applies to partitions without one), and printed records are committed every 5s and on exit")
	flagAliases(c, map[string]string{"partitions": "partition", "offset": "from"})
	cf.addTo(c.Flags())
	c.RegisterFlagCompletionFunc("group", func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return cf.completeGroups(cmd, nil, toComplete)
	})
	return c
}

// fetchMaxWait is how long a fetch waits for records at the broker: the
// Java consumer's fetch.max.wait.ms, where kgo's default is 5s. Shorter,
// a consumer notices a broker that stopped answering sooner.
const fetchMaxWait = 500 * time.Millisecond

func consumePartitions(s *session, topic string, want []int32, fparts []formatPart, start startAt, num int, exitAtEnd bool) error {
	adm, closeAdm, err := s.admin()
	if err != nil {
		return err
	}
	ctx, cancel := s.reqCtx()
	ranges, err := lookupRanges(ctx, adm, topic, want, start)
	cancel()
	closeAdm()
	if err != nil {
		return err
	}

	// pending holds the partitions not yet read to their end, for -e; limits
	// the end offsets of a range with an end.
	pending := make(map[int32]bool)
	offsets := make(map[int32]kgo.Offset)
	var limits map[int32]int64
	if start.until >= 0 || start.untilEnd {
		limits = make(map[int32]int64)
	}
	for p, r := range ranges {
		offsets[p] = kgo.NewOffset().At(r.start)
		if r.start < r.end {
			pending[p] = true
		}
		if limits != nil {
			limits[p] = r.end
		}
	}
	if exitAtEnd && len(pending) == 0 {
		return nil
	}

	cl, err := s.newClient(
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.FetchMaxWait(fetchMaxWait),
	)
	if err != nil {
		return err
	}
	defer s.closeClient(cl)
	// A fetch is always outstanding: an answer comes at least every
	// fetchMaxWait while the broker is there.
	go s.watchConnections(fetchMaxWait + s.cf.timeout)
	return printLoop(s.ctx, cl, fparts, num, limits, nil,
		func(p int32) { delete(pending, p) },
		func() bool { return exitAtEnd && len(pending) == 0 })
}

// printLoop prints, in --format, the records cl fetches until ctx ends, num
// records are printed (num > 0), or done reports true after a poll. A
// partition in limits is read up to that offset only. Each printed record
// goes to printed (if set); a partition read up to its limit or high
// watermark goes to caughtUp.
func printLoop(ctx context.Context, cl *kgo.Client, parts []formatPart, num int, limits map[int32]int64, printed func(*kgo.Record), caughtUp func(partition int32), done func() bool) error {
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	var buf []byte
	count := 0
	reported := map[string]bool{}
	for {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			if err := out.Flush(); err != nil {
				return err
			}
			return ctx.Err()
		}
		fetches.EachError(func(t string, p int32, err error) {
			// Connection failures are the watchdog's to report, once it
			// gives up; other errors are reported once each.
			if errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed) || isNetErr(err) {
				return
			}
			msg := fmt.Sprintf("%s partition %d: %v", t, p, err)
			if t == "" {
				msg = err.Error() // not a partition's: the group's
			}
			if !reported[msg] {
				reported[msg] = true
				fmt.Fprintf(os.Stderr, "samsa consume: %s\n", msg)
			}
		})
		full := false
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			if full || fp.Err != nil || len(fp.Records) == 0 {
				return
			}
			limit, limited := limits[fp.Partition]
			end := fp.HighWatermark
			if limited {
				end = limit
			}
			for _, r := range fp.Records {
				if limited && r.Offset >= limit {
					break
				}
				buf = formatRecord(buf[:0], parts, r)
				out.Write(buf)
				if printed != nil {
					printed(r)
				}
				count++
				if num > 0 && count >= num {
					full = true
					return
				}
			}
			if last := fp.Records[len(fp.Records)-1]; last.Offset+1 >= end {
				caughtUp(fp.Partition)
			}
		})
		if err := out.Flush(); err != nil {
			return err
		}
		if full || done() {
			return nil
		}
	}
}

// startAt is a parsed --from: where to start, and where to stop.
type startAt struct {
	kind string // "beginning", "end", "offset", "time" or "relative"
	n    int64  // the offset, the millisecond, or the distance (+ from the start, - from the end)
	// until is the offset to stop before, -1 for none; untilEnd stops at
	// the high watermark as of the start (both: whichever comes first).
	until    int64
	untilEnd bool
}

// parseFrom parses --from, in Samsa's own spelling and in kcat's and rpk's.
func parseFrom(s string) (startAt, error) {
	bad := func() (startAt, error) {
		return startAt{}, usageErrorf("--from %q: want beginning, end, offset:N, time:MS, N, -N, +N, @MS, :end or M:N (see --help)", s)
	}
	at := startAt{until: -1}
	switch s {
	case "beginning", "start", "oldest", "earliest":
		at.kind = "beginning"
		return at, nil
	case "end", "newest", "latest":
		at.kind = "end"
		return at, nil
	case ":end":
		at.kind, at.untilEnd = "beginning", true
		return at, nil
	}
	if kind, arg, ok := strings.Cut(s, ":"); ok && (kind == "offset" || kind == "time") {
		n, err := strconv.ParseInt(arg, 10, 64)
		if err != nil || n < 0 {
			return bad()
		}
		at.kind, at.n = kind, n
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
		at.kind, at.n = "time", ms
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
		at.kind, at.n = "relative", n
		return at, nil
	}
	first, second, ranged := strings.Cut(s, ":")
	at.kind = "offset"
	if first == "" {
		if !ranged || second == "" {
			return bad()
		}
		at.kind = "beginning"
	} else {
		n, err := strconv.ParseInt(first, 10, 64)
		if err != nil || n < 0 {
			return bad()
		}
		at.n = n
	}
	switch {
	case !ranged, second == "":
	case second == "end":
		at.untilEnd = true
	default:
		n, err := strconv.ParseInt(second, 10, 64)
		if err != nil || n < 0 || (at.kind == "offset" && n <= at.n) {
			return bad()
		}
		at.until, at.untilEnd = n, true
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

// offsetRange is where reading a partition starts and where its log ended
// when the command looked (or the end of the range asked for).
type offsetRange struct{ start, end int64 }

// lookupRanges resolves the partitions to read (want, or all of the topic)
// and the offset each starts at, with the admin APIs, so that the start is
// known exactly: -e can then tell a partition with nothing to read.
func lookupRanges(ctx context.Context, adm *kadm.Client, topic string, want []int32, from startAt) (map[int32]offsetRange, error) {
	want, err := topicPartitions(ctx, adm, topic, want)
	if err != nil {
		return nil, err
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	var atTime kadm.ListedOffsets
	if from.kind == "time" {
		if atTime, err = adm.ListOffsetsAfterMilli(ctx, from.n, topic); err != nil {
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

	ranges := make(map[int32]offsetRange, len(want))
	for _, p := range want {
		lo, err := lookup(starts, "start", p)
		if err != nil {
			return nil, err
		}
		hi, err := lookup(ends, "end", p)
		if err != nil {
			return nil, err
		}
		r := offsetRange{start: lo, end: hi}
		switch from.kind {
		case "end":
			r.start = hi
		case "offset":
			r.start = min(max(from.n, lo), hi)
		case "relative":
			if from.n < 0 {
				r.start = max(hi+from.n, lo)
			} else {
				r.start = min(lo+from.n, hi)
			}
		case "time":
			at, err := lookup(atTime, "time", p)
			if err != nil {
				return nil, err
			}
			if at < 0 {
				at = hi
			}
			r.start = min(max(at, lo), hi)
		}
		if from.until >= 0 {
			r.end = max(min(r.end, from.until), r.start)
		}
		ranges[p] = r
	}
	return ranges, nil
}

// formatPart is a piece of a --format string: literal bytes, or a verb.
type formatPart struct {
	lit  []byte
	verb byte // 0 for a literal
}

func parseFormat(s string) ([]formatPart, error) {
	var parts []formatPart
	var lit []byte
	flush := func() {
		if len(lit) > 0 {
			parts = append(parts, formatPart{lit: lit})
			lit = nil
		}
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch != '%' && ch != '\\' {
			lit = append(lit, ch)
			continue
		}
		if i+1 == len(s) {
			return nil, usageErrorf("--format %q: ends in a lone %c", s, ch)
		}
		i++
		next := s[i]
		if ch == '\\' {
			switch next {
			case 'n':
				lit = append(lit, '\n')
			case 't':
				lit = append(lit, '\t')
			case 'r':
				lit = append(lit, '\r')
			case '\\':
				lit = append(lit, '\\')
			default:
				return nil, usageErrorf("--format %q: unknown escape \\%c", s, next)
			}
			continue
		}
		switch next {
		case '%':
			lit = append(lit, '%')
		case 't', 'p', 'o', 'k', 'v', 'T', 'h':
			flush()
			parts = append(parts, formatPart{verb: next})
		default:
			return nil, usageErrorf("--format %q: unknown verb %%%c", s, next)
		}
	}
	flush()
	return parts, nil
}

// formatRecord appends r, rendered by parts, to b.
func formatRecord(b []byte, parts []formatPart, r *kgo.Record) []byte {
	for _, p := range parts {
		switch p.verb {
		case 0:
			b = append(b, p.lit...)
		case 't':
			b = append(b, r.Topic...)
		case 'p':
			b = strconv.AppendInt(b, int64(r.Partition), 10)
		case 'o':
			b = strconv.AppendInt(b, r.Offset, 10)
		case 'k':
			b = append(b, r.Key...)
		case 'v':
			b = append(b, r.Value...)
		case 'T':
			b = strconv.AppendInt(b, r.Timestamp.UnixMilli(), 10)
		case 'h':
			for i, h := range r.Headers {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, h.Key...)
				b = append(b, '=')
				b = append(b, h.Value...)
			}
		}
	}
	return b
}
