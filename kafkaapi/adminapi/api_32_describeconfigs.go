package adminapi

// DescribeConfigs (key 32), versions 0-4.
//
// Topic resources (type 2): every topic key in config.TopicDefs with its
// value in effect, read_only false, is_sensitive false; config_source (v1+)
// is DYNAMIC_TOPIC_CONFIG for a topic override, STATIC_BROKER_CONFIG for a
// default the server configuration changed, DEFAULT_CONFIG otherwise
// (is_default in v0). include_synonyms (v1+, KIP-226) lists those sources in
// order of precedence, broker-level ones named by their broker key (KIP-226:
// log.segment.bytes for segment.bytes). config_type and, when asked,
// documentation are v3+ (KIP-569).
//
// Broker resources (type 4) named by this broker's ID: every server key the
// broker understands with its current value, STATIC_BROKER_CONFIG when it
// differs from the default, and read_only true, since this broker has no
// dynamic broker configs. log.retention.hours and similar coarser synonyms
// are derived from the millisecond value (null if it is not a whole number
// of them). Passwords (ssl.keystore.password and the like) are sensitive:
// value null, is_sensitive true, as Kafka answers. The dynamic configs
// (listener.name.<l>.ssl.*, KIP-226) follow, DYNAMIC_BROKER_CONFIG and not
// read-only. An empty name asks, as in Kafka, for the cluster-wide dynamic
// defaults: there are none, so the list is empty.
//
// A null or empty config name list asks for every config. Errors per
// resource, as in Kafka: UNKNOWN_TOPIC_OR_PARTITION (without a message),
// INVALID_TOPIC_EXCEPTION, and INVALID_REQUEST for another broker's ID, a
// name that is not an ID, or a resource type other than topic and broker
// (BROKER_LOGGER, CLIENT_METRICS and GROUP are not implemented). A topic
// needs DescribeConfigs on it (TOPIC_AUTHORIZATION_FAILED), a broker on the
// cluster (CLUSTER_AUTHORIZATION_FAILED), checked first.

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/config"
	"samsa/kafkaapi"
	"samsa/metadata"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(32, 0, 4, serveDescribeConfigs) }

// configsDenied is the error of a config resource the principal may not
// do op (DescribeConfigs, AlterConfigs) on, nil if it may: a topic's
// needs op on the topic (TOPIC_AUTHORIZATION_FAILED), a broker's or a
// broker logger's on the cluster (CLUSTER_AUTHORIZATION_FAILED), as
// Kafka's ConfigHelper and KafkaApis check them.
func configsDenied(rc *kafkaapi.Request, op acl.Operation, t kmsg.ConfigResourceType, name string) *kerr.Error {
	switch t {
	case kmsg.ConfigResourceTypeTopic:
		if !rc.Authorize(acl.Action{Operation: op, Type: acl.ResourceTopic, Name: name}) {
			return kerr.TopicAuthorizationFailed
		}
	case kmsg.ConfigResourceTypeBroker, kmsg.ConfigResourceTypeBrokerLogger:
		if !rc.AuthorizeCluster(op) {
			return kerr.ClusterAuthorizationFailed
		}
	}
	return nil
}

func serveDescribeConfigs(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.DescribeConfigsRequest)
	h := rc.Handler()
	resp := kmsg.NewPtrDescribeConfigsResponse()
	for _, r := range req.Resources {
		sr := kmsg.NewDescribeConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = r.ResourceType, r.ResourceName
		if denied := configsDenied(rc, acl.OpDescribeConfigs, r.ResourceType, r.ResourceName); denied != nil {
			sr.ErrorCode, sr.ErrorMessage = denied.Code, strptr(denied.Description)
			resp.Resources = append(resp.Resources, sr)
			continue
		}
		var err error
		switch r.ResourceType {
		case kmsg.ConfigResourceTypeTopic:
			sr.Configs, err = describeTopicConfigs(h, r, req.IncludeSynonyms, req.IncludeDocumentation)
		case kmsg.ConfigResourceTypeBroker:
			sr.Configs, err = describeBrokerConfigs(h, r, req.IncludeSynonyms, req.IncludeDocumentation)
		default:
			err = errf(kerr.InvalidRequest, "Unsupported resource type: %s", r.ResourceType)
		}
		if err != nil {
			sr.Configs = nil
			sr.ErrorCode = codeOf(err)
			if sr.ErrorCode != kerr.UnknownTopicOrPartition.Code {
				sr.ErrorMessage = msgOf(err)
			}
		}
		resp.Resources = append(resp.Resources, sr)
	}
	return rc.Respond(resp)
}

// wanted reports whether a config is asked for: a null or empty list asks
// for all.
func configWanted(names []string, name string) bool {
	return len(names) == 0 || slices.Contains(names, name)
}

