package server

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// gathered returns the value of each sample of a metric family, keyed by
// its labels' values joined with ",".
func gathered(t *testing.T, tb *testBroker, name string) map[string]float64 {
	t.Helper()
	mfs, err := tb.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			key := ""
			for i, l := range m.GetLabel() {
				if i > 0 {
					key += ","
				}
				key += l.GetValue()
			}
			out[key] = m.GetGauge().GetValue()
		}
	}
	return out
}

// TestGroupMetrics: samsa_groups counts groups by state, and
// samsa_group_members and samsa_group_offsets follow a group's member and
// its commits, then its deletion.
func TestGroupMetrics(t *testing.T) {
	tb := startTestBroker(t, map[string]string{"group.initial.rebalance.delay.ms": "0"})
	mustCreate(tb, "metered", 3, nil)
	produce(tb, "metered", 0, 3)
	if g := gathered(t, tb, "samsa_groups"); len(g) != 4 || g["Stable"] != 0 || g["Empty"] != 0 {
		t.Fatalf("samsa_groups before any group: %v, want the four live states at 0", g)
	}
	cl := tb.client(kgo.ConsumerGroup("metered-group"), kgo.ConsumeTopics("metered"), kgo.DisableAutoCommit())
	for got := 0; got < 3; {
		fs := cl.PollFetches(tb.ctx())
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		got += fs.NumRecords()
	}
	if err := cl.CommitUncommittedOffsets(tb.ctx()); err != nil {
		t.Fatal(err)
	}
	if g := gathered(t, tb, "samsa_groups"); g["Stable"] != 1 {
		t.Errorf("samsa_groups with one consuming member: %v, want Stable 1", g)
	}
	if m := gathered(t, tb, "samsa_group_members"); m[""] != 1 {
		t.Errorf("samsa_group_members = %v, want 1", m)
	}
	if o := gathered(t, tb, "samsa_group_offsets"); o[""] != 1 {
		t.Errorf("samsa_group_offsets = %v, want 1 (partition 0 committed)", o)
	}
	cl.Close() // leaves the group
	if _, err := kadm.NewClient(tb.cl).DeleteGroups(tb.ctx(), "metered-group"); err != nil {
		t.Fatal(err)
	}
	if g, m, o := gathered(t, tb, "samsa_groups"), gathered(t, tb, "samsa_group_members"), gathered(t, tb, "samsa_group_offsets"); g["Stable"]+g["Empty"] != 0 || m[""] != 0 || o[""] != 0 {
		t.Errorf("after the group is deleted: groups %v, members %v, offsets %v", g, m, o)
	}
}
