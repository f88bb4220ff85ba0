package adminapi

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/internal/apierr"
	"samsa/kafkaapi"
	"samsa/metadata"
	"samsa/security/acl"
)

func errf(code *kerr.Error, format string, args ...any) *apierr.Error {
	return apierr.Errorf(code, format, args...)
}

func codeOf(err error) int16 { return apierr.Code(err) }

func msgOf(err error) *string { return apierr.Message(err) }

func strptr(s string) *string { return &s }

// authorizeCluster reports whether the request's principal may do op on
// the cluster.
func authorizeCluster(rc *kafkaapi.Request, op acl.Operation) bool {
	return rc.Authorize(acl.Action{Operation: op, Type: acl.ResourceCluster, Name: acl.ClusterName})
}

// topicNames lists the topics of a request, once per time they are named.
func topicNames[T any](ts []T, name func(*T) string) []string {
	out := make([]string, len(ts))
	for i := range ts {
		out[i] = name(&ts[i])
	}
	return out
}

// awaitTopics waits until this broker's metadata has every topic of want
// with that many partitions, each with a leader (a count of 0: the topic is
// gone), waking on each update the controller sends, for at most timeoutMs,
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
				if st, ok := snap.Partition(topic, p); !ok || st.Leader < 0 {
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
