package adminapi

// CreateTopics (key 19), versions 0-7.
//
// Standalone, creation is synchronous: when the answer leaves, the topic's
// metadata is durable and its logs exist. In a cluster the controller makes
// the partitions: the answer waits up to timeout_ms until this broker's
// metadata has a leader for every partition, and a topic still without
// them then gets REQUEST_TIMED_OUT (it is created all the same), as Kafka's
// DelayedCreatePartitions does. The controller publishes a new partition
// once its replicas answered, so a replica that its broker could not host
// (a full disk) is listed offline by then: the topic gets
// KAFKA_STORAGE_ERROR (created all the same, its other replicas serving),
// so that no half-hosted topic goes unreported.
// num_partitions and replication_factor -1 take num.partitions and
// default.replication.factor (KIP-464; Kafka's broker honours -1 at any
// version, only its client refuses to send it below v4). An explicit
// replica assignment names partitions 0..n-1, each on this broker, and
// excludes a partition count or replication factor. Configs are checked as
// AlterConfigs checks them. validate_only (v1+) checks everything and
// creates nothing. A name given twice in one request fails at each entry
// with INVALID_REQUEST, as in Kafka. v5+ answers with the partition count,
// the replication factor and every config with its source (KIP-525), v7
// with the topic ID (KIP-516; zero for validate_only).
//
// Errors, with Kafka's messages (v1+): TOPIC_ALREADY_EXISTS,
// INVALID_TOPIC_EXCEPTION (a bad name, or one that collides with another
// when '.' and '_' are equated), INVALID_PARTITIONS,
// INVALID_REPLICATION_FACTOR, INVALID_REPLICA_ASSIGNMENT, INVALID_CONFIG
// (unknown key, bad or null value), INVALID_REQUEST. Authorization, as
// KafkaApis: Create on the cluster or on the topic (else
// TOPIC_AUTHORIZATION_FAILED "Authorization failed."); without
// DescribeConfigs on the topic its answer has TOPIC_AUTHORIZATION_FAILED as
// topic_config_error_code and no configs, counts or topic ID.

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/admin"
	"samsa/config"
	"samsa/kafkaapi"
	"samsa/metadata"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(19, 0, 7, serveCreateTopics) }

func serveCreateTopics(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.CreateTopicsRequest)
	h := rc.Handler()
	resp := kmsg.NewPtrCreateTopicsResponse()
	count := make(map[string]int, len(req.Topics))
	for _, rt := range req.Topics {
		count[rt.Topic]++
	}
	// Create on the cluster, or else on each topic; the configs and
	// metadata of a new topic only with DescribeConfigs on it.
	var creatable, describable kafkaapi.Allowed
	if h.Authorizer() != nil {
		names := kafkaapi.TopicNames(req.Topics, func(t *kmsg.CreateTopicsRequestTopic) string { return t.Topic })
		if !rc.Authorize(acl.Action{Operation: acl.OpCreate, Type: acl.ResourceCluster, Name: acl.ClusterName, QuietDenied: true}) {
			creatable = rc.FilterAuthorized(acl.OpCreate, acl.ResourceTopic, names, false)
		}
		describable = rc.FilterAuthorized(acl.OpDescribeConfigs, acl.ResourceTopic, names, true)
	}
	want := map[string]int32{} // created, to their partitions
	for _, rt := range req.Topics {
		st := kmsg.NewCreateTopicsResponseTopic()
		st.Topic = rt.Topic
		var t metadata.Topic
		var err error
		if count[rt.Topic] > 1 {
			err = errf(kerr.InvalidRequest, "Found multiple entries for this topic.")
		} else if !creatable.Has(rt.Topic) {
			err = errf(kerr.TopicAuthorizationFailed, "Authorization failed.")
		} else if h.Admin().TopicExists(rt.Topic) {
			err = errf(kerr.TopicAlreadyExists, "Topic '%s' already exists.", rt.Topic)
		} else {
			var spec admin.TopicSpec
			if spec, err = createTopicSpec(rt); err == nil {
				t, err = h.Admin().CreateTopic(spec, req.ValidateOnly)
			}
		}
		if err != nil {
			st.ErrorCode, st.ErrorMessage = codeOf(err), msgOf(err)
			if !describable.Has(rt.Topic) && (count[rt.Topic] > 1 || !creatable.Has(rt.Topic)) {
				st.ConfigErrorCode = kerr.TopicAuthorizationFailed.Code // refused before creation, as Kafka
			}
			resp.Topics = append(resp.Topics, st)
			continue
		}
		want[rt.Topic] = int32(len(t.Replicas))
		if !describable.Has(rt.Topic) {
			st.ConfigErrorCode = kerr.TopicAuthorizationFailed.Code
			resp.Topics = append(resp.Topics, st)
			continue
		}
		if !req.ValidateOnly {
			st.TopicID = t.ID
		}
		st.NumPartitions = int32(len(t.Replicas))
		st.ReplicationFactor = int16(len(t.Replicas[0]))
		st.Configs = createdTopicConfigs(h, t.Configs)
		resp.Topics = append(resp.Topics, st)
	}
	if h.Cluster() != nil && !req.ValidateOnly {
		late := awaitTopics(rc.Context(), h, req.TimeoutMillis, want)
		snap := h.Cache().Load()
		for i, st := range resp.Topics {
			if late[st.Topic] {
				resp.Topics[i].ErrorCode = kerr.RequestTimedOut.Code
				resp.Topics[i].ErrorMessage = strptr("the topic is created, but not every partition has a leader yet")
			} else if off := offlineReplicas(snap, st.Topic); off != "" && st.ErrorCode == 0 && want[st.Topic] > 0 {
				resp.Topics[i].ErrorCode = kerr.KafkaStorageError.Code
				resp.Topics[i].ErrorMessage = strptr("the topic is created, but some of its replicas could not be hosted and are offline: " + off)
			}
		}
	}
	return rc.Respond(resp)
}

