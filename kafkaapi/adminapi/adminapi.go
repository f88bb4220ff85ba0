package adminapi

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/internal/apierr"
	"samsa/kafkaapi"
	"samsa/metadata"
)

func errf(code *kerr.Error, format string, args ...any) *apierr.Error {
	return apierr.Errorf(code, format, args...)
}

func codeOf(err error) int16 { return apierr.Code(err) }

func msgOf(err error) *string { return apierr.Message(err) }

func strptr(s string) *string { return &s }

// awaitTopics waits until this broker's metadata has every topic of want
// with that many partitions, each with a leader or with every replica
// offline (its brokers could not host it: no leader will come), or (a
// count of 0) the topic gone, waking on each update the controller sends,
// for at most timeoutMs,
// as Kafka's DelayedCreatePartitions and DelayedDeleteTopics wait before
// answering CreateTopics, CreatePartitions and DeleteTopics. It returns the
// topics still unmet when it gave up; a timeout of 0 or less does not wait.
func awaitTopics(ctx context.Context, h *kafkaapi.Handler, timeoutMs int32, want map[string]int32) map[string]bool {
	unmet := func(snap *metadata.Snapshot) map[string]bool {
		out := map[string]bool{}
		for topic, n := range want {
			if n == 0 && snap.Topic(topic) != nil {
				out[topic] = true
			}
			for p := range n {
				if st, ok := snap.Partition(topic, p); !ok || st.Leader < 0 && len(st.Offline) < len(st.Replicas) {
					out[topic] = true
				}
			}
		}
		return out
	}
	if timeoutMs <= 0 || len(want) == 0 {
		return nil
	}
	timer := time.NewTimer(time.Duration(timeoutMs) * time.Millisecond)
	defer timer.Stop()
	for {
		changed := h.Cache().Changed()
		late := unmet(h.Cache().Load())
		if len(late) == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-timer.C:
			return late
		case <-ctx.Done():
			return late
		}
	}
}

// offlineReplicas describes the partitions of a topic whose replicas this
// broker's metadata lists as offline ("" when none), e.g. "3 partitions,
// first t-0 on brokers [2]".
func offlineReplicas(snap *metadata.Snapshot, topic string) string {
	t := snap.Topic(topic)
	if t == nil {
		return ""
	}
	n, first := 0, ""
	for p, st := range t.Partitions {
		if len(st.Offline) == 0 {
			continue
		}
		if n == 0 {
			first = fmt.Sprintf("%s-%d on brokers %v", topic, p, st.Offline)
		}
		n++
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d partitions, first %s", n, first)
}
