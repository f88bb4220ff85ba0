package kafkaapi

import (
	"fmt"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// errorCounts gathers samsa_request_errors_total as "api error=n" lines.
func errorCounts(t *testing.T, reg *prometheus.Registry) []string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		if mf.GetName() != "samsa_request_errors_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := m.GetLabel()
			out = append(out, fmt.Sprintf("%s %s=%v", l[0].GetValue(), l[1].GetValue(), m.GetCounter().GetValue()))
		}
	}
	slices.Sort(out)
	return out
}

// TestCountErrors: the error codes of a response are found wherever kmsg
// puts them (top level, nested structs, slices of slices), named as Kafka
// names them, and counted once each; a response without errors, like a
// produce or fetch partition without one, costs no allocation.
func TestCountErrors(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)

	oc := kmsg.NewPtrOffsetCommitResponse()
	for _, codes := range [][]int16{{0, kerr.UnknownTopicOrPartition.Code}, {kerr.UnknownTopicOrPartition.Code, kerr.OffsetMetadataTooLarge.Code}} {
		rt := kmsg.NewOffsetCommitResponseTopic()
		for _, c := range codes {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.ErrorCode = c
			rt.Partitions = append(rt.Partitions, rp)
		}
		oc.Topics = append(oc.Topics, rt)
	}
	m.countErrors(8, oc)
	md := kmsg.NewPtrMetadataResponse()
	mt := kmsg.NewMetadataResponseTopic()
	mt.ErrorCode = kerr.LeaderNotAvailable.Code
	mp := kmsg.NewMetadataResponseTopicPartition()
	mp.ErrorCode = kerr.NotLeaderForPartition.Code
	mt.Partitions = append(mt.Partitions, mp)
	md.Topics = append(md.Topics, mt)
	m.countErrors(3, md)
	m.countError(produceKey, kerr.NotLeaderForPartition.Code)
	m.countError(produceKey, kerr.NotLeaderForPartition.Code)
	m.countError(fetchKey, 999) // a code Kafka does not have (yet)
	hb := kmsg.NewPtrHeartbeatResponse()
	hb.ErrorCode = kerr.RebalanceInProgress.Code
	m.countErrors(12, hb)

	want := []string{
		"Fetch UNKNOWN_CODE_999=1",
		"Heartbeat REBALANCE_IN_PROGRESS=1",
		"Metadata LEADER_NOT_AVAILABLE=1",
		"Metadata NOT_LEADER_OR_FOLLOWER=1",
		"OffsetCommit OFFSET_METADATA_TOO_LARGE=1",
		"OffsetCommit UNKNOWN_TOPIC_OR_PARTITION=2",
		"Produce NOT_LEADER_OR_FOLLOWER=2",
	}
	if got := errorCounts(t, reg); !slices.Equal(got, want) {
		t.Fatalf("counted\n%q\nwant\n%q", got, want)
	}

	ok := kmsg.NewPtrOffsetCommitResponse()
	ok.Topics = oc.Topics[:1]
	ok.Topics[0].Partitions = ok.Topics[0].Partitions[:1]
	if a := testing.AllocsPerRun(100, func() {
		m.countErrors(8, ok)
		m.countError(produceKey, 0)
		m.countError(produceKey, kerr.NotLeaderForPartition.Code) // an existing series
	}); a != 0 {
		t.Fatalf("%v allocations", a)
	}
}

// TestErrorPlansCoverServedAPIs: every served API but Produce and Fetch
// (counted by their handlers) has a plan if its response holds an
// ErrorCode anywhere; ApiVersions' is its top-level code.
func TestErrorPlansCoverServedAPIs(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	for key := range apis {
		p := m.plans[key]
		if key == produceKey || key == fetchKey {
			if p != nil {
				t.Errorf("%s: walked as well as counted by its handler", kmsg.NameForKey(key))
			}
			continue
		}
		if p == nil {
			t.Errorf("%s: no error plan", kmsg.NameForKey(key))
		}
	}
	if p := m.plans[apiVersionsKey]; p == nil || len(p.codes) != 1 {
		t.Errorf("ApiVersions plan %+v", p)
	}
}
