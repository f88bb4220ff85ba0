package broker

// DescribeConfigs (key 32), versions 0-4.
//
// Topic resources (type 2): every topic config in topicConfigDefs with its
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
// of them). An empty name asks, as in Kafka, for the cluster-wide dynamic
// defaults: there are none, so the list is empty.
//
// A null or empty config name list asks for every config. Errors per
// resource, as in Kafka: UNKNOWN_TOPIC_OR_PARTITION (without a message),
// INVALID_TOPIC_EXCEPTION, and INVALID_REQUEST for another broker's ID, a
// name that is not an ID, or a resource type other than topic and broker
// (BROKER_LOGGER, CLIENT_METRICS and GROUP are not implemented).

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/netpoll"
)

func init() { register(32, 0, 4, serveDescribeConfigs) }

func serveDescribeConfigs(rc *reqCtx, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.DescribeConfigsRequest)
	b := rc.b
	resp := kmsg.NewPtrDescribeConfigsResponse()
	for _, r := range req.Resources {
		sr := kmsg.NewDescribeConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = r.ResourceType, r.ResourceName
		var err error
		switch r.ResourceType {
		case kmsg.ConfigResourceTypeTopic:
			sr.Configs, err = describeTopicConfigs(b, r, req.IncludeSynonyms, req.IncludeDocumentation)
		case kmsg.ConfigResourceTypeBroker:
			sr.Configs, err = describeBrokerConfigs(b, r, req.IncludeSynonyms, req.IncludeDocumentation)
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
	return rc.respond(resp)
}

// wanted reports whether a config is asked for: a null or empty list asks
// for all.
func configWanted(names []string, name string) bool {
	return len(names) == 0 || slices.Contains(names, name)
}

func describeTopicConfigs(b *Broker, r kmsg.DescribeConfigsRequestResource, synonyms, docs bool) ([]kmsg.DescribeConfigsResponseResourceConfig, error) {
	if err := validTopicName(r.ResourceName); err != nil {
		return nil, errf(kerr.InvalidTopicException, "%v", err)
	}
	ts := b.topic(r.ResourceName)
	if ts == nil {
		return nil, errf(kerr.UnknownTopicOrPartition, "The topic '%s' does not exist.", r.ResourceName)
	}
	var out []kmsg.DescribeConfigsResponseResourceConfig
	for _, k := range topicConfigKeys() {
		if !configWanted(r.ConfigNames, k) {
			continue
		}
		d := topicConfigDefs[k]
		syns := topicConfigSynonyms(k, ts.meta.Configs, b.cfg.TopicDefaults)
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		c.Name, c.Value = k, strptr(ts.cfg[k])
		c.Source = kmsg.ConfigSource(topicConfigSource(syns))
		c.IsDefault = c.Source == kmsg.ConfigSourceDefaultConfig
		c.ConfigType = kmsg.ConfigType(d.typ)
		if synonyms {
			for _, s := range syns {
				cs := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
				cs.Name, cs.Value, cs.Source = s.name, strptr(s.value), kmsg.ConfigSource(s.source)
				c.ConfigSynonyms = append(c.ConfigSynonyms, cs)
			}
		}
		if docs {
			c.Documentation = strptr(d.doc)
		}
		out = append(out, c)
	}
	return out, nil
}

func describeBrokerConfigs(b *Broker, r kmsg.DescribeConfigsRequestResource, synonyms, docs bool) ([]kmsg.DescribeConfigsResponseResourceConfig, error) {
	if r.ResourceName == "" {
		return nil, nil // no dynamic cluster-wide defaults
	}
	if err := checkBrokerResource(b, r.ResourceName); err != nil {
		return nil, err
	}
	def := defaultBrokerConfig()
	var out []kmsg.DescribeConfigsResponseResourceConfig
	for _, k := range brokerConfigKeys() {
		if !configWanted(r.ConfigNames, k) {
			continue
		}
		d := brokerConfigDefs[k]
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		c.Name, c.Value = k, d.get(b.cfg)
		c.ReadOnly = true
		c.Source = kmsg.ConfigSourceDefaultConfig
		defVal := d.get(def)
		if b.cfg.explicit[k] || !sameConfigValue(c.Value, defVal) {
			// Set, or derived from a key that was (log.retention.ms
			// from log.retention.hours).
			c.Source = kmsg.ConfigSourceStaticBrokerConfig
		}
		c.IsDefault = c.Source == kmsg.ConfigSourceDefaultConfig
		c.ConfigType = kmsg.ConfigType(d.typ)
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
			c.Documentation = strptr(d.doc)
		}
		out = append(out, c)
	}
	return out, nil
}

