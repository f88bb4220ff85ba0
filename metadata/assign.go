package metadata

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
)

// ErrNotEnoughBrokers: a replication factor larger than the live brokers
// (Kafka's INVALID_REPLICATION_FACTOR).
var ErrNotEnoughBrokers = errors.New("metadata: replication factor larger than available brokers")

// AssignBroker is a broker that may hold replicas.
type AssignBroker struct {
	ID   int32
	Rack string // "" when unset
}

// AssignReplicas spreads partitions replicas over brokers as Kafka's
// AdminUtils.assignReplicasToBrokers does: the first replica of partition p
// is broker (start+p) mod n, so leaders spread evenly; the followers are
// shifted by an amount that grows every n partitions, so that replica sets
// vary; with racks (every broker must then have one) the brokers are ordered
// alternating racks and a partition's replicas go to distinct racks first.
// start and shift are random unless fixed (>= 0), for tests.
func AssignReplicas(brokers []AssignBroker, partitions int32, rf int16, start, shift int) ([][]int32, error) {
	n := len(brokers)
	if int(rf) > n {
		return nil, fmt.Errorf("%w: %d larger than available brokers: %d", ErrNotEnoughBrokers, rf, n)
	}
	if rf < 1 || partitions < 1 {
		return nil, fmt.Errorf("metadata: partitions %d, replication factor %d", partitions, rf)
	}
	bs := slices.Clone(brokers)
	slices.SortFunc(bs, func(a, b AssignBroker) int { return int(a.ID) - int(b.ID) })
	racks := 0
	for _, b := range bs {
		if b.Rack != "" {
			racks++
		}
	}
	if racks != 0 && racks != n {
		return nil, fmt.Errorf("metadata: some brokers have broker.rack and some do not; rack-aware assignment needs all or none")
	}
	if start < 0 {
		start = rand.IntN(n)
	}
	if shift < 0 {
		shift = rand.IntN(n)
	}
	if racks == 0 {
		return assignRackUnaware(bs, partitions, rf, start, shift), nil
	}
	return assignRackAware(bs, partitions, rf, start, shift), nil
}

func replicaIndex(first, shift, j, n int) int {
	s := 1 + (shift+j)%(n-1)
	return (first + s) % n
}

func assignRackUnaware(bs []AssignBroker, partitions int32, rf int16, start, shift int) [][]int32 {
	n := len(bs)
	out := make([][]int32, partitions)
	for p := range int(partitions) {
		if p > 0 && p%n == 0 {
			shift++
		}
		first := (p + start) % n
		r := []int32{bs[first].ID}
		for j := range int(rf) - 1 {
			r = append(r, bs[replicaIndex(first, shift, j, n)].ID)
		}
		out[p] = r
	}
	return out
}

// rackAlternated orders brokers so that consecutive ones are on different
// racks: the first of each rack, then the second of each, and so on.
func rackAlternated(bs []AssignBroker) []AssignBroker {
	byRack := map[string][]AssignBroker{}
	var racks []string
	for _, b := range bs {
		if _, ok := byRack[b.Rack]; !ok {
			racks = append(racks, b.Rack)
		}
		byRack[b.Rack] = append(byRack[b.Rack], b)
	}
	slices.Sort(racks)
	var out []AssignBroker
	for i := 0; len(out) < len(bs); i++ {
		for _, r := range racks {
			if i < len(byRack[r]) {
				out = append(out, byRack[r][i])
			}
		}
	}
	return out
}

func assignRackAware(bs []AssignBroker, partitions int32, rf int16, start, shift int) [][]int32 {
	ordered := rackAlternated(bs)
	n := len(ordered)
	numRacks := 0
	seen := map[string]bool{}
	for _, b := range ordered {
		if !seen[b.Rack] {
			seen[b.Rack] = true
			numRacks++
		}
	}
	out := make([][]int32, partitions)
	for p := range int(partitions) {
		if p > 0 && p%n == 0 {
			shift++
		}
		first := (p + start) % n
		leader := ordered[first]
		r := []int32{leader.ID}
		racksUsed := map[string]bool{leader.Rack: true}
		used := map[int32]bool{leader.ID: true}
		k := 0
		for len(r) < int(rf) {
			b := ordered[replicaIndex(first, shift, k, n)]
			k++
			// Skip a broker on a rack already used, unless every rack is;
			// skip one already holding a replica, unless every broker does.
			if (!racksUsed[b.Rack] || len(racksUsed) == numRacks) && (!used[b.ID] || len(used) == n) {
				if used[b.ID] {
					continue
				}
				r = append(r, b.ID)
				racksUsed[b.Rack] = true
				used[b.ID] = true
			}
			if k > 4*n { // every broker considered: take the next unused
				for _, c := range ordered {
					if !used[c.ID] && len(r) < int(rf) {
						r = append(r, c.ID)
						used[c.ID] = true
					}
				}
			}
		}
		out[p] = r
	}
	return out
}
