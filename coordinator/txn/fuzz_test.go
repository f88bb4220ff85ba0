package txn

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
)

func seedHex(f *testing.F, s string) {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
}

// FuzzDecodeValue: decodeValue never panics and never spins, whatever the
// bytes; a value it accepts is a valid state, and writing it again (v0)
// reads back the same transit.
func FuzzDecodeValue(f *testing.F) {
	for _, s := range []string{goldenPrepareCommit, goldenEmpty, goldenV1} {
		seedHex(f, s)
	}
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := decodeValue(b)
		if err != nil {
			return
		}
		if tr.state < 0 || tr.state >= numStates {
			t.Fatalf("accepted state %d", tr.state)
		}
		again, err := decodeValue(encodeValue(tr))
		if err != nil || !reflect.DeepEqual(again, tr) {
			t.Fatalf("re-encoded %+v reads as %+v, %v", tr, again, err)
		}
	})
}

// FuzzDecodeKey: decodeKey never panics; a key it accepts starts with
// the bytes the coordinator writes for that id.
func FuzzDecodeKey(f *testing.F) {
	seedHex(f, goldenKey)
	f.Add([]byte{0, 0, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := decodeKey(b)
		if err != nil {
			return
		}
		if !bytes.HasPrefix(b, encodeKey(id)) {
			t.Fatalf("% x read as %q", b, id)
		}
	})
}

// FuzzReplay: a partition of __transaction_state holding any bytes loads
// without a panic: the batches and records that cannot be read are
// skipped or end the replay with an error.
func FuzzReplay(f *testing.F) {
	tr := transit{producerID: 1, producerEpoch: 2, timeoutMs: 3, state: Ongoing, partitions: tpList("a-0"), startMs: 4, updateMs: 5}
	f.Add(encodeBatch(1, [2][]byte{encodeKey("t"), encodeValue(tr)}, [2][]byte{encodeKey("u"), nil}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &Coordinator{log: discard}
		p := &partition{log: &memLog{batches: [][]byte{b}}}
		c.replay(p)
	})
}
