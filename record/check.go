package record

import "fmt"

// Check makes the record-level checks of Kafka's LogValidator on the
// records of one batch whose header ValidateProduce accepted: every
// record's length frames it exactly, offset deltas run 0, 1, 2, ..., the
// count matches the header, and nothing trails the last record (ErrFraming
// for the batch). Two checks are per record, and every record they refuse
// is named in a *RecordsError: with requireKey (a compacted topic) every
// record must have a key (ErrNoKey); with maxTsDiff >= 0 every CreateTime
// timestamp but NoTimestamp must be within maxTsDiff ms of now
// (ErrTimestamp). It allocates nothing for a batch it accepts.
//
// records is the batch's records region, decompressed if it was
// compressed (Inflate).
//
// This is the broker's hottest per-record loop, so it runs in two gears:
// skim.records walks the plain records, testing each field without
// building a Record; a record it cannot vouch for (a varint over four
// bytes, a field that does not frame, a refused key or timestamp) is read
// by Iter's parse, which decides and words the error. Together they
// accept and refuse exactly what a walk with Iter does, in the same words
// (FuzzCheck, TestCheckAgreesWithIter).
func Check(records []byte, h *Header, now, maxTsDiff int64, requireKey bool) error {
	s := skim{n: h.RecordCount, requireKey: requireKey}
	if maxTsDiff >= 0 && h.Attributes&AttrLogAppendTime == 0 {
		s.checkTs, s.first, s.now, s.maxTsDiff = true, h.FirstTimestamp, now, maxTsDiff
	}
	var refused []RecordError
	var rec Record
	b := records
	pos := 0 // where record i starts
	for i := int32(0); ; i++ {
		pos, i = s.records(b, pos, i)
		if i >= s.n {
			break
		}
		l, k := varint(b[pos:])
		if k <= 0 || l < 0 || l > int64(len(b)-pos-k) {
			return fmt.Errorf("%w: record %d length", ErrFraming, i)
		}
		end := pos + k + int(l)
		if !rec.parse(b[pos+k : end]) {
			return fmt.Errorf("%w: record %d", ErrFraming, i)
		}
		pos = end
		if rec.OffsetDelta != i {
			return fmt.Errorf("%w: record %d has offset delta %d", ErrFraming, i, rec.OffsetDelta)
		}
		if requireKey && rec.Key == nil {
			refused = append(refused, RecordError{Index: i, Offset: rec.Offset(h), Timestamp: rec.Timestamp(h), Err: ErrNoKey})
		} else if ts := h.FirstTimestamp + rec.TimestampDelta; s.checkTs && ts != NoTimestamp && (ts-now > maxTsDiff || now-ts > maxTsDiff) {
			refused = append(refused, RecordError{Index: i, Offset: rec.Offset(h), Timestamp: ts, Err: ErrTimestamp})
		}
	}
	if rest := len(b) - pos; rest != 0 {
		return fmt.Errorf("%w: %d bytes after the last record", ErrFraming, rest)
	}
	if refused != nil {
		return &RecordsError{Records: refused}
	}
	return nil
}

// skim is what skim.records checks records against: Check's arguments.
type skim struct {
	n          int32 // the header's record count
	requireKey bool
	checkTs    bool // timestamps are bounded: first + delta within maxTsDiff of now
	first      int64
	now        int64
	maxTsDiff  int64
}

