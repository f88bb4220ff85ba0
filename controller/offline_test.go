package controller

// Replicas a broker cannot host (Kafka's ControllerIntegrationTest
// testTopicCreationWithOfflineReplica, and the OfflineReplica transition of
// ReplicaStateMachineTest): the broker answers LeaderAndIsr with
// KAFKA_STORAGE_ERROR and the controller takes the replica offline.

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// diskFull answers a LeaderAndIsr as a broker that cannot create any log:
// KAFKA_STORAGE_ERROR for every partition, topics named by ID (v5+).
func diskFull(_ context.Context, req kmsg.Request) (kmsg.Response, error) {
	r, ok := req.(*kmsg.LeaderAndISRRequest)
	if !ok {
		return answer(req, 0), nil
	}
	resp := kmsg.NewPtrLeaderAndISRResponse()
	for _, t := range r.TopicStates {
		rt := kmsg.NewLeaderAndISRResponseTopic()
		rt.TopicID = t.TopicID
		for _, p := range t.PartitionStates {
			rp := kmsg.NewLeaderAndISRResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, kerr.KafkaStorageError.Code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil
}

// TestStorageErrorTakesReplicaOffline: broker 2 cannot host the replicas
// of a new topic. Its leaderships go to the next replica, it leaves the
// ISRs (but for a partition it alone holds, which goes offline), and no
// broker ever learns the topic without its offline replicas: the new
// partitions' UpdateMetadata waited for the answers. It may not rejoin an
// ISR nor be elected while offline; once it registers again its replicas
// are retried and it leads the partition it alone holds.
func TestStorageErrorTakesReplicaOffline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		ctl := h.boot(4, 1, 2, 3)
		h.net.handle(2, diskFull)
		h.store.createTopic("t", nil, []int32{2, 1, 3}, []int32{1, 2, 3}, []int32{2})
		synctest.Wait()
		h.wantState("t", 0, 1, 1, []int32{1, 3}, 1)
		h.wantState("t", 1, 1, 1, []int32{1, 3}, 1)
		h.wantState("t", 2, -1, 1, []int32{2}, 1)
		for _, s := range h.net.take(t, 4) {
			d := describe(s.req)
			if !strings.HasPrefix(d, "UpdateMetadata") {
				continue
			}
			for _, p := range []string{"t-0:L1/e1/[1,3]/v1 r[2,1,3] off[2]", "t-1:L1/e1/[1,3]/v1 r[1,2,3] off[2]", "t-2:L-1/e1/[2]/v1 r[2] off[2]"} {
				if !strings.Contains(d, p) {
					t.Errorf("broker %d learned the new topic without its offline replicas:\n\t%s\nwant %s", s.to, d, p)
				}
			}
		}

		// Offline, broker 2 may not rejoin an ISR nor be elected.
		resp, err := ctl.AlterPartition(context.Background(), alterReq(1, h.store.brokerEpoch(1), "t", 0, 1, 1, 1, 3, 2))
		if code := errCode(resp, err); code != kerr.IneligibleReplica.Code {
			t.Errorf("AlterPartition adding the offline replica: %v, want INELIGIBLE_REPLICA", kerr.ErrorForCode(code))
		}
		res, err := ctl.ElectLeaders(context.Background(), 0, map[string][]int32{"t": {0}})
		if err != nil || res["t"][0] != kerr.PreferredLeaderNotAvailable.Code {
			t.Errorf("preferred election of the offline replica: %v %v, want PREFERRED_LEADER_NOT_AVAILABLE", res, err)
		}

		// Restarted with room on its disk, it hosts them: it leads t-2
		// again; elsewhere it must catch up before it rejoins an ISR.
		h.net.handle(2, nil)
		h.bounce(2)
		synctest.Wait()
		h.wantState("t", 2, 2, 3, []int32{2}, 3) // its death counted one epoch, its election another
		h.wantState("t", 0, 1, 1, []int32{1, 3}, 1)
		var last string
		for _, s := range h.net.take(t, 4) {
			if d := describe(s.req); s.to == 1 && strings.HasPrefix(d, "UpdateMetadata") {
				last = d
			}
		}
		if strings.Contains(last, "off[") {
			t.Errorf("after its restart broker 2's replicas are still offline: %s", last)
		}
		resp, err = ctl.AlterPartition(context.Background(), alterReq(1, h.store.brokerEpoch(1), "t", 0, 1, 1, 1, 3, 2))
		if code := errCode(resp, err); code != 0 {
			t.Errorf("AlterPartition adding the restarted replica: %v", kerr.ErrorForCode(code))
		}
	})
}

// TestCreationWaitsForReplicas: a new partition reaches the brokers'
// metadata once every replica answered its LeaderAndIsr; a replica whose
// broker does not answer holds it back for controller.socket.timeout.ms
// at most.
func TestCreationWaitsForReplicas(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.boot(4, 1, 2, 3)
		h.net.handle(3, func(ctx context.Context, _ kmsg.Request) (kmsg.Response, error) {
			<-ctx.Done() // no answer
			return nil, ctx.Err()
		})
		h.store.createTopic("t", nil, []int32{1, 2, 3})
		synctest.Wait()
		told := func() bool {
			for _, s := range h.net.take(t, 4) {
				if d := describe(s.req); s.to == 1 && strings.HasPrefix(d, "UpdateMetadata") && strings.Contains(d, "t-0:") {
					return true
				}
			}
			return false
		}
		if told() {
			t.Fatal("the brokers learned the new partition before broker 3 answered")
		}
		time.Sleep(5 * time.Second) // the harness's RequestTimeout
		synctest.Wait()
		if !told() {
			t.Fatal("the new partition was not told after the request timeout")
		}
		h.net.handle(3, nil)
	})
}
