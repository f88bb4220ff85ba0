package produce

// --partitioner: how records are spread over partitions.

import (
	"math/rand/v2"

	"github.com/twmb/franz-go/pkg/kgo"

	"samsa/cli/command"
)

// randomPartitioner picks a partition uniformly at random for every record.
type randomPartitioner struct{}

func (randomPartitioner) ForTopic(string) kgo.TopicPartitioner { return randomPartitioner{} }

func (randomPartitioner) RequiresConsistency(*kgo.Record) bool { return false }

func (randomPartitioner) Partition(_ *kgo.Record, n int) int { return rand.IntN(n) }

func parsePartitioner(name string) (kgo.Partitioner, error) {
	switch name {
	case "hash":
		// nil hasher: murmur2, high bit masked, modulo the partition
		// count; exactly the Java client's placement of keyed records.
		return kgo.StickyKeyPartitioner(nil), nil
	case "round-robin":
		return kgo.RoundRobinPartitioner(), nil
	case "sticky":
		return kgo.StickyPartitioner(), nil
	case "random":
		return randomPartitioner{}, nil
	case "manual":
		return kgo.ManualPartitioner(), nil
	}
	return nil, command.UsageErrorf("--partitioner %q: want hash, round-robin, sticky, random or manual", name)
}
