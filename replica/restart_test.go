package replica

// What a broker of thousands of partitions pays to stop and start: the
// files its shutdown writes, the lookups its start makes.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"samsa/config"
	"samsa/metadata"
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

// countingStore answers Topic with a retention override and counts the
// lookups; nothing else of the store is used.
type countingStore struct {
	metadata.Store
	lookups map[string]int
}

func (s *countingStore) Topic(name string) (metadata.Topic, bool) {
	s.lookups[name]++
	return metadata.Topic{Name: name, Configs: map[string]string{"retention.ms": "1234"}}, true
}

// TestLogConfigForLooksUpEachTopicOnce: the log directory asks for the
// config of every partition it opens; the store (two ZooKeeper reads a
// lookup) is asked once per topic.
func TestLogConfigForLooksUpEachTopicOnce(t *testing.T) {
	store := &countingStore{lookups: map[string]int{}}
	configFor := LogConfigFor(config.DefaultTopicConfig(), store, quiet)
	for range 500 {
		for _, topic := range []string{"a", "b"} {
			if c := configFor(topic); c.RetentionMs != 1234 {
				t.Fatalf("%s: retention %d, want the stored override 1234", topic, c.RetentionMs)
			}
		}
	}
	if store.lookups["a"] != 1 || store.lookups["b"] != 1 {
		t.Fatalf("store lookups %v, want one per topic", store.lookups)
	}
}
