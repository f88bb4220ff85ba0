package bench

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// groupServers starts the broker (without the initial rebalance delay,
// which kfake does not have either) and kfake, and creates topic on both.
func groupServers(b *testing.B, topic string, parts int32) (samsa, kfake *server) {
	samsa = startSamsa(b, "group.initial.rebalance.delay.ms=0")
	kfake = startKfake(b)
	for _, s := range []*server{samsa, kfake} {
		cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr))
		if err != nil {
			b.Fatal(err)
		}
		resp, err := kadm.NewClient(cl).CreateTopic(context.Background(), parts, 1, nil, topic)
		cl.Close()
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			b.Fatalf("%s: create %s: %v", s.name, topic, err)
		}
	}
	return samsa, kfake
}

// commitLoad has committers goroutines each commit n times, one partition
// per OffsetCommit, each to its own group as a simple consumer
// (generation -1), through franz-go, which finds the coordinator. It
// returns the seconds taken and the broker's CPU seconds.
func commitLoad(b *testing.B, s *server, topic string, committers, n int) (sec, cpu float64) {
	// Kafka 3.6's versions: OffsetCommit v8 names topics on both servers.
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr), kgo.MaxVersions(kversion.V3_6_0()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	// Warm up: find every group's coordinator.
	for c := range committers {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorKey = fmt.Sprintf("bench-commit-%d", c)
		if _, err := req.RequestWith(ctx, cl); err != nil {
			b.Fatal(err)
		}
	}
	cpu0 := s.cpuSeconds(b)
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, committers)
	for c := range committers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := kmsg.NewPtrOffsetCommitRequest()
			req.Group = fmt.Sprintf("bench-commit-%d", c)
			req.Generation = -1
			rt := kmsg.NewOffsetCommitRequestTopic()
			rt.Topic = topic
			rp := kmsg.NewOffsetCommitRequestTopicPartition()
			rp.Partition = int32(c % 8)
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			for i := range n {
				req.Topics[0].Partitions[0].Offset = int64(i)
				resp, err := req.RequestWith(ctx, cl)
				if err == nil {
					err = kerr.ErrorForCode(resp.Topics[0].Partitions[0].ErrorCode)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	sec = time.Since(t0).Seconds()
	cpu = s.cpuSeconds(b) - cpu0
	select {
	case err := <-errs:
		b.Fatalf("%s: commit: %v", s.name, err)
	default:
	}
	return sec, cpu
}

// BenchmarkGroupCommit measures offset commits per second, one partition
// per commit, with 1 and 16 concurrent committers (each its own group),
// against the broker and kfake in one run. Samsa writes each commit to
// __consumer_offsets before answering; kfake keeps them in memory.
func BenchmarkGroupCommit(b *testing.B) {
	const topic, n = "bench-commit", 4000
	samsa, kfake := groupServers(b, topic, 8)
	defer samsa.stop()
	defer kfake.stop()
	for _, committers := range []int{1, 16} {
		b.Run(fmt.Sprintf("committers=%d", committers), func(b *testing.B) {
			per := n / committers
			var total, ss, sc, ks, kc float64
			for b.Loop() {
				s1, c1 := commitLoad(b, samsa, topic, committers, per)
				s2, c2 := commitLoad(b, kfake, topic, committers, per)
				ss, sc, ks, kc = ss+s1, sc+c1, ks+s2, kc+c2
				total += float64(per * committers)
			}
			b.ReportMetric(total/ss, "samsa-commits/s")
			b.ReportMetric(total/ks, "kfake-commits/s")
			b.ReportMetric(ks/ss, "samsa/kfake")
			b.ReportMetric(1e6*sc/total, "samsa-cpu-us/commit")
			b.ReportMetric(1e6*kc/total, "kfake-cpu-us/commit")
		})
	}
}

// stabilize starts members franz-go group consumers of topic (range
// balancer, 100 ms heartbeats) at once and returns the time until they all
// hold partitions of one generation with no overlap and no gap.
func stabilize(b *testing.B, s *server, topic string, parts int32, group string, members int) time.Duration {
	var mu sync.Mutex
	held := make([]map[int32]bool, members)
	var cls []*kgo.Client
	stable := make(chan struct{})
	var once sync.Once
	t0 := time.Now()
	var took time.Duration
	check := func() {
		seen := map[int32]bool{}
		for _, h := range held {
			if len(h) == 0 {
				return
			}
			for p := range h {
				if seen[p] {
					return
				}
				seen[p] = true
			}
		}
		if int32(len(seen)) != parts {
			return
		}
		gens := map[int32]bool{}
		for _, cl := range cls {
			_, g := cl.GroupMetadata()
			gens[g] = true
		}
		if len(gens) == 1 {
			once.Do(func() { took = time.Since(t0); close(stable) })
		}
	}
	mu.Lock()
	for i := range members {
		held[i] = map[int32]bool{}
		cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
			kgo.Balancers(kgo.RangeBalancer()), kgo.HeartbeatInterval(100*time.Millisecond),
			kgo.SessionTimeout(10*time.Second), kgo.RebalanceTimeout(10*time.Second),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
				mu.Lock()
				defer mu.Unlock()
				for _, p := range a[topic] {
					held[i][p] = true
				}
				check()
			}),
			kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, r map[string][]int32) {
				mu.Lock()
				defer mu.Unlock()
				for _, p := range r[topic] {
					delete(held[i], p)
				}
			}))
		if err != nil {
			b.Fatal(err)
		}
		cls = append(cls, cl)
	}
	mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, cl := range cls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				cl.PollFetches(ctx)
			}
		}()
	}
	select {
	case <-stable:
	case <-time.After(60 * time.Second):
		b.Fatalf("%s: %d members did not stabilize in 60s", s.name, members)
	}
	cancel()
	wg.Wait()
	for _, cl := range cls {
		cl.Close()
	}
	return took
}

// BenchmarkGroupStabilize measures the time for a group of N members that
// start at once to settle (every member assigned, one generation, no
// overlap, no gap) against the broker and kfake in one run; median of the
// iterations.
func BenchmarkGroupStabilize(b *testing.B) {
	const topic, parts = "bench-group", 64
	samsa, kfake := groupServers(b, topic, parts)
	defer samsa.stop()
	defer kfake.stop()
	for _, members := range []int{2, 10, 50} {
		b.Run(fmt.Sprintf("members=%d", members), func(b *testing.B) {
			var st, kt []float64
			i := 0
			for b.Loop() {
				i++
				group := fmt.Sprintf("bench-stabilize-%d-%d", members, i)
				st = append(st, stabilize(b, samsa, topic, parts, group, members).Seconds()*1000)
				kt = append(kt, stabilize(b, kfake, topic, parts, group, members).Seconds()*1000)
			}
			sm, km := median(st), median(kt)
			b.ReportMetric(sm, "samsa-ms")
			b.ReportMetric(km, "kfake-ms")
			b.ReportMetric(sm/km, "samsa/kfake")
		})
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
