package group

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzReplay feeds arbitrary bytes to the replay of __consumer_offsets, as
// a corrupt or foreign log would. Invariants: decodeBatches and
// replayRecord never panic; a record decodeBatches accepts lies within
// the input; a batch encodeBatch wrote decodes to the records it was
// given.
func FuzzReplay(f *testing.F) {
	ov := offsetValue(offset{offset: 7, leaderEpoch: -1, metadata: "m", commitMs: 1, expireMs: -1})
	gv := kmsg.NewGroupMetadataValue()
	gv.Version, gv.ProtocolType, gv.Generation = 3, "consumer", 2
	m := kmsg.NewGroupMetadataValueMember()
	m.MemberID, m.Subscription, m.Assignment = "m1", []byte{0, 1}, []byte{2}
	gv.Members = append(gv.Members, m)
	f.Add(encodeBatch([]rec{{key: offsetKey("g", "t", 0), value: ov}, {key: groupKey("g"), value: gv.AppendTo(nil)}}, 1))
	f.Add(encodeBatch([]rec{{key: offsetKey("g", "t", 0)}, {key: groupKey("g")}}, 2))
	f.Add([]byte{0, 1, 2})
	f.Fuzz(func(t *testing.T, in []byte) {
		c := &Coordinator{cfg: Config{Partitions: 1}, log: quiet}
		c.cfg.fill()
		c.log = quiet
		p := &partition{c: c, groups: map[string]*group{}}
		groups := map[string]*group{}
		hasMeta := map[string]bool{}
		get := func(name string) *group {
			if groups[name] == nil {
				groups[name] = newGroup(c, p, name)
			}
			return groups[name]
		}
		var recs []rec
		decodeBatches(in, func(k, v []byte) error {
			if len(k) > len(in) || len(v) > len(in) {
				t.Fatalf("record of %d+%d bytes from %d bytes of input", len(k), len(v), len(in))
			}
			recs = append(recs, rec{key: k, value: v})
			c.replayRecord(k, v, get, hasMeta)
			return nil
		}, nil)
		if len(recs) > 0 {
			again := encodeBatch(recs, 0)
			var back []rec
			if err := decodeBatches(again, func(k, v []byte) error { back = append(back, rec{k, v}); return nil }, nil); err != nil {
				t.Fatalf("re-encoded batch does not decode: %v", err)
			}
			for i := range recs {
				if !bytes.Equal(back[i].key, recs[i].key) || !bytes.Equal(back[i].value, recs[i].value) || (back[i].value == nil) != (recs[i].value == nil) {
					t.Fatalf("record %d does not round-trip", i)
				}
			}
		}
	})
}
