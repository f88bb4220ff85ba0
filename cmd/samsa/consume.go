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
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const consumeUsage = `usage: samsa consume TOPIC [flags]

Reads the partitions of TOPIC directly (or, with --group, as a member of a
consumer group) and prints each record with --format. Runs until interrupted, unless -n or -e
says when to stop. Records of different partitions interleave.

flags:
      --partitions 0,1,...   partitions to read (default all of the topic)
      --from POSITION        where to start in each partition:
                               beginning  the log start offset (default)
                               end        the high watermark: new records only
                               offset:N   offset N (clamped to the log)
                               time:MS    the first record with a timestamp at
                                          or after MS milliseconds since the epoch
      --format F             how to print each record (default "%v\n"):
                               %t topic  %p partition  %o offset  %k key
                               %v value  %T timestamp (ms)  %h headers as
                               k=v,k=v  %% a percent sign;  \n \t \r \\ escapes
  -n, --num N                exit after N records
  -e, --exit-at-end          exit once every partition has been read up to
                             its high watermark as of when it caught up
  -g, --group G              consume as a member of consumer group G: the
                             group's members share the partitions, reading
                             starts at the group's committed offsets (--from
                             applies to partitions without one), and the
                             printed records are committed every 5s and on
                             exit; not with --partitions
`

func consume(args []string) int {
	c := newCommand("consume", consumeUsage)
	cf := c.withClient()
	var (
		partList  string
		from      string
		format    string
		num       int
		exitAtEnd bool
		groupID   string
	)
	c.fs.StringVar(&partList, "partitions", "", "")
	c.fs.StringVar(&from, "from", "beginning", "")
	c.fs.StringVar(&format, "format", `%v\n`, "")
	c.fs.IntVar(&num, "n", 0, "")
	c.fs.IntVar(&num, "num", 0, "")
	c.fs.BoolVar(&exitAtEnd, "e", false, "")
	c.fs.BoolVar(&exitAtEnd, "exit-at-end", false, "")
	c.fs.StringVar(&groupID, "g", "", "")
	c.fs.StringVar(&groupID, "group", "", "")
	return c.run(args, func(pos []string) error {
		if len(pos) != 1 {
			return usageErrorf("want exactly one TOPIC, got %d arguments", len(pos))
		}
		topic := pos[0]
		parts, err := parseFormat(format)
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
		if groupID != "" {
			if partList != "" {
				return usageErrorf("--partitions and --group do not go together: the group assigns partitions")
			}
			return consumeGroup(cf, topic, groupID, parts, start, num, exitAtEnd)
		}
		var want []int32
		if partList != "" {
			if want, err = parsePartitionList(partList); err != nil {
				return err
			}
		}

		ranges, err := lookupRanges(cf, topic, want, start)
		if err != nil {
			return err
		}

		// pending holds the partitions not yet read to their end, for -e.
		pending := make(map[int32]bool)
		offsets := make(map[int32]kgo.Offset)
		for p, r := range ranges {
			offsets[p] = kgo.NewOffset().At(r.start)
			if r.start < r.end {
				pending[p] = true
			}
		}
		if exitAtEnd && len(pending) == 0 {
			return nil
		}

		cl, err := cf.newClient(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}))
		if err != nil {
			return err
		}
		defer cl.Close()
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()

		return printLoop(ctx, cl, parts, num, nil,
			func(p int32) { delete(pending, p) },
			func() bool { return exitAtEnd && len(pending) == 0 })
	})
}

// printLoop prints, in --format, the records cl fetches until ctx ends, num
// records are printed (num > 0), or done reports true after a poll. Each
// printed record goes to printed (if set); a partition read up to its high
// watermark goes to caughtUp.
func printLoop(ctx context.Context, cl *kgo.Client, parts []formatPart, num int, printed func(*kgo.Record), caughtUp func(partition int32), done func() bool) error {
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	var buf []byte
	count := 0
	for {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return out.Flush()
		}
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, kgo.ErrClientClosed) {
				fmt.Fprintf(os.Stderr, "samsa consume: %s partition %d: %v\n", t, p, err)
			}
		})
		full := false
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			if full || fp.Err != nil || len(fp.Records) == 0 {
				return
			}
			for _, r := range fp.Records {
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
			if last := fp.Records[len(fp.Records)-1]; last.Offset+1 >= fp.HighWatermark {
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

// startAt is a parsed --from: one of the kinds with its argument.
type startAt struct {
	kind string // "beginning", "end", "offset" or "time"
	n    int64  // the offset or the millisecond
}

func parseFrom(s string) (startAt, error) {
	switch s {
	case "beginning", "start", "oldest":
		return startAt{kind: "beginning"}, nil
	case "end", "newest":
		return startAt{kind: "end"}, nil
	}
	if kind, arg, ok := strings.Cut(s, ":"); ok && (kind == "offset" || kind == "time") {
		if n, err := strconv.ParseInt(arg, 10, 64); err == nil && n >= 0 {
			return startAt{kind: kind, n: n}, nil
		}
	}
	return startAt{}, usageErrorf("--from %q: want beginning, end, offset:N or time:MS", s)
}

// offsetRange is where reading a partition starts and where its log ended
// when the command looked.
type offsetRange struct{ start, end int64 }

// lookupRanges resolves the partitions to read (want, or all of the topic)
// and the offset each starts at, with the admin APIs, so that the start is
// known exactly: -e can then tell a partition with nothing to read.
func lookupRanges(cf *clientFlags, topic string, want []int32, from startAt) (map[int32]offsetRange, error) {
	adm, err := cf.newAdmin()
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	ctx, cancel := cf.ctx()
	defer cancel()

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
	if want == nil {
		want = td.Partitions.Numbers()
	}
	for _, p := range want {
		if _, ok := td.Partitions[p]; !ok {
			return nil, fmt.Errorf("topic %s has no partition %d (it has %d)", topic, p, len(td.Partitions))
		}
	}

	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("listing start offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("listing end offsets: %w", err)
	}
	var atTime kadm.ListedOffsets
	if from.kind == "time" {
		if atTime, err = adm.ListOffsetsAfterMilli(ctx, from.n, topic); err != nil {
			return nil, fmt.Errorf("listing offsets by time: %w", err)
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