// checkBrokerResource accepts this broker's ID as a resource name, with
// Kafka's errors for anything else.
func checkBrokerResource(b *Broker, name string) error {
	id, err := strconv.ParseInt(name, 10, 32)
	if err != nil {
		return errf(kerr.InvalidRequest, "Broker id must be an integer, but it is: %s", name)
	}
	if int32(id) != b.cfg.BrokerID {
		return errf(kerr.InvalidRequest, "Unexpected broker id, expected %d or empty string, but received %s", b.cfg.BrokerID, name)
	}
	return nil
}

func sameConfigValue(a, b *string) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// brokerConfigDef describes how DescribeConfigs reports a server key.
type brokerConfigDef struct {
	typ int8
	get func(c *Config) *string // nil: not set
	doc string
}

// brokerConfigDefs covers every key of serverKeys (a test checks).
var brokerConfigDefs = map[string]brokerConfigDef{
	"broker.id":                  {configTypeInt, func(c *Config) *string { return describeInt(int64(c.BrokerID)) }, "The broker's ID."},
	"node.id":                    {configTypeInt, func(c *Config) *string { return describeInt(int64(c.BrokerID)) }, "The broker's ID (alias of broker.id)."},
	"listeners":                  {configTypeString, func(c *Config) *string { return describeListeners(c.Listeners) }, "The listener the broker binds: PLAINTEXT://host:port."},
	"advertised.listeners":       {configTypeString, func(c *Config) *string { return describeListeners(c.AdvertisedListeners) }, "The listener clients are told to connect to."},
	"log.dirs":                   {configTypeString, func(c *Config) *string { return describeStr(strings.Join(c.LogDirs, ",")) }, "The directory holding the logs and the metadata."},
	"log.dir":                    {configTypeString, func(c *Config) *string { return describeStr(strings.Join(c.LogDirs, ",")) }, "The log directory (alias of log.dirs)."},
	"num.partitions":             {configTypeInt, func(c *Config) *string { return describeInt(int64(c.NumPartitions)) }, "Partitions of a topic created without a count."},
	"default.replication.factor": {configTypeInt, func(c *Config) *string { return describeInt(int64(c.DefaultReplication)) }, "Replication factor of a topic created without one."},
	"auto.create.topics.enable":  {configTypeBoolean, func(c *Config) *string { return strptr(strconv.FormatBool(c.AutoCreateTopics)) }, "Whether Metadata requests create unknown topics."},
	"delete.topic.enable":        {configTypeBoolean, func(c *Config) *string { return strptr(strconv.FormatBool(c.DeleteTopicEnable)) }, "Whether DeleteTopics may delete topics."},
	"socket.request.max.bytes":   {configTypeInt, func(c *Config) *string { return describeInt(int64(c.SocketRequestMaxBytes)) }, "Largest request the broker reads."},
	"connections.max.idle.ms":    {configTypeLong, func(c *Config) *string { return describeInt(c.ConnectionsMaxIdle.Milliseconds()) }, "Idle time after which a connection is closed."},
	"max.connections":            {configTypeInt, func(c *Config) *string { return describeInt(int64(c.MaxConnections)) }, "Most connections the broker accepts at once."},
	"max.incremental.fetch.session.cache.slots": {configTypeInt, func(c *Config) *string { return describeInt(int64(c.FetchSessionSlots)) },
		"Most fetch sessions (KIP-227) kept at once; 0 turns them off."},
	"max.connections.per.ip": {configTypeInt, func(c *Config) *string { return describeInt(int64(c.MaxConnectionsPerIP)) }, "Most connections the broker accepts at once from one address; 0 only with overrides."},
	"max.connections.per.ip.overrides": {configTypeString, func(c *Config) *string { return describeStr(c.connectionsPerIPText) },
		"Per-address exceptions to max.connections.per.ip: host:limit or ip:limit, comma-separated."},
	"admin.listener": {configTypeString, func(c *Config) *string { return describeStr(c.AdminListener) }, "host:port of the HTTP admin listener (metrics, health, pprof); empty disables it."},
	"log.retention.check.interval.ms": {configTypeLong, func(c *Config) *string { return describeInt(c.RetentionCheckInterval.Milliseconds()) },
		"Interval between retention passes."},
	"log.flush.scheduler.interval.ms": {configTypeLong, func(c *Config) *string { return describeInt(c.FlushCheckInterval.Milliseconds()) },
		"Interval between checks for logs due an fsync."},
	"log.flush.offset.checkpoint.interval.ms": {configTypeInt, func(c *Config) *string { return describeInt(c.FlushCheckpointInterval.Milliseconds()) },
		"Interval between writes of the recovery-point and log-start-offset checkpoints."},
	"offsets.topic.num.partitions": {configTypeInt, func(c *Config) *string { return describeInt(int64(c.OffsetsTopicNumPartitions)) }, "Partitions of __consumer_offsets."},
	"zookeeper.connect":            {configTypeString, func(c *Config) *string { return describeStr(c.ZookeeperConnect) }, "ZooKeeper connection string; empty for a standalone broker."},
	"producer.id.expiration.ms": {configTypeInt, func(c *Config) *string { return describeInt(c.ProducerIDExpiration.Milliseconds()) },
		"Time after which a producer with no appends to a partition is forgotten there."},
	"producer.id.expiration.check.interval.ms": {configTypeInt, func(c *Config) *string { return describeInt(c.ProducerIDExpirationCheck.Milliseconds()) },
		"How often idle producers are expired."},

	// Broker defaults of topic configs.
	"log.segment.bytes":                       topicDefault("segment.bytes", configTypeInt, 1),
	"log.roll.ms":                             topicDefault("segment.ms", configTypeLong, 1),
	"log.roll.hours":                          topicDefault("segment.ms", configTypeInt, 3600*1000),
	"log.retention.ms":                        topicDefault("retention.ms", configTypeLong, 1),
	"log.retention.minutes":                   topicDefault("retention.ms", configTypeInt, 60*1000),
	"log.retention.hours":                     topicDefault("retention.ms", configTypeInt, 3600*1000),
	"log.retention.bytes":                     topicDefault("retention.bytes", configTypeLong, 1),
	"log.index.interval.bytes":                topicDefault("index.interval.bytes", configTypeInt, 1),
	"log.index.size.max.bytes":                topicDefault("segment.index.bytes", configTypeInt, 1),
	"log.flush.interval.messages":             topicDefault("flush.messages", configTypeLong, 1),
	"log.flush.interval.ms":                   topicDefault("flush.ms", configTypeLong, 1),
	"message.max.bytes":                       topicDefault("max.message.bytes", configTypeInt, 1),
	"compression.type":                        topicDefault("compression.type", configTypeString, 1),
	"log.cleanup.policy":                      topicDefault("cleanup.policy", configTypeList, 1),
	"log.message.timestamp.type":              topicDefault("message.timestamp.type", configTypeString, 1),
	"log.message.timestamp.difference.max.ms": topicDefault("message.timestamp.difference.max.ms", configTypeLong, 1),
	"min.insync.replicas":                     topicDefault("min.insync.replicas", configTypeInt, 1),
	"log.cleaner.delete.retention.ms":         topicDefault("delete.retention.ms", configTypeLong, 1),
}

// topicDefault reports a broker key that sets a topic config's default, in
// the broker key's unit (scale milliseconds for hours and minutes).
func topicDefault(topicKey string, typ int8, scale int64) brokerConfigDef {
	return brokerConfigDef{typ: typ, doc: topicConfigDefs[topicKey].doc, get: func(c *Config) *string {
		v := c.TopicDefaults[topicKey]
		if scale == 1 {
			return strptr(v)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil:
			return nil
		case n < 0: // -1: no limit, in any unit
			return strptr(v)
		case n%scale != 0:
			return nil
		}
		return describeInt(n / scale)
	}}
}

var defaultBrokerConfig = sync.OnceValue(func() *Config {
	c, err := NewConfig(map[string]string{}, nil)
	if err != nil {
		panic("broker: default configuration: " + err.Error())
	}
	return c
})

func brokerConfigKeys() []string {
	keys := make([]string, 0, len(brokerConfigDefs))
	for k := range brokerConfigDefs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func describeInt(n int64) *string { return strptr(strconv.FormatInt(n, 10)) }

func describeStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func describeListeners(ls []Listener) *string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.String()
	}
	return describeStr(strings.Join(parts, ","))
}
