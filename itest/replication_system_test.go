package itest

// Kafka's own replication system test (kafkatest
// tests/core/replication_test.py), reproduced against samsa: three
// brokers, a topic with three partitions, replication factor 3 and
// min.insync.replicas=2; two idempotent acks=all producers at a steady
// rate (franz-go in the test process, confluent-kafka in a child process),
// each keeping a ledger of what it was told; and one failure at a time,
// aimed at the leader of partition 0 or at the controller:
//
//	clean_shutdown  SIGTERM (controlled shutdown), the broker stays down a while
//	hard_shutdown   SIGKILL, down until its session expires and a while after
//	clean_bounce    SIGTERM and restart, 5 times, chasing the target
//	hard_bounce     SIGKILL and restart, 5 times, chasing the target
//
// (-short: 2 bounces.) The leader and controller series run side by side
// on two clusters. After each failure the cluster is made whole again
// and the producers finish. Pass: every acknowledged record is in the log
// at the offset its producer was told, none twice, offsets contiguous in
// every partition, no record failed; every replica of every partition
// holds the same log bytes as its leader.

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestReplicationSystem(t *testing.T) {
	bounces := 5
	if testing.Short() {
		bounces = 2
	}
	// The two targets run side by side, each on a cluster of its own:
	// most of the time goes to waiting for sessions to expire.
	for _, target := range []string{"leader", "controller"} {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			testReplicationSystem(t, target, bounces)
		})
	}
}

func testReplicationSystem(t *testing.T, target string, bounces int) {
	c := replStartCluster(t, 3)
	for _, mode := range []string{"clean_shutdown", "hard_shutdown", "clean_bounce", "hard_bounce"} {
		t.Run(mode, func(t *testing.T) {
			c := c.in(t)
			c.heal()
			topic := strings.ReplaceAll("sys-"+target+"-"+mode, "_", "-")
			c.createTopic(topic, 3, 3, map[string]string{"min.insync.replicas": "2"}, nil)
			c.waitInSync(topic)
			began := time.Now()
			fg := c.produce(topic, "fg", 300)
			ck := c.produceCK(topic, "ck", 100)
			c.waitAcks(fg, 150, "before the failure")
			c.waitAcks(ck, 50, "before the failure")
			pick := func() *replNode {
				if target == "leader" {
					return c.leader(topic, 0)
				}
				return c.node(c.controller())
			}
			switch mode {
			case "clean_shutdown", "hard_shutdown":
				n := pick()
				t.Logf("%s: broker %d", mode, n.id)
				if mode == "clean_shutdown" {
					n.sigterm()
				} else {
					n.sigkill()
				}
				// Two of three replicas in sync: writes go on.
				c.waitAcks(fg, 300, fmt.Sprintf("with broker %d down", n.id))
				c.waitAcks(ck, 100, fmt.Sprintf("with broker %d down", n.id))
				c.restart(n)
			case "clean_bounce", "hard_bounce":
				for i := range bounces {
					n := pick()
					t.Logf("%s %d: broker %d", mode, i+1, n.id)
					if mode == "clean_bounce" {
						n.sigterm()
					} else {
						n.sigkill()
					}
					c.restart(n)
					c.waitInSync(topic)
				}
			}
			c.waitInSync(topic)
			c.waitAcks(fg, 150, "after the cluster is whole")
			c.waitAcks(ck, 50, "after the cluster is whole")
			fg.finish(t)
			ck.finish(t)
			logs := c.waitIdentical(topic)
			recs := c.readAll(topic)
			t.Log(replCheck(t, recs, fg.ledger, ck.ledger))
			for _, p := range []*replProducer{fg, ck} {
				if _, _, failed := p.ledger.counts(); failed > 0 {
					p.ledger.mu.Lock()
					for v, err := range p.ledger.fail {
						t.Errorf("%s: %s failed: %s", p.ledger.name, v, err)
						break
					}
					p.ledger.mu.Unlock()
					t.Errorf("%s: %d records failed", p.ledger.name, failed)
				}
			}
			for p, log := range logs {
				bs, err := replBatches(log)
				if err != nil {
					t.Fatalf("partition %d: %v", p, err)
				}
				n := int64(0)
				for _, b := range bs {
					n += b.Last - b.Base + 1
				}
				if n != int64(len(recs[p])) {
					t.Errorf("partition %d: the log holds %d records, consumers read %d", p, n, len(recs[p]))
				}
			}
			t.Logf("%s took %v", mode, time.Since(began).Round(time.Millisecond))
		})
	}
}