func describeTopicConfigs(h *kafkaapi.Handler, r kmsg.DescribeConfigsRequestResource, synonyms, docs bool) ([]kmsg.DescribeConfigsResponseResourceConfig, error) {
	if err := metadata.ValidTopicName(r.ResourceName); err != nil {
		return nil, errf(kerr.InvalidTopicException, "%v", err)
	}
	stored, ok := h.Store().Topic(r.ResourceName)
	if !ok || !h.Admin().TopicExists(r.ResourceName) {
		return nil, errf(kerr.UnknownTopicOrPartition, "The topic '%s' does not exist.", r.ResourceName)
	}
	cfg, err := h.Config().TopicDefaults.With(stored.Configs)
	if err != nil {
		return nil, errf(kerr.InvalidConfig, "stored configs of %s: %v", r.ResourceName, err)
	}
	var out []kmsg.DescribeConfigsResponseResourceConfig
	for _, d := range config.TopicDefs {
		if !configWanted(r.ConfigNames, d.Name) {
			continue
		}
		syns := config.TopicSynonyms(d, stored.Configs, &h.Config().TopicDefaults)
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		c.Name, c.Value = d.Name, strptr(d.TopicValue(&cfg))
		c.ReadOnly = !d.Dynamic
		c.Source = kmsg.ConfigSource(config.TopicSource(syns))
		c.IsDefault = c.Source == kmsg.ConfigSourceDefaultConfig
		c.ConfigType = kmsg.ConfigType(d.Type)
		if synonyms {
			for _, s := range syns {
				cs := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
				cs.Name, cs.Value, cs.Source = s.Name, strptr(s.Value), kmsg.ConfigSource(s.Source)
				c.ConfigSynonyms = append(c.ConfigSynonyms, cs)
			}
		}
		if docs {
			c.Documentation = strptr(d.Doc)
		}
		out = append(out, c)
	}
	return out, nil
}

func describeBrokerConfigs(h *kafkaapi.Handler, r kmsg.DescribeConfigsRequestResource, synonyms, docs bool) ([]kmsg.DescribeConfigsResponseResourceConfig, error) {
	if r.ResourceName == "" {
		return nil, nil // no dynamic cluster-wide defaults
	}
	if err := checkBrokerResource(h, r.ResourceName); err != nil {
		return nil, err
	}
	def := config.Default()
	var out []kmsg.DescribeConfigsResponseResourceConfig
	for _, d := range config.BrokerDefs {
		k := d.Name
		if !configWanted(r.ConfigNames, k) {
			continue
		}
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		c.Name, c.Value = k, d.Value(h.Config())
		c.ReadOnly = !d.Dynamic
		c.Source = kmsg.ConfigSourceDefaultConfig
		defVal := d.Value(def)
		if h.Config().Explicit(k) || !sameConfigValue(c.Value, defVal) {
			// Set, or derived from a key that was (log.retention.ms
			// from log.retention.hours).
			c.Source = kmsg.ConfigSourceStaticBrokerConfig
		}
		c.IsDefault = c.Source == kmsg.ConfigSourceDefaultConfig
		c.ConfigType = kmsg.ConfigType(d.Type)
		if d.Type == config.TypePassword {
			c.Value, defVal, c.IsSensitive = nil, nil, true
		}
		if synonyms {
			if c.Source == kmsg.ConfigSourceStaticBrokerConfig {
				cs := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
				cs.Name, cs.Value, cs.Source = k, c.Value, kmsg.ConfigSourceStaticBrokerConfig
				c.ConfigSynonyms = append(c.ConfigSynonyms, cs)
			}
			if defVal != nil {
				cs := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
				cs.Name, cs.Value, cs.Source = k, defVal, kmsg.ConfigSourceDefaultConfig
				c.ConfigSynonyms = append(c.ConfigSynonyms, cs)
			}
		}
		if docs {
			c.Documentation = strptr(d.Doc)
		}
		out = append(out, c)
	}
	return append(out, describeDynamicBrokerConfigs(h, r, synonyms, docs)...), nil
}

func describeDynamicBrokerConfigs(h *kafkaapi.Handler, r kmsg.DescribeConfigsRequestResource, synonyms, docs bool) []kmsg.DescribeConfigsResponseResourceConfig {
	if h.BrokerConfigs() == nil {
		return nil
	}
	var out []kmsg.DescribeConfigsResponseResourceConfig
	dyn := h.BrokerConfigs().Dynamic()
	for _, k := range slices.Sorted(maps.Keys(dyn)) {
		if !configWanted(r.ConfigNames, k) {
			continue
		}
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		c.Name, c.Value, c.Source = k, strptr(dyn[k]), kmsg.ConfigSourceDynamicBrokerConfig
		c.ConfigType = kmsg.ConfigType(config.TypeString)
		parts := strings.SplitN(k, ".", 4) // listener.name.<l>.<key>
		if d, ok := config.LookupBroker(parts[len(parts)-1]); ok {
			c.ConfigType = kmsg.ConfigType(d.Type)
			if d.Type == config.TypePassword {
				c.Value, c.IsSensitive = nil, true
			}
			if docs {
				c.Documentation = strptr(d.Doc)
			}
		}
		if synonyms {
			cs := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
			cs.Name, cs.Value, cs.Source = k, c.Value, c.Source
			c.ConfigSynonyms = append(c.ConfigSynonyms, cs)
		}
		out = append(out, c)
	}
	return out
}

// checkBrokerResource accepts this broker's ID as a resource name, with
// Kafka's errors for anything else.
func checkBrokerResource(h *kafkaapi.Handler, name string) error {
	id, err := strconv.ParseInt(name, 10, 32)
	if err != nil {
		return errf(kerr.InvalidRequest, "Broker id must be an integer, but it is: %s", name)
	}
	if int32(id) != h.Config().BrokerID {
		return errf(kerr.InvalidRequest, "Unexpected broker id, expected %d or empty string, but received %s", h.Config().BrokerID, name)
	}
	return nil
}

func sameConfigValue(a, b *string) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}