// createTopicSpec checks what Kafka checks of a request's topic before
// creating it, and converts it.
func createTopicSpec(rt kmsg.CreateTopicsRequestTopic) (admin.TopicSpec, error) {
	spec := admin.TopicSpec{Name: rt.Topic, Partitions: rt.NumPartitions, Replication: rt.ReplicationFactor}
	var nulls []string
	for _, c := range rt.Configs {
		if c.Value == nil {
			nulls = append(nulls, c.Name)
			continue
		}
		if spec.Configs == nil {
			spec.Configs = make(map[string]string, len(rt.Configs))
		}
		spec.Configs[c.Name] = *c.Value
	}
	if len(nulls) > 0 {
		return spec, errf(kerr.InvalidConfig, "Null value not supported for topic configs: %s", strings.Join(nulls, ","))
	}
	if len(rt.ReplicaAssignment) == 0 {
		return spec, nil
	}
	if rt.NumPartitions != -1 || rt.ReplicationFactor != -1 {
		return spec, errf(kerr.InvalidRequest, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.")
	}
	n := len(rt.ReplicaAssignment)
	spec.Assignment = make([][]int32, n)
	for _, a := range rt.ReplicaAssignment {
		if a.Partition < 0 || int(a.Partition) >= n || spec.Assignment[a.Partition] != nil {
			return spec, errf(kerr.InvalidReplicaAssignment, "partitions should be a consecutive 0-based integer sequence")
		}
		spec.Assignment[a.Partition] = append([]int32{}, a.Replicas...)
	}
	for _, r := range spec.Assignment {
		if len(r) != len(spec.Assignment[0]) {
			return spec, errf(kerr.InvalidReplicaAssignment, "All partitions should have the same number of replicas")
		}
		s := slices.Clone(r)
		slices.Sort(s)
		if len(slices.Compact(s)) != len(r) {
			return spec, errf(kerr.InvalidReplicaAssignment, "Duplicate replica assignment found: %v", spec.Assignment)
		}
	}
	return spec, nil
}

// createdTopicConfigs is every config of a new topic with its source, as
// CreateTopics v5+ returns it.
func createdTopicConfigs(h *kafkaapi.Handler, overrides map[string]string) []kmsg.CreateTopicsResponseTopicConfig {
	cfg, err := h.Config().TopicDefaults.With(overrides)
	if err != nil {
		return nil // createTopic validated the overrides
	}
	out := make([]kmsg.CreateTopicsResponseTopicConfig, 0, len(config.TopicDefs))
	for _, d := range config.TopicDefs {
		c := kmsg.NewCreateTopicsResponseTopicConfig()
		c.Name = d.Name
		c.Value = strptr(d.TopicValue(&cfg))
		c.ReadOnly = !d.Dynamic
		c.Source = config.TopicSource(config.TopicSynonyms(d, overrides, &h.Config().TopicDefaults))
		out = append(out, c)
	}
	return out
}
