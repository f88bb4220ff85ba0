package metadata

import (
	"errors"
	"slices"
	"testing"
)

func brokersOf(racks ...string) []AssignBroker {
	var bs []AssignBroker
	for i, r := range racks {
		bs = append(bs, AssignBroker{ID: int32(i + 1), Rack: r})
	}
	return bs
}

// TestAssignSpreadsLeadersAndReplicas: leaders and replicas spread evenly,
// no partition has a broker twice, and every random start works.
func TestAssignSpreadsLeadersAndReplicas(t *testing.T) {
	for start := range 3 {
		for shift := range 3 {
			a, err := AssignReplicas(brokersOf("", "", ""), 6, 3, start, shift)
			if err != nil {
				t.Fatal(err)
			}
			leaders, replicas := map[int32]int{}, map[int32]int{}
			for p, r := range a {
				if len(r) != 3 {
					t.Fatalf("partition %d: %v", p, r)
				}
				if s := slices.Clone(r); len(slices.Compact(sortedCopy(s))) != 3 {
					t.Fatalf("partition %d repeats a broker: %v", p, r)
				}
				leaders[r[0]]++
				for _, b := range r {
					replicas[b]++
				}
			}
			for b := int32(1); b <= 3; b++ {
				if leaders[b] != 2 || replicas[b] != 6 {
					t.Errorf("start %d shift %d: broker %d leads %d, holds %d; want 2 and 6 (%v)", start, shift, b, leaders[b], replicas[b], a)
				}
			}
		}
	}
	// Kafka's own example (AdminUtils doc): 5 brokers, 10 partitions, RF 3,
	// start 0, shift 0.
	a, _ := AssignReplicas(brokersOf("", "", "", "", ""), 10, 3, 0, 0)
	want := [][]int32{{1, 2, 3}, {2, 3, 4}, {3, 4, 5}, {4, 5, 1}, {5, 1, 2}, {1, 3, 4}, {2, 4, 5}, {3, 5, 1}, {4, 1, 2}, {5, 2, 3}}
	if !slices.EqualFunc(a, want, slices.Equal) {
		t.Errorf("got %v\nwant %v", a, want)
	}
}

func sortedCopy(s []int32) []int32 { s = slices.Clone(s); slices.Sort(s); return s }

// TestAssignRackAware: with racks, a partition's replicas go to distinct
// racks while there are racks left.
func TestAssignRackAware(t *testing.T) {
	a, err := AssignReplicas(brokersOf("a", "a", "b", "b", "c", "c"), 12, 3, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	rack := map[int32]string{1: "a", 2: "a", 3: "b", 4: "b", 5: "c", 6: "c"}
	leaders := map[int32]int{}
	for p, r := range a {
		seen := map[string]bool{}
		for _, b := range r {
			seen[rack[b]] = true
		}
		if len(seen) != 3 {
			t.Errorf("partition %d: replicas %v on racks %v", p, r, seen)
		}
		leaders[r[0]]++
	}
	for b, n := range leaders {
		if n != 2 {
			t.Errorf("broker %d leads %d partitions, want 2", b, n)
		}
	}
	if _, err := AssignReplicas(brokersOf("a", "", "b"), 3, 2, 0, 0); err == nil {
		t.Error("a mix of brokers with and without racks was accepted")
	}
}

func TestAssignRefusesTooFewBrokers(t *testing.T) {
	if _, err := AssignReplicas(brokersOf("", ""), 1, 3, 0, 0); !errors.Is(err, ErrNotEnoughBrokers) {
		t.Errorf("RF 3 on 2 brokers: %v", err)
	}
}
