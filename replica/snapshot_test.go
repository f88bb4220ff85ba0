package replica

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSnapshotProducersSkipsEmptyPartitions: a clean shutdown writes a
// producer snapshot for a partition that holds records, and none for one
// that never held any and has no producer (a broker of thousands of empty
// partitions would create a file for each).
func TestSnapshotProducersSkipsEmptyPartitions(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		used, _ := leaderAndIsrOf(t, m, 0, state(1, 1, 0, []int32{1}, []int32{1}), nil)
		empty, _ := leaderAndIsrOf(t, m, 1, state(1, 1, 0, []int32{1}, []int32{1}), nil)
		if _, err := m.Append(m.Topic(testTopic), used, 9, idempotentBatch(7, 0, 2), time.Now().UnixMilli(), 1); err != nil {
			t.Fatal(err)
		}
		m.SnapshotProducers()
		snapshots := func(p *Partition) []string {
			ents, err := os.ReadDir(p.Log.Dir())
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".snapshot") {
					out = append(out, filepath.Base(e.Name()))
				}
			}
			return out
		}
		if got := snapshots(used); len(got) != 1 || got[0] != "00000000000000000002.snapshot" {
			t.Errorf("snapshots of the partition with records: %v, want one at offset 2", got)
		}
		if got := snapshots(empty); len(got) != 0 {
			t.Errorf("snapshots of the empty partition: %v, want none", got)
		}
	})
}
