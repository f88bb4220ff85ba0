package itest

// A leader that stops (SIGTERM) while an acks=all produce waits for its
// followers must not acknowledge it: the broker's shutdown ends every
// parked request early, and what has not reached the high watermark has
// not been replicated. Here both followers are paused, still in the ISR,
// so the high watermark cannot move; controlled shutdown is off, so that
// leadership does not move first (with it on, the same happens whenever
// the controller's LeaderAndIsr reaches the stopping leader after its
// listener began to close). The producer must be told an error; the
// records are then lost with the stopped leader's unreplicated tail, which
// is allowed only because they were never acknowledged.

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestReplicationShutdownWhileAwaiting(t *testing.T) {
	c := replStartCluster(t, 3, "controlled.shutdown.enable=false", "replica.lag.time.max.ms=10000")
	const topic = "shutdown-await"
	c.createTopic(topic, 1, -1, map[string]string{"min.insync.replicas": "2"}, map[int32][]int32{0: {1, 2, 3}})
	c.waitInSync(topic)
	l := c.node(1)
	conn := l.dial(t)
	c.node(2).pause()
	c.node(3).pause()
	req := produceRequest(8, topic, 0, recordBatch(batchSpec{records: simpleRecords(3, "parked")}))
	req.TimeoutMillis = 30000
	corr := conn.send(t, req)
	time.Sleep(300 * time.Millisecond) // the produce parks, waiting for the paused followers
	l.sigterm()
	r := conn.recv(t, req, corr).(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	t.Logf("acks=all produce parked when its leader stopped: %v at offset %d", kerr.ErrorForCode(r.ErrorCode), r.BaseOffset)
	if r.ErrorCode == 0 {
		t.Errorf("the stopping leader acknowledged records no follower had (offset %d)", r.BaseOffset)
	}
	c.node(2).resume()
	c.node(3).resume()
}
