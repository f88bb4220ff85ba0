package consume

// --format: how each record is printed.

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"

	"samsa/cli/command"
)

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
			return nil, command.UsageErrorf("--format %q: ends in a lone %c", s, ch)
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
				return nil, command.UsageErrorf("--format %q: unknown escape \\%c", s, next)
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
			return nil, command.UsageErrorf("--format %q: unknown verb %%%c", s, next)
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
