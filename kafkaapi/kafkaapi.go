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
	"samsa/netpoll"
	"samsa/replica"
	"samsa/security/acl"
	"samsa/security/sasl"
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
	// brokerConfigs are the dynamic broker configs; nil: none.
	brokerConfigs BrokerConfigs

	// admin changes topics.
	admin *admin.Manager
	// topics are the coordinators' internal topics.
	topics *coordtopic.Topics

	// authz decides what each principal may do; nil authorizes everything
	// (authorizer.class.name empty). principalOf is who a connection is
	// authenticated as.
	authz       *acl.Authorizer
	principalOf func(c *netpoll.Conn) acl.Principal

	// creds stores the SCRAM credentials and scram caches them for the
	// SASL listeners; nil without (DescribeUserScramCredentials and
	// AlterUserScramCredentials then answer as for no users).
	creds sasl.CredentialStore
	scram *sasl.CredentialCache

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
	// Authorizer checks every request (authz.go); nil for none.
	Authorizer *acl.Authorizer
	// Principal is who a connection authenticated as, for the
	// authorizer; nil: the connection's own (netpoll.Conn.Principal).
	Principal func(c *netpoll.Conn) acl.Principal
	// BrokerConfigs are this broker's dynamic configs; nil: none.
	BrokerConfigs BrokerConfigs
	// Credentials is where SCRAM credentials are stored (metadata.Local,
	// zkstore.UserStore), SCRAM the cache the SASL listeners read; nil:
	// none.
	Credentials sasl.CredentialStore
	SCRAM       *sasl.CredentialCache
}

// BrokerConfigs are a broker's dynamic configs (KIP-226): per-listener
// keystores and truststores, changed with AlterConfigs and
// IncrementalAlterConfigs on the BROKER resource.
type BrokerConfigs interface {
	// Alter puts in force the configs edit makes of the current ones,
	// after Kafka's checks of them and of names, the keys the request
	// named; perBroker is false for the cluster-wide default resource. An
	// error, answered INVALID_REQUEST, changes nothing; validateOnly
	// changes nothing either.
	Alter(names []string, edit func(cur map[string]string) (map[string]string, error), perBroker, validateOnly bool) error
	// Dynamic returns the configs in force, by key.
	Dynamic() map[string]string
}

// New returns a Handler over the layers in d.
func New(d Deps) *Handler {
	h := &Handler{cfg: d.Config, log: d.Logger, meta: d.Store, cache: d.Cache, rm: d.Replicas, groups: d.Groups, txns: d.Txns, metrics: d.Metrics, cluster: d.Cluster,
		authz: d.Authorizer, principalOf: d.Principal, brokerConfigs: d.BrokerConfigs,
		creds: d.Credentials, scram: d.SCRAM}
	if h.principalOf == nil {
		h.principalOf = connPrincipal
	}
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
