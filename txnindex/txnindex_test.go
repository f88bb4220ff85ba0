package txnindex

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"samsa/logfile/vfs"
	"samsa/record"
)

// TestEntryBytes: an entry is Kafka's AbortedTxn, 34 bytes: version 0,
// producer id, first offset, last offset, last stable offset,
// big-endian; Decode reads it back and refuses torn entries, other
// versions and entries out of order, keeping the entries before.
func TestEntryBytes(t *testing.T) {
	a := AbortedTxn{ProducerID: 0x0102030405060708, FirstOffset: 10, LastOffset: 20, LastStableOffset: 21}
	got := AppendEntry(nil, a)
	want, _ := hex.DecodeString("0000" + "0102030405060708" + "000000000000000a" + "0000000000000014" + "0000000000000015")
	if !bytes.Equal(got, want) || len(got) != EntrySize {
		t.Fatalf("entry bytes\n got %x\nwant %x", got, want)
	}
	b := AppendEntry(got, AbortedTxn{ProducerID: 3, FirstOffset: 15, LastOffset: 30, LastStableOffset: 31})
	entries, err := Decode(b)
	if err != nil || len(entries) != 2 || entries[0] != a || entries[1].LastOffset != 30 {
		t.Fatalf("Decode = %+v, %v", entries, err)
	}
	for name, bad := range map[string][]byte{
		"torn":         b[:len(b)-1],
		"version 1":    append(append([]byte(nil), got...), append([]byte{0, 1}, b[EntrySize+2:]...)...),
		"out of order": AppendEntry(append([]byte(nil), got...), AbortedTxn{ProducerID: 3, FirstOffset: 1, LastOffset: 20, LastStableOffset: 21}),
		"first > last": AppendEntry(append([]byte(nil), got...), AbortedTxn{ProducerID: 3, FirstOffset: 40, LastOffset: 30, LastStableOffset: 31}),
	} {
		entries, err := Decode(bad)
		if !errors.Is(err, ErrCorrupt) || !errors.Is(err, record.ErrCorrupt) || len(entries) != 1 || entries[0] != a {
			t.Errorf("%s: %+v, %v; want the first entry and ErrCorrupt", name, entries, err)
		}
	}
}

// TestIndexFile: an index writes nothing until its first entry; Append
// keeps the order and writes before it publishes; TruncateTo drops the
// entries of markers at or past an offset; Open reads it back, and a file
// that does not decode opens stale, with no entries, until Rewrite; the
// sanity check against the segment's offsets makes it stale too.
func TestIndexFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "00000000000000000010.txnindex")
	ix := New(vfs.OS, path)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a new index wrote a file: %v", err)
	}
	e := []AbortedTxn{{1, 10, 12, 13}, {2, 11, 15, 16}, {3, 14, 20, 21}}
	if err := ix.Append(e[:2]); err != nil {
		t.Fatal(err)
	}
	if err := ix.Append(e[1:2]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("an entry out of order: %v", err)
	}
	if err := ix.Append(e[2:]); err != nil {
		t.Fatal(err)
	}
	if err := ix.TruncateTo(15); err != nil || !slices.Equal(ix.Entries(), e[:1]) {
		t.Fatalf("TruncateTo(15): %+v, %v", ix.Entries(), err)
	}
	ix.Close()
	b, _ := os.ReadFile(path)
	if !bytes.Equal(b, AppendEntry(nil, e[0])) {
		t.Fatalf("file %x", b)
	}
	re, err := Open(vfs.OS, path)
	if err != nil || !slices.Equal(re.Entries(), e[:1]) || re.Stale() {
		t.Fatalf("Open: %+v stale %v, %v", re.Entries(), re.Stale(), err)
	}
	if re.Check(13, 20) || !re.Stale() || re.Entries() != nil {
		t.Fatal("an entry before the segment passed the sanity check")
	}
	os.WriteFile(path, b[:EntrySize-1], 0o644)
	torn, err := Open(vfs.OS, path)
	if err != nil || !torn.Stale() || torn.Entries() != nil {
		t.Fatalf("torn file: stale %v, %+v, %v", torn.Stale(), torn.Entries(), err)
	}
	if err := torn.Rewrite(e); err != nil || torn.Stale() || !slices.Equal(torn.Entries(), e) {
		t.Fatalf("Rewrite: %v", err)
	}
	torn.Close()
	if b, _ := os.ReadFile(path); len(b) != 3*EntrySize {
		t.Fatalf("rewritten file of %d bytes", len(b))
	}
}

// TestCleaned: the cleaner's view, in log order: batches of an aborted
// transaction from its first offset to its marker are aborted; the abort
// keeps its entry while one was seen, and is removable once none is; a
// commit is removable when no record of its transaction was seen; a
// transaction listed twice counts once.
func TestCleaned(t *testing.T) {
	c := NewCleaned()
	abort := AbortedTxn{ProducerID: 1, FirstOffset: 2, LastOffset: 5, LastStableOffset: 6}
	c.Add([]AbortedTxn{abort, abort})
	data := func(pid, off int64, txn bool) *record.Header {
		h := &record.Header{BaseOffset: off, ProducerID: pid}
		if txn {
			h.Attributes = record.AttrTransactional
		}
		return h
	}
	marker := func(pid, off int64, commit bool) (*record.Header, []byte) {
		typ := record.ControlAbort
		if commit {
			typ = record.ControlCommit
		}
		b := record.AppendEndTxnMarker(nil, pid, 0, record.EndTxnMarker{Type: typ}, 1)
		record.SetBaseOffset(b, off)
		h, _ := record.ParseHeader(b)
		return &h, b
	}
	if c.Data(data(1, 1, true)) {
		t.Fatal("a batch before the aborted transaction began is aborted")
	}
	if !c.Data(data(1, 2, true)) || c.Data(data(2, 3, true)) || c.Data(data(-1, 4, false)) {
		t.Fatal("aborted batches misjudged")
	}
	if h, b := marker(1, 5, false); c.Control(h, b) {
		t.Fatal("an abort whose records were seen is removable")
	}
	if got := c.TakeIndex(); !slices.Equal(got, []AbortedTxn{abort}) || c.TakeIndex() != nil {
		t.Fatalf("cleaned index %+v", got)
	}
	if h, b := marker(2, 6, true); c.Control(h, b) {
		t.Fatal("a commit whose record was seen is removable")
	}
	if h, b := marker(3, 7, true); !c.Control(h, b) {
		t.Fatal("a commit without records is not removable")
	}
	if h, b := marker(1, 8, false); !c.Control(h, b) {
		t.Fatal("an abort without records is not removable")
	}
}

// FuzzDecode parses arbitrary bytes as a .txnindex file. Invariants: never
// panics; the entries it accepts are whole and ordered, and encode back
// to exactly the bytes they came from.
func FuzzDecode(f *testing.F) {
	f.Add(AppendEntry(AppendEntry(nil, AbortedTxn{1, 0, 5, 6}), AbortedTxn{2, 3, 9, 10}))
	f.Add([]byte{0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := Decode(b)
		if err == nil && len(b)%EntrySize != 0 {
			t.Fatalf("accepted %d bytes", len(b))
		}
		var again []byte
		for i, a := range entries {
			if a.FirstOffset > a.LastOffset || (i > 0 && entries[i-1].LastOffset >= a.LastOffset) {
				t.Fatalf("entry %d accepted: %+v", i, a)
			}
			again = AppendEntry(again, a)
		}
		if !bytes.Equal(again, b[:len(again)]) {
			t.Fatal("accepted entries do not re-encode to their bytes")
		}
	})
}
