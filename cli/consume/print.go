package consume

import (
	"bufio"
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"samsa/cli/command"
)

// printLoop prints, in --format, the records cl fetches until the
// session ends, num records are printed (num > 0), or done reports true
// after a poll. A
// partition in limits is read up to that offset only. Each printed record
// goes to printed (if set); a partition read up to its limit or high
// watermark (last stable offset when committed) goes to caughtUp. Control
// records (transaction markers) count for that, and are not printed.
func printLoop(s *command.Session, cl *kgo.Client, parts []formatPart, num int, limits map[int32]int64, committed bool, printed func(*kgo.Record), caughtUp func(partition int32), done func() bool) error {
	ctx := s.Context()
	out := bufio.NewWriterSize(s.Out(), 64<<10)
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
			if errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed) || command.IsNetErr(err) {
				return
			}
			msg := fmt.Sprintf("%s partition %d: %v", t, p, err)
			if t == "" {
				msg = err.Error() // not a partition's: the group's
			}
			if !reported[msg] {
				reported[msg] = true
				fmt.Fprintf(s.Err(), "samsa consume: %s\n", msg)
			}
		})
		full := false
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			if full || fp.Err != nil || len(fp.Records) == 0 {
				return
			}
			limit, limited := limits[fp.Partition]
			end := fp.HighWatermark
			if committed {
				end = fp.LastStableOffset
			}
			if limited {
				end = limit
			}
			for _, r := range fp.Records {
				if limited && r.Offset >= limit {
					break
				}
				if r.Attrs.IsControl() {
					continue
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