// records checks records i, i+1, ... from b[pos:] for as long as each is
// one Check accepts without a doubt, and returns where it stopped: the
// position and index of the first record it leaves to Check's full read
// (i = s.n when none is left). A record passes if its varints are at most
// four bytes, its fields fill its length exactly with a non-null key on
// every header, its offset delta is i, and neither its key nor its
// timestamp is refused; such a record is one parse accepts.
//
// It is written for speed: no calls but for records with headers, so the
// loop keeps its state in registers; varints are tested in their zigzag form (2n for n >= 0,
// 1 for -1), never decoded where a test suffices; and a field is not
// bounded on its own: positions only grow, so a record whose fields end
// exactly at its end had each of them within it.
func (s *skim) records(b []byte, pos int, i int32) (int, int32) {
	n, requireKey, checkTs := s.n, s.requireKey, s.checkTs
	for ; i < n; i++ {
		z, p := uvarint2(b, pos)
		if p < 0 {
			if z, p = uvarint4(b, pos); p < 0 {
				break
			}
		}
		if z&1 != 0 || z>>1 > uint64(len(b)-p) {
			break // a negative length, or past the records
		}
		// The next record starts where this one's length says, so the
		// walk through its fields is off the chain from record to record.
		end := p + int(z>>1)
		q := p + 1 // after the attributes, unused
		ts, p := uvarint2(b, q)
		if p < 0 {
			if ts, p = uvarint4(b, q); p < 0 {
				break
			}
		}
		if checkTs {
			if t := s.first + (int64(ts>>1) ^ -int64(ts&1)); t != NoTimestamp && (t-s.now > s.maxTsDiff || s.now-t > s.maxTsDiff) {
				break
			}
		}
		q = p
		off, p := uvarint2(b, q)
		if p < 0 {
			if off, p = uvarint4(b, q); p < 0 {
				break
			}
		}
		if off != uint64(i)<<1 {
			break
		}
		q = p
		key, p := uvarint2(b, q)
		if p < 0 {
			if key, p = uvarint4(b, q); p < 0 {
				break
			}
		}
		if key&1 != 0 && (key != 1 || requireKey) {
			break // a length below -1, or a null key where one is required
		}
		q = p + int(key>>1)
		val, p := uvarint2(b, q)
		if p < 0 {
			if val, p = uvarint4(b, q); p < 0 {
				break
			}
		}
		if val&1 != 0 && val != 1 {
			break
		}
		p += int(val >> 1)
		if uint(p) < uint(len(b)) && b[p] == 0 {
			p++ // no headers, most records
		} else {
			p = skimHeaders(b, p)
		}
		if p != end {
			break
		}
		pos = end
	}
	return pos, i
}

// skimHeaders skims a record's header count at b[p:] and its headers as
// skim.records does the fields before them: the position after them, -1
// for anything it leaves to parse (a header key is never null).
func skimHeaders(b []byte, p int) int {
	nh, p := uvarint4(b, p)
	if p < 0 || nh&1 != 0 {
		return -1
	}
	for range nh >> 1 {
		k, q := uvarint4(b, p)
		if q < 0 || k&1 != 0 {
			return -1
		}
		v, q := uvarint4(b, q+int(k>>1))
		if q < 0 || v&1 != 0 && v != 1 {
			return -1
		}
		p = q + int(v>>1)
	}
	return p
}

// uvarint2 reads a varint of one or two bytes at b[p:], most of a
// record's, in its raw (zigzag) form: its value and the position after
// it, or -1 for anything else (a longer varint, or none within b).
// uvarint4 takes over where it fails. Both stay within the inliner's
// budget (80): keep them so, skim.records' loop relies on it.
func uvarint2(b []byte, p int) (uint64, int) {
	if uint(p) < uint(len(b)) {
		u := uint64(b[p])
		if u < 0x80 {
			return u, p + 1
		}
		if uint(p+1) < uint(len(b)) {
			if c := uint64(b[p+1]); c < 0x80 {
				return u&0x7f | c<<7, p + 2
			}
		}
	}
	return 0, -1
}

// uvarint4 is uvarint2 up to four bytes: every length, offset delta and
// count of a batch up to 128 MiB.
func uvarint4(b []byte, p int) (uint64, int) {
	var u uint64
	for s := 0; s < 28 && uint(p) < uint(len(b)); s += 7 {
		c := b[p]
		p++
		u |= uint64(c&0x7f) << s
		if c < 0x80 {
			return u, p
		}
	}
	return 0, -1
}
