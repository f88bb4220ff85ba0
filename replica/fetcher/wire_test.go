package fetcher

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"samsa/record"
)

// keptPart is a followed partition whose log keeps a copy of what it
// appends, after checking it as a follower's log does (framing, CRC).
type keptPart struct {
	checkedPart
	kept []byte
}

func (p *keptPart) Locked(fn func(Leadership, Log) error) error {
	return fn(Leadership{Leader: 1, LeaderEpoch: 1}, p)
}

func (p *keptPart) Append(batches []byte) error {
	if err := p.checkedPart.Append(batches); err != nil {
		return err
	}
	p.kept = append(p.kept, batches...)
	return nil
}

// TestFetchOverTheWire: a fetcher's fetches through kclient from a leader
// on a socket, answers of one small batch, sixteen large ones, one small
// again (the connection's buffer grown, then reused): the follower's log
// holds the leader's bytes exactly, base offsets as stamped. An answer
// with a corrupt batch (its CRC does not match) is refused: nothing of it
// appended, the partition backed off, the fetch itself fine.
func TestFetchOverTheWire(t *testing.T) {
	small, _ := leaderBatches(1, 2, 's')
	large, _ := leaderBatches(16, 64, 'l')
	corrupt, _ := leaderBatches(3, 2, 'c')
	corrupt[1][record.HeaderSize+30] ^= 1
	leader := newWireLeader(t, small, large, small, corrupt)
	m := New(2, Config{}, quiet)
	m.SetLeaderAddr(1, leader.addr())
	p := &keptPart{}
	f := &fetcher{m: m, key: key{leader: 1}, parts: map[Partition]*fetchState{p: {epoch: 1}}}
	defer func() { f.conn.Close() }()
	parts := map[Partition]int32{p: 1}
	var want []byte
	next := int64(0)
	for _, set := range [][][]byte{small, large, small} {
		if err := f.fetchOnce(context.Background(), parts); err != nil {
			t.Fatal(err)
		}
		for _, b := range set {
			b = bytes.Clone(b)
			record.SetBaseOffset(b, next)
			h, _ := record.ParseHeader(b)
			next = h.NextOffset()
			want = append(want, b...)
		}
	}
	if !bytes.Equal(p.kept, want) {
		t.Fatalf("the follower's log (%d bytes) differs from the leader's batches (%d bytes)", len(p.kept), len(want))
	}
	if err := f.fetchOnce(context.Background(), parts); err != nil {
		t.Fatalf("a fetch with a corrupt batch failed whole: %v", err)
	}
	if !bytes.Equal(p.kept, want) || p.end != next {
		t.Fatalf("a corrupt answer was appended: log end %d, want %d", p.end, next)
	}
	if f.parts[p].backoffUntil.IsZero() {
		t.Fatal("the partition of a corrupt answer is not backed off")
	}
	err := p.checkedPart.Append(corrupt[1])
	if !errors.Is(err, record.ErrCRC) {
		t.Fatalf("the corrupt batch: %v, want a CRC error", err)
	}
}
