package kafkaapi

import (
	"log/slog"

	"github.com/twmb/franz-go/pkg/kerr"

	"samsa/admin"
	"samsa/config"
	"samsa/coordinator/group"
	"samsa/coordinator/txn"
	"samsa/internal/apierr"
	"samsa/kafkaapi/coordtopic"
	"samsa/metadata"
	"samsa/replica"
)

// Handler serves the Kafka APIs of one broker.
type Handler struct {
	cfg     *config.Config
	log     *slog.Logger
	meta    metadata.Store
	cache   *metadata.Cache
	rm      *replica.Manager
	groups  *group.Coordinator
	txns    *txn.Coordinator
	metrics *Metrics
	cluster Cluster // nil standalone

	// admin changes topics.
	admin *admin.Manager
	// topics are the coordinators' internal topics.
	topics *coordtopic.Topics

	pids pidAllocator
}

// Deps are what a Handler serves from.
type Deps struct {
	Config   *config.Config
	Logger   *slog.Logger
	Store    metadata.Store
	Cache    *metadata.Cache
	Replicas *replica.Manager
	Groups   *group.Coordinator
	Txns     *txn.Coordinator // required, as Groups
	Metrics  *Metrics
	// Cluster is ZooKeeper mode's part; nil for a standalone broker.
	Cluster Cluster
}

// New returns a Handler over the layers in d.
func New(d Deps) *Handler {
	h := &Handler{cfg: d.Config, log: d.Logger, meta: d.Store, cache: d.Cache, rm: d.Replicas, groups: d.Groups, txns: d.Txns, metrics: d.Metrics, cluster: d.Cluster}
	h.admin = admin.New(admin.Deps{
		Config: d.Config, Logger: d.Logger, Store: d.Store, Cache: d.Cache, Replicas: d.Replicas, Cluster: d.Cluster != nil,
		Deleted: func(topic string) {
			if h.groups != nil && topic != offsetsTopic {
				h.groups.DeleteTopicOffsets(topic) // as Kafka: no stale offsets for a new topic of the name
			}
		},
	})
	h.topics = &coordtopic.Topics{
		Config: d.Config, Cache: d.Cache, RM: d.Replicas, Admin: h.admin, Groups: d.Groups, Txns: d.Txns, Cluster: d.Cluster != nil,
	}
	return h
}

func errf(code *kerr.Error, format string, args ...any) *apierr.Error {
	return apierr.Errorf(code, format, args...)
}

func codeOf(err error) int16 { return apierr.Code(err) }

func msgOf(err error) *string { return apierr.Message(err) }
