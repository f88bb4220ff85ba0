package itest

// Consumer groups in a cluster: the coordinator is the leader of the
// group's __consumer_offsets partition, which need not be the broker a
// client was given.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// coordinator asks a broker which broker coordinates group, retrying
// while the coordinator is not available yet (__consumer_offsets being
// created and led).
func (c *kcluster) coordinator(via *broker, group string) int32 {
	c.t.Helper()
	var id int32
	waitUntil(c.t, clusterWait, "the coordinator of "+group, func() error {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorKey = group            // v0-v3
		req.CoordinatorKeys = []string{group} // v4+
		resp, err := via.request(req)
		if err != nil {
			return err
		}
		r := resp.(*kmsg.FindCoordinatorResponse)
		code, node := r.ErrorCode, r.NodeID
		if r.Version >= 4 {
			if len(r.Coordinators) != 1 {
				return fmt.Errorf("FindCoordinator v%d: %d coordinators for one key", r.Version, len(r.Coordinators))
			}
			code, node = r.Coordinators[0].ErrorCode, r.Coordinators[0].NodeID
		}
		if code != 0 {
			return fmt.Errorf("FindCoordinator: error %d", code)
		}
		id = node
		return nil
	})
	return id
}

// groupElsewhere returns a group name whose coordinator is neither of the
// brokers in not.
func (c *kcluster) groupElsewhere(prefix string, not ...int32) (string, int32) {
	c.t.Helper()
	for i := range 100 {
		g := fmt.Sprintf("%s-%d", prefix, i)
		if id := c.coordinator(c.broker(1), g); id > 0 && !contains32(not, id) {
			return g, id
		}
	}
	c.t.Fatalf("no group name coordinated by a broker other than %v", not)
	return "", -1
}

func contains32(s []int32, x int32) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// TestClusterGroups: members of franz-go, kafka-python and confluent-kafka
// groups, each given a broker that is not their group's coordinator, find
// the coordinator, read a topic whose partitions all three brokers lead,
// commit, and leave; the commits are what another broker's client fetches,
// and a new member given yet another broker resumes after them, reading
// exactly the records produced since.
func TestClusterGroups(t *testing.T) {
	c := startCluster(t, 3, clusterOpts{})
	const parts = 6
	for i, client := range []string{"franz-go", "kp", "ck"} {
		t.Run(client, func(t *testing.T) {
			t.Parallel()
			c := c.in(t)
			seed := c.brokers[i%3]
			later := c.brokers[(i+1)%3]
			topic := "groups." + client
			c.createTopic(seed, topic, parts, nil)
			group, coord := c.groupElsewhere("g-"+client, seed.id, later.id)
			t.Logf("group %s: coordinator %d, first member via broker %d, second via %d", group, coord, seed.id, later.id)
			produce := func() map[int32][]string { return produceSpread(t, c.broker(coord), topic, parts, 60, topic) }
			var produced map[int32][]string
			var first []*consumed
			switch client {
			case "franz-go":
				produced = produce()
				m := seed.groupClient(t, group, topic, kgo.DisableAutoCommit())
				first = pollMembers(t, []*kgo.Client{m}, 60)
				if err := m.CommitUncommittedOffsets(ctx(t)); err != nil {
					t.Fatalf("commit: %v", err)
				}
				m.Close()
			default:
				needPyClient(t, client)
				// The member must not read before the group settles.
				res := runPyGroup(t, seed, client, group, topic, 1, parts, 60, func() { produced = produce() })
				m := &consumed{}
				for _, r := range res.Members[0].Records {
					m.recs = append(m.recs, &kgo.Record{Partition: int32(r[0].(float64)), Value: []byte(r[2].(string))})
				}
				first = []*consumed{m}
			}
			checkOnce(t, produced, first, nil)
			committed := fetchCommitted(t, c.other(coord).admin(t), group, topic)
			for p := range int32(parts) {
				if committed[p] != int64(len(produced[p])) {
					t.Fatalf("committed %v, want %d per partition", committed, len(produced[p]))
				}
			}

			more := produceSpread(t, seed, topic, parts, 18, topic+"-more")
			m := later.groupClient(t, group, topic)
			c2, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var got []*kgo.Record
			for len(got) < 18 {
				fs := m.PollFetches(c2)
				if c2.Err() != nil {
					t.Fatalf("resumed member read %d of 18 records", len(got))
				}
				fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
				got = append(got, fs.Records()...)
			}
			checkOnce(t, more, []*consumed{{recs: got}}, nil)
		})
	}
}
