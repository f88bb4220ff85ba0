package cluster

import (
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"samsa/cli/command"
	"samsa/internal/clitest"
)

// newCLI runs samsa cluster against brokers.
func newCLI(brokers string) clitest.CLI {
	return clitest.CLI{Brokers: brokers, New: func() *cobra.Command { return NewCommand(command.NewClientFlags()) }}
}

// Usage errors exit 2 before any connection is made, with one line naming
// the problem and a hint to read --help.
func TestUsageErrors(t *testing.T) {
	c := newCLI("127.0.0.1:1")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"cluster", "config", "alter", "--broker", "1", "--cluster-default", "--set", "a=b"}, "do not go together"},
		{[]string{"cluster", "frob"}, `unknown command "frob"`},
	} {
		clitest.CheckUsageError(t, c, tc.args, tc.want)
	}
}

func metadata(brokers []int32, parts map[string][][]int32) kadm.Metadata {
	md := kadm.Metadata{Topics: kadm.TopicDetails{}}
	for _, id := range brokers {
		md.Brokers = append(md.Brokers, kadm.BrokerDetail{NodeID: id})
	}
	for topic, ps := range parts {
		td := kadm.TopicDetail{Topic: topic, Partitions: kadm.PartitionDetails{}}
		for i, replicas := range ps {
			td.Partitions[int32(i)] = kadm.PartitionDetail{Topic: topic, Partition: int32(i), Replicas: replicas}
		}
		md.Topics[topic] = td
	}
	return md
}

// A decommission moves each replica of the broker, in place, to the least
// loaded broker that holds none of the partition, the lowest ID of equals.
func TestPlanDecommission(t *testing.T) {
	md := metadata([]int32{1, 2, 3, 4}, map[string][][]int32{
		"a": {{2, 1, 3}, {1, 3, 4}},
		"b": {{4, 2}},
	})
	// Replicas on 1, 3 and 4: two each. a-0 can go only to 4; then b-0
	// has 1 and 3 with two each, and takes 1.
	moves, err := planDecommission(md, 2)
	want := []move{
		{"a", 0, []int32{2, 1, 3}, []int32{4, 1, 3}},
		{"b", 0, []int32{4, 2}, []int32{4, 1}},
	}
	if err != nil || !slices.EqualFunc(moves, want, func(a, b move) bool {
		return a.topic == b.topic && a.partition == b.partition && slices.Equal(a.from, b.from) && slices.Equal(a.to, b.to)
	}) {
		t.Errorf("planDecommission = %+v, %v; want %+v", moves, err, want)
	}
	if moves, err := planDecommission(md, 9); err != nil || len(moves) != 0 {
		t.Errorf("decommission of a broker with no replicas: %+v, %v", moves, err)
	}
	if _, err := planDecommission(metadata([]int32{2}, nil), 2); err == nil || !strings.Contains(err.Error(), "no other broker") {
		t.Errorf("decommission of the only broker: %v", err)
	}
	full := metadata([]int32{1, 2}, map[string][][]int32{"c": {{1, 2}}})
	if _, err := planDecommission(full, 2); err == nil || !strings.Contains(err.Error(), "c-0: no broker left") {
		t.Errorf("decommission with nowhere to go: %v", err)
	}
}
