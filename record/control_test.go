package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// TestEndTxnMarkerBytes: a COMMIT marker of coordinator epoch 5 is the
// control batch Kafka writes: attributes transactional|control, no
// sequence, one record whose key is (version 0, type 1) and whose value is
// (version 0, coordinator epoch 5), byte for byte.
func TestEndTxnMarkerBytes(t *testing.T) {
	batch := AppendEndTxnMarker(nil, 42, 3, EndTxnMarker{Type: ControlCommit, CoordinatorEpoch: 5}, 1700000000000)
	h, err := ParseHeader(batch)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckCRC(batch, &h); err != nil {
		t.Fatal(err)
	}
	if h.Attributes != 0x30 || h.ProducerID != 42 || h.ProducerEpoch != 3 || h.BaseSequence != -1 ||
		h.RecordCount != 1 || h.LastOffsetDelta != 0 || h.FirstTimestamp != 1700000000000 || h.MaxTimestamp != 1700000000000 {
		t.Fatalf("header %+v", h)
	}
	// length 16, attributes, timestamp delta 0, offset delta 0, key of 4,
	// value of 6, no headers (zigzag varints).
	wantRecord := []byte{0x20, 0, 0, 0, 0x08, 0, 0, 0, 1, 0x0c, 0, 0, 0, 0, 0, 5, 0}
	if got := batch[HeaderSize:]; !bytes.Equal(got, wantRecord) {
		t.Fatalf("record bytes\n got % x\nwant % x", got, wantRecord)
	}
	if h.Size() != int64(len(batch)) || h.Length != 66 {
		t.Fatalf("size %d length %d, batch %d bytes", h.Size(), h.Length, len(batch))
	}
	if !h.IsControl() || !h.IsTransactional() {
		t.Fatal("marker not control and transactional")
	}
	m, ok, err := ParseEndTxnMarker(batch, &h)
	if err != nil || !ok || m != (EndTxnMarker{ControlCommit, 5}) || !m.Commit() {
		t.Fatalf("ParseEndTxnMarker = %+v, %v, %v", m, ok, err)
	}
	abort := AppendEndTxnMarker(nil, 42, 3, EndTxnMarker{Type: ControlAbort, CoordinatorEpoch: -1}, 1)
	ha, _ := ParseHeader(abort)
	if m, ok, err := ParseEndTxnMarker(abort, &ha); err != nil || !ok || m.Commit() || m.CoordinatorEpoch != -1 {
		t.Fatalf("abort marker = %+v, %v, %v", m, ok, err)
	}
}

// TestParseEndTxnMarkerRefuses: short keys and values, negative versions
// and other control types are ErrControl (and ErrCorrupt); an emptied
// control batch is no marker and no error; a key version above 0 reads as
// version 0, as Kafka reads it.
func TestParseEndTxnMarkerRefuses(t *testing.T) {
	build := func(key, value []byte, count bool) ([]byte, Header) {
		b := NewBuilder(10)
		b.Header.Attributes = AttrControl | AttrTransactional
		b.Header.ProducerID, b.Header.ProducerEpoch = 1, 0
		if count {
			b.Add(10, key, value)
		}
		batch, err := b.AppendTo(nil)
		if err != nil {
			t.Fatal(err)
		}
		h, err := ParseHeader(batch)
		if err != nil {
			t.Fatal(err)
		}
		return batch, h
	}
	be := func(vs ...uint16) []byte {
		var out []byte
		for _, v := range vs {
			out = binary.BigEndian.AppendUint16(out, v)
		}
		return out
	}
	okValue := append(be(0), 0, 0, 0, 7)
	for _, c := range []struct {
		name       string
		key, value []byte
		wantErr    bool
	}{
		{"short key", []byte{0, 0, 0}, okValue, true},
		{"negative key version", be(0xffff, 1), okValue, true},
		{"leader change type", be(0, 2), okValue, true},
		{"short value", be(0, 1), []byte{0, 0, 0, 0, 7}, true},
		{"negative value version", be(0, 0), append(be(0x8000), 0, 0, 0, 7), true},
		{"key version 1", be(1, 0), okValue, false},
	} {
		batch, h := build(c.key, c.value, true)
		m, ok, err := ParseEndTxnMarker(batch, &h)
		if c.wantErr {
			if !errors.Is(err, ErrControl) || !errors.Is(err, ErrCorrupt) || ok {
				t.Errorf("%s: %+v, %v, %v; want ErrControl", c.name, m, ok, err)
			}
			continue
		}
		if err != nil || !ok || m.Type != ControlAbort || m.CoordinatorEpoch != 7 {
			t.Errorf("%s: %+v, %v, %v", c.name, m, ok, err)
		}
	}
	batch, h := build(nil, nil, false)
	if _, ok, err := ParseEndTxnMarker(batch, &h); ok || err != nil {
		t.Errorf("empty control batch: ok %v err %v", ok, err)
	}
	data := NewBuilder(1)
	data.Add(1, []byte("k"), []byte("v"))
	plain, _ := data.AppendTo(nil)
	hp, _ := ParseHeader(plain)
	if _, _, err := ParseEndTxnMarker(plain, &hp); err == nil {
		t.Error("a data batch parsed as a marker")
	}
}
