package replica

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/replica/fetchsession"
)

// TestFetchSessionIncremental: an incremental fetch reads the session's
// partitions with its own changes applied (added, updated, forgotten), is
// answered only with partitions that have news (records, an error, a new
// high watermark or log start), and partitions that returned records go
// to the end of the session's order; a wrong epoch is refused.
func TestFetchSessionIncremental(t *testing.T) {
	inBubble(t, func(t *testing.T, c *cluster) {
		m := c.broker(1)
		var ps []*Partition
		for i := range int32(3) {
			p, _ := leaderAndIsrOf(t, m, i, state(1, 1, 0, []int32{1}, []int32{1}), nil)
			ps = append(ps, p)
		}
		now := time.Now()
		full := fetchReq(-1, 0, -1, -1)
		rp := full.Topics[0].Partitions[0]
		rp.Partition = 1
		full.Topics[0].Partitions = append(full.Topics[0].Partitions, rp)
		s := m.Sessions.Open(full, now)
		if s == nil || s.ID == 0 {
			t.Fatal("no session")
		}
		// respond reads the session's partitions as the handler does and
		// returns the partitions answered.
		respond := func(inc *kmsg.FetchRequest) []int32 {
			t.Helper()
			topics, epoch, kerr := s.Update(inc, now)
			if kerr != nil {
				t.Fatalf("incremental fetch at epoch %d: %v", inc.SessionEpoch, kerr)
			}
			req := *inc
			req.Topics = topics
			read, _, _ := m.ReadFetch(12, &req)
			answered := FetchContext{fetchsession.Fetch{Session: s, Epoch: epoch}}.Finish(read)
			var out []int32
			for _, ft := range answered {
				for _, fp := range ft.Parts {
					out = append(out, fp.Partition)
				}
			}
			ReleaseFetch(answered)
			return out
		}
		incremental := func(epoch int32) *kmsg.FetchRequest {
			req := kmsg.NewPtrFetchRequest()
			req.ReplicaID, req.MaxBytes, req.SessionID, req.SessionEpoch = -1, 1<<20, s.ID, epoch
			return req
		}
		// The opening full fetch: everything is news.
		read, _, _ := m.ReadFetch(12, full)
		if got := (FetchContext{fetchsession.Fetch{Session: s, Epoch: 0, Full: true}}).Finish(read); len(got) != 1 || len(got[0].Parts) != 2 {
			t.Fatalf("the full fetch answered %+v", got)
		}
		if got := respond(incremental(1)); len(got) != 0 {
			t.Fatalf("nothing changed, yet partitions %v answered", got)
		}
		mustProduce(t, m, ps[0], 1)
		if got := respond(incremental(2)); !slices.Equal(got, []int32{0}) {
			t.Fatalf("after an append to partition 0: answered %v", got)
		}
		// Partition 0 sent records: it is now read after partition 1. Its
		// fetch offset stays 0 until the client says otherwise.
		mustProduce(t, m, ps[1], 1)
		if got := respond(incremental(3)); !slices.Equal(got, []int32{1, 0}) {
			t.Fatalf("answered %v, want [1 0]: partition 0 moved to the end", got)
		}
		if _, _, kerr := s.Update(incremental(3), now); kerr == nil {
			t.Fatal("a repeated session epoch was accepted")
		}
		// Move partition 0 past its records, forget 1, add 2 (whose leader
		// moves away: an error is news). The order is [1 0] before.
		inc := incremental(4)
		inc.Topics = []kmsg.FetchRequestTopic{full.Topics[0]}
		inc.Topics[0].Partitions = []kmsg.FetchRequestTopicPartition{full.Topics[0].Partitions[0], full.Topics[0].Partitions[0]}
		inc.Topics[0].Partitions[0].FetchOffset = 1
		inc.Topics[0].Partitions[0].LastFetchedEpoch, inc.Topics[0].Partitions[0].LogStartOffset = 1, 0
		inc.Topics[0].Partitions[1].Partition = 2
		inc.ForgottenTopics = []kmsg.FetchRequestForgottenTopic{{Topic: testTopic, Partitions: []int32{1}}}
		leaderAndIsrOf(t, m, 2, state(2, 2, 1, []int32{1, 2}, []int32{2}), nil)
		if got := respond(inc); !slices.Equal(got, []int32{2}) {
			t.Fatalf("answered %v, want [2] (partition 0 is caught up, 2 has an error)", got)
		}
		if got := s.Topics(); len(got) != 1 || len(got[0].Partitions) != 2 ||
			got[0].Partitions[0].Partition != 0 || got[0].Partitions[0].FetchOffset != 1 || got[0].Partitions[1].Partition != 2 {
			t.Fatalf("session partitions %+v", got)
		}
		// A follower's last fetched epoch and log start stay in the
		// session: the leader checks every fetch for a diverging log.
		if p0 := s.Topics()[0].Partitions[0]; p0.LastFetchedEpoch != 1 || p0.LogStartOffset != 0 {
			t.Fatalf("session partition 0 reads with last fetched epoch %d, log start %d; want 1, 0", p0.LastFetchedEpoch, p0.LogStartOffset)
		}
	})
}
