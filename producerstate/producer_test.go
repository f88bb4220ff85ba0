package producerstate

import (
	"errors"
	"math"
	"slices"
	"testing"

	"samsa/record"

	"github.com/twmb/franz-go/pkg/kerr"
)

func idemHeader(pid int64, epoch int16, seq int32, records int32) *record.Header {
	return &record.Header{ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq, LastOffsetDelta: records - 1, RecordCount: records}
}

func wantCode(t *testing.T, err error, code *kerr.Error) {
	t.Helper()
	var ke *kerr.Error
	if !errors.As(err, &ke) || ke != code {
		t.Fatalf("got %v, want %s", err, code.Message)
	}
}

func TestProducerStateSequences(t *testing.T) {
	ps := NewState()
	offset := int64(100)
	appendBatch := func(h *record.Header) {
		t.Helper()
		dup, err := ps.Check(h)
		if err != nil || dup != nil {
			t.Fatalf("check %+v: dup %v err %v", h, dup, err)
		}
		ps.Update(h, offset, 1)
		offset += int64(h.RecordCount)
	}
	// Unknown producer must start at 0.
	_, err := ps.Check(idemHeader(7, 0, 5, 1))
	wantCode(t, err, kerr.UnknownProducerID)
	appendBatch(idemHeader(7, 0, 0, 3)) // seq 0-2 at 100
	appendBatch(idemHeader(7, 0, 3, 2)) // seq 3-4 at 103
	// A retry of the first batch returns its original offsets.
	dup, err := ps.Check(idemHeader(7, 0, 0, 3))
	if err != nil || dup == nil || dup.FirstOffset != 100 || dup.LastOffset != 102 {
		t.Fatalf("duplicate: %+v %v", dup, err)
	}
	// A gap, a repeat of a partial range, an old epoch.
	_, err = ps.Check(idemHeader(7, 0, 6, 1))
	wantCode(t, err, kerr.OutOfOrderSequenceNumber)
	_, err = ps.Check(idemHeader(7, 0, 1, 2))
	wantCode(t, err, kerr.OutOfOrderSequenceNumber)
	// A new epoch must start at 0, and fences the old one.
	_, err = ps.Check(idemHeader(7, 1, 5, 1))
	wantCode(t, err, kerr.OutOfOrderSequenceNumber)
	appendBatch(idemHeader(7, 1, 0, 1))
	_, err = ps.Check(idemHeader(7, 0, 5, 1))
	wantCode(t, err, kerr.InvalidProducerEpoch)
	// Only the last five batches are remembered.
	for i := int32(1); i <= 6; i++ {
		appendBatch(idemHeader(7, 1, i, 1))
	}
	if _, err := ps.Check(idemHeader(7, 1, 1, 1)); err == nil {
		t.Fatal("a batch older than the last five is not a duplicate any more")
	}
	if dup, _ := ps.Check(idemHeader(7, 1, 6, 1)); dup == nil {
		t.Fatal("the last batch must be recognised")
	}
	// Sequences wrap past MaxInt32 to 0.
	ps2 := NewState()
	ps2.m[9] = &entry{batches: []Batch{{FirstSeq: math.MaxInt32 - 1, LastSeq: math.MaxInt32}}, coordinatorEpoch: -1, txnFirst: -1}
	if _, err := ps2.Check(idemHeader(9, 0, 0, 1)); err != nil {
		t.Fatalf("wrap: %v", err)
	}
	// Expiry.
	if n := ps.Expire(2); n != 1 || len(ps.m) != 0 {
		t.Fatalf("expired %d, left %d", n, len(ps.m))
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	ps := NewState()
	ps.Update(idemHeader(1, 3, 10, 4), 500, 1111)
	ps.Update(idemHeader(2, 0, math.MaxInt32-1, 3), 600, 2222) // wraps: 2147483646, 2147483647, 0
	data := EncodeSnapshot(ps)
	got, err := DecodeSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	for id, e := range ps.m {
		g := got.m[id]
		last := e.batches[len(e.batches)-1]
		if g == nil || g.epoch != e.epoch || g.lastMs != e.lastMs || len(g.batches) != 1 || g.batches[0] != last {
			t.Fatalf("producer %d: got %+v, want epoch %d last %+v", id, g, e.epoch, last)
		}
	}
	// The retry of the last batch is still a duplicate after a reload.
	if dup, err := got.Check(idemHeader(1, 3, 10, 4)); err != nil || dup == nil || dup.FirstOffset != 500 {
		t.Fatalf("dup after reload: %+v %v", dup, err)
	}
	for name, bad := range map[string][]byte{
		"short":   data[:9],
		"version": append([]byte{0, 9}, data[2:]...),
		"crc":     append(append([]byte(nil), data[:len(data)-1]...), data[len(data)-1]^1),
		"count":   data[:len(data)-5],
	} {
		if _, err := DecodeSnapshot(bad); !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// ReadSnapshot gives each entry as written, the fields DecodeSnapshot
// drops included; it shows the entries of a snapshot with a bad CRC, with
// ErrSnapshotCRC, and none of one that does not frame.
func TestReadSnapshot(t *testing.T) {
	ps := NewState()
	ps.Update(idemHeader(1, 3, 10, 4), 500, 1111)
	ps.Update(idemHeader(2, 0, math.MaxInt32-1, 3), 600, 2222)
	data := EncodeSnapshot(ps)
	want := []SnapshotEntry{
		{ProducerID: 1, Epoch: 3, LastSequence: 13, LastOffset: 503, OffsetDelta: 3, Timestamp: 1111, CoordinatorEpoch: -1, CurrentTxnFirstOffset: -1},
		{ProducerID: 2, Epoch: 0, LastSequence: 0, LastOffset: 602, OffsetDelta: 2, Timestamp: 2222, CoordinatorEpoch: -1, CurrentTxnFirstOffset: -1},
	}
	got, err := ReadSnapshot(data)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("ReadSnapshot = %+v, %v; want %+v", got, err, want)
	}
	badCRC := append(append([]byte(nil), data[:len(data)-1]...), data[len(data)-1]^1)
	got, err = ReadSnapshot(badCRC)
	if !errors.Is(err, ErrSnapshotCRC) || !errors.Is(err, ErrBadSnapshot) || len(got) != 2 || got[0] != want[0] {
		t.Errorf("ReadSnapshot with a bad CRC = %+v, %v; want the entries and ErrSnapshotCRC", got, err)
	}
	if _, err := DecodeSnapshot(badCRC); !errors.Is(err, ErrSnapshotCRC) {
		t.Errorf("DecodeSnapshot with a bad CRC: %v, want ErrSnapshotCRC", err)
	}
	for name, bad := range map[string][]byte{
		"short":   data[:9],
		"version": append([]byte{0, 9}, data[2:]...),
		"count":   data[:len(data)-5],
	} {
		if got, err := ReadSnapshot(bad); !errors.Is(err, ErrBadSnapshot) || got != nil {
			t.Errorf("%s: ReadSnapshot = %+v, %v; want no entries and ErrBadSnapshot", name, got, err)
		}
	}
	if got, err := ReadSnapshot(EncodeSnapshot(NewState())); err != nil || len(got) != 0 {
		t.Errorf("ReadSnapshot of an empty snapshot = %+v, %v", got, err)
	}
}

// FuzzProducerSnapshot parses arbitrary bytes as a .snapshot file.
// Invariants: never panics; ReadSnapshot returns entries only without an
// error or with ErrSnapshotCRC, and DecodeSnapshot accepts only what
// ReadSnapshot reads without an error; an accepted snapshot re-encodes to
// a snapshot that decodes to the same producers.
func FuzzProducerSnapshot(f *testing.F) {
	ps := NewState()
	ps.Update(idemHeader(1, 3, 10, 4), 500, 1111)
	ps.Update(idemHeader(9, 0, 2147483646, 3), 600, 2222)
	f.Add(EncodeSnapshot(ps))
	f.Add(EncodeSnapshot(NewState()))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, rerr := ReadSnapshot(data)
		if entries != nil && rerr != nil && !errors.Is(rerr, ErrSnapshotCRC) {
			t.Fatalf("ReadSnapshot returned %d entries with %v", len(entries), rerr)
		}
		got, err := DecodeSnapshot(data)
		if err == nil && rerr != nil {
			t.Fatalf("DecodeSnapshot accepted what ReadSnapshot refused: %v", rerr)
		}
		if err != nil {
			return
		}
		again, err := DecodeSnapshot(EncodeSnapshot(got))
		if err != nil || len(again.m) != len(got.m) {
			t.Fatalf("re-encoded snapshot: %v", err)
		}
		for id, e := range got.m {
			a := again.m[id]
			if a == nil || a.epoch != e.epoch || !slices.Equal(a.batches, e.batches) || a.txnFirst != e.txnFirst || a.coordinatorEpoch != e.coordinatorEpoch {
				t.Fatalf("producer %d changed across re-encoding", id)
			}
		}
	})
}
