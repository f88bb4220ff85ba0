package kafkaapi

import (
	"maps"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// describeResource is one resource of a DescribeConfigs request.
func describeResource(typ kmsg.ConfigResourceType, name string, keys ...string) kmsg.DescribeConfigsRequestResource {
	r := kmsg.NewDescribeConfigsRequestResource()
	r.ResourceType, r.ResourceName, r.ConfigNames = typ, name, keys
	return r
}

// describeConfigs asks for resources and returns the answers, one each.
func (b *testBroker) describeConfigs(version int16, rs ...kmsg.DescribeConfigsRequestResource) []kmsg.DescribeConfigsResponseResource {
	b.t.Helper()
	req := kmsg.NewPtrDescribeConfigsRequest()
	req.Resources, req.IncludeSynonyms = rs, true
	resp := do[*kmsg.DescribeConfigsResponse](b, version, req)
	if len(resp.Resources) != len(rs) {
		b.t.Fatalf("%d resources answered, %d asked", len(resp.Resources), len(rs))
	}
	return resp.Resources
}

// topicOverrides are a topic's config overrides in the metadata store.
func (b *testBroker) topicOverrides(name string) map[string]string {
	b.t.Helper()
	t, ok := b.store.Topic(name)
	if !ok {
		b.t.Fatalf("topic %s not stored", name)
	}
	return t.Configs
}

// TestDescribeConfigs: topic and broker resources, with Kafka's errors
// per resource.
func TestDescribeConfigs(t *testing.T) {
	b := newTestBroker(t, map[string]string{"log.retention.hours": "2"})
	b.createTopic("t", 1, map[string]string{"cleanup.policy": "compact"})

	rs := b.describeConfigs(4,
		describeResource(kmsg.ConfigResourceTypeTopic, "t", "cleanup.policy", "retention.ms", "segment.bytes"),
		describeResource(kmsg.ConfigResourceTypeTopic, "nope"),
		describeResource(kmsg.ConfigResourceTypeTopic, "bad/name"),
		describeResource(kmsg.ConfigResourceTypeBroker, "0", "broker.id", "log.retention.hours"),
		describeResource(kmsg.ConfigResourceTypeBroker, "7"),
		describeResource(kmsg.ConfigResourceTypeBroker, "zero"),
		describeResource(kmsg.ConfigResourceTypeBroker, ""),
		describeResource(kmsg.ConfigResourceTypeBrokerLogger, "0"),
	)
	wantCode(t, "topic t", rs[0].ErrorCode, nil)
	got := map[string]kmsg.DescribeConfigsResponseResourceConfig{}
	for _, c := range rs[0].Configs {
		got[c.Name] = c
	}
	if len(got) != 3 {
		t.Errorf("t: configs %v, want the 3 asked for", got)
	}
	if c := got["cleanup.policy"]; *c.Value != "compact" || c.Source != kmsg.ConfigSourceDynamicTopicConfig || c.ReadOnly || len(c.ConfigSynonyms) == 0 {
		t.Errorf("cleanup.policy: %+v", c)
	}
	// The broker-level synonym is named by the broker key of the topic
	// key (KIP-226), however the server configuration spelled it.
	if c := got["retention.ms"]; *c.Value != "7200000" || c.Source != kmsg.ConfigSourceStaticBrokerConfig || c.ConfigSynonyms[0].Name != "log.retention.ms" || *c.ConfigSynonyms[0].Value != "7200000" {
		t.Errorf("retention.ms: %+v", c)
	}
	if c := got["segment.bytes"]; c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("segment.bytes: %+v", c)
	}

	wantCode(t, "unknown topic", rs[1].ErrorCode, kerr.UnknownTopicOrPartition)
	if rs[1].ErrorMessage != nil || len(rs[1].Configs) != 0 {
		t.Errorf("unknown topic: message %v, configs %v (Kafka gives neither)", rs[1].ErrorMessage, rs[1].Configs)
	}
	wantCode(t, "invalid topic name", rs[2].ErrorCode, kerr.InvalidTopicException)

	wantCode(t, "this broker", rs[3].ErrorCode, nil)
	for _, c := range rs[3].Configs {
		if !c.ReadOnly {
			t.Errorf("broker key %s not read-only: this broker has no dynamic broker configs", c.Name)
		}
		if c.Name == "log.retention.hours" && (*c.Value != "2" || c.Source != kmsg.ConfigSourceStaticBrokerConfig) {
			t.Errorf("log.retention.hours: %+v", c)
		}
	}
	if len(rs[3].Configs) != 2 {
		t.Errorf("broker configs %+v, want the 2 asked for", rs[3].Configs)
	}
	wantCode(t, "another broker", rs[4].ErrorCode, kerr.InvalidRequest)
	wantCode(t, "a broker name that is no ID", rs[5].ErrorCode, kerr.InvalidRequest)
	wantCode(t, "cluster-wide broker defaults", rs[6].ErrorCode, nil)
	if len(rs[6].Configs) != 0 {
		t.Errorf("cluster-wide dynamic defaults %+v, want none", rs[6].Configs)
	}
	wantCode(t, "broker logger", rs[7].ErrorCode, kerr.InvalidRequest)
	for i := range rs {
		if rs[i].ErrorCode != 0 && rs[i].ErrorCode != kerr.UnknownTopicOrPartition.Code && rs[i].ErrorMessage == nil {
			t.Errorf("resource %d: error %d without a message", i, rs[i].ErrorCode)
		}
	}

	// Passwords never leave the broker (Kafka's is_sensitive).
	sb := newTestBroker(t, map[string]string{"ssl.keystore.password": "hunter2", "ssl.keystore.location": "/etc/ks.jks"})
	for _, c := range sb.describeConfigs(4, describeResource(kmsg.ConfigResourceTypeBroker, "0", "ssl.keystore.password", "ssl.keystore.location"))[0].Configs {
		secret := c.Name == "ssl.keystore.password"
		if c.IsSensitive != secret || secret && c.Value != nil || !secret && (c.Value == nil || *c.Value != "/etc/ks.jks") {
			t.Errorf("%s: value %v, sensitive %v", c.Name, c.Value, c.IsSensitive)
		}
		for _, s := range c.ConfigSynonyms {
			if secret && s.Value != nil {
				t.Errorf("%s: synonym %s shows the password", c.Name, s.Name)
			}
		}
	}

	// v0 marks defaults with is_default rather than a source.
	v0 := b.describeConfigs(0, describeResource(kmsg.ConfigResourceTypeTopic, "t", "cleanup.policy", "segment.bytes"))
	for _, c := range v0[0].Configs {
		if c.IsDefault != (c.Name == "segment.bytes") {
			t.Errorf("v0 %s: is_default %v", c.Name, c.IsDefault)
		}
	}
}

// alterResource is one resource of an AlterConfigs request; a value "-"
// is null.
func alterResource(typ kmsg.ConfigResourceType, name string, kv ...string) kmsg.AlterConfigsRequestResource {
	r := kmsg.NewAlterConfigsRequestResource()
	r.ResourceType, r.ResourceName = typ, name
	for i := 0; i+1 < len(kv); i += 2 {
		c := kmsg.NewAlterConfigsRequestResourceConfig()
		c.Name = kv[i]
		if kv[i+1] != "-" {
			c.Value = kmsg.StringPtr(kv[i+1])
		}
		r.Configs = append(r.Configs, c)
	}
	return r
}

// TestAlterConfigs: the legacy form replaces a topic's whole override
// set; Kafka's checks per resource; validate_only changes nothing.
func TestAlterConfigs(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 1, map[string]string{"retention.ms": "1000"})
	b.createTopic("u", 1, nil)
	topic := kmsg.ConfigResourceTypeTopic
	broker := kmsg.ConfigResourceTypeBroker
	for _, c := range []struct {
		name string
		rs   []kmsg.AlterConfigsRequestResource
		want []*kerr.Error
	}{
		{"unknown topic", []kmsg.AlterConfigsRequestResource{alterResource(topic, "nope", "retention.ms", "1")}, []*kerr.Error{kerr.UnknownTopicOrPartition}},
		{"empty topic name", []kmsg.AlterConfigsRequestResource{alterResource(topic, "", "retention.ms", "1")}, []*kerr.Error{kerr.InvalidRequest}},
		{"unknown key", []kmsg.AlterConfigsRequestResource{alterResource(topic, "t", "no.such.key", "1")}, []*kerr.Error{kerr.InvalidConfig}},
		{"bad value", []kmsg.AlterConfigsRequestResource{alterResource(topic, "t", "retention.ms", "forever")}, []*kerr.Error{kerr.InvalidConfig}},
		{"value out of range", []kmsg.AlterConfigsRequestResource{alterResource(topic, "t", "segment.bytes", "1")}, []*kerr.Error{kerr.InvalidConfig}},
		{"null value", []kmsg.AlterConfigsRequestResource{alterResource(topic, "t", "retention.ms", "-")}, []*kerr.Error{kerr.InvalidRequest}},
		{"a key twice", []kmsg.AlterConfigsRequestResource{alterResource(topic, "t", "retention.ms", "1", "retention.ms", "2")}, []*kerr.Error{kerr.InvalidRequest}},
		{"a resource twice", []kmsg.AlterConfigsRequestResource{alterResource(topic, "t", "retention.ms", "1"), alterResource(topic, "t", "retention.ms", "2"), alterResource(topic, "u", "retention.ms", "3")},
			[]*kerr.Error{kerr.InvalidRequest, kerr.InvalidRequest, nil}},
		{"this broker: no dynamic broker configs", []kmsg.AlterConfigsRequestResource{alterResource(broker, "0", "log.retention.ms", "1")}, []*kerr.Error{kerr.InvalidRequest}},
		{"cluster-wide broker default", []kmsg.AlterConfigsRequestResource{alterResource(broker, "", "log.retention.ms", "1")}, []*kerr.Error{kerr.InvalidRequest}},
		{"another broker", []kmsg.AlterConfigsRequestResource{alterResource(broker, "7", "log.retention.ms", "1")}, []*kerr.Error{kerr.InvalidRequest}},
		{"broker logger", []kmsg.AlterConfigsRequestResource{alterResource(kmsg.ConfigResourceTypeBrokerLogger, "0", "kafka", "DEBUG")}, []*kerr.Error{kerr.InvalidRequest}},
	} {
		before := maps.Clone(b.topicOverrides("t"))
		req := kmsg.NewPtrAlterConfigsRequest()
		req.Resources = c.rs
		resp := do[*kmsg.AlterConfigsResponse](b, 2, req)
		for i, want := range c.want {
			wantCode(t, c.name, resp.Resources[i].ErrorCode, want)
			if want != nil && resp.Resources[i].ErrorMessage == nil {
				t.Errorf("%s: no message", c.name)
			}
		}
		if c.want[0] != nil && !maps.Equal(before, b.topicOverrides("t")) {
			t.Errorf("%s: t's overrides changed to %v", c.name, b.topicOverrides("t"))
		}
	}
	if got := b.topicOverrides("u"); got["retention.ms"] != "3" {
		t.Errorf("u after the request with a duplicate: %v", got)
	}

	// validate_only checks and keeps the overrides.
	req := kmsg.NewPtrAlterConfigsRequest()
	req.ValidateOnly = true
	req.Resources = []kmsg.AlterConfigsRequestResource{alterResource(topic, "t", "segment.bytes", "1048576")}
	wantCode(t, "validate_only", do[*kmsg.AlterConfigsResponse](b, 2, req).Resources[0].ErrorCode, nil)
	if got := b.topicOverrides("t"); !maps.Equal(got, map[string]string{"retention.ms": "1000"}) {
		t.Errorf("after validate_only: %v", got)
	}
	// The whole set is replaced: retention.ms returns to the default.
	req.ValidateOnly = false
	wantCode(t, "alter", do[*kmsg.AlterConfigsResponse](b, 2, req).Resources[0].ErrorCode, nil)
	if got := b.topicOverrides("t"); !maps.Equal(got, map[string]string{"segment.bytes": "1048576"}) {
		t.Errorf("after AlterConfigs: %v", got)
	}
	if cfg := b.rm.Topic("t").Config; cfg.SegmentBytes != 1048576 {
		t.Errorf("the running topic's segment.bytes is %d", cfg.SegmentBytes)
	}
}

// incResource is one resource of an IncrementalAlterConfigs request: ops
// of (operation, key, value), a value "-" being null.
func incResource(typ kmsg.ConfigResourceType, name string, ops ...[3]string) kmsg.IncrementalAlterConfigsRequestResource {
	r := kmsg.NewIncrementalAlterConfigsRequestResource()
	r.ResourceType, r.ResourceName = typ, name
	opOf := map[string]kmsg.IncrementalAlterConfigOp{"set": 0, "delete": 1, "append": 2, "subtract": 3, "bogus": 9}
	for _, o := range ops {
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Op, c.Name = opOf[o[0]], o[1]
		if o[2] != "-" {
			c.Value = kmsg.StringPtr(o[2])
		}
		r.Configs = append(r.Configs, c)
	}
	return r
}

// TestIncrementalAlterConfigs: KIP-339's operations on a topic's overrides
// and Kafka's errors per resource.
func TestIncrementalAlterConfigs(t *testing.T) {
	b := newTestBroker(t, nil)
	b.createTopic("t", 1, map[string]string{"retention.ms": "1000"})
	topic := kmsg.ConfigResourceTypeTopic
	for _, c := range []struct {
		name string
		r    kmsg.IncrementalAlterConfigsRequestResource
		want *kerr.Error
		// the overrides after, if it succeeds
		after map[string]string
	}{
		{"unknown topic", incResource(topic, "nope", [3]string{"set", "retention.ms", "1"}), kerr.UnknownTopicOrPartition, nil},
		{"unknown key", incResource(topic, "t", [3]string{"set", "no.such.key", "1"}), kerr.InvalidConfig, nil},
		{"bad value", incResource(topic, "t", [3]string{"set", "retention.ms", "x"}), kerr.InvalidConfig, nil},
		{"null value to set", incResource(topic, "t", [3]string{"set", "retention.ms", "-"}), kerr.InvalidRequest, nil},
		{"append to a non-list", incResource(topic, "t", [3]string{"append", "retention.ms", "1"}), kerr.InvalidRequest, nil},
		{"unknown operation", incResource(topic, "t", [3]string{"bogus", "retention.ms", "1"}), kerr.InvalidRequest, nil},
		{"a key twice", incResource(topic, "t", [3]string{"set", "retention.ms", "1"}, [3]string{"delete", "retention.ms", "-"}), kerr.InvalidRequest, nil},
		{"empty topic name", incResource(topic, "", [3]string{"set", "retention.ms", "1"}), kerr.InvalidRequest, nil},
		{"this broker", incResource(kmsg.ConfigResourceTypeBroker, "0", [3]string{"set", "log.retention.ms", "1"}), kerr.InvalidRequest, nil},
		{"set", incResource(topic, "t", [3]string{"set", "segment.bytes", "1048576"}), nil, map[string]string{"retention.ms": "1000", "segment.bytes": "1048576"}},
		{"delete", incResource(topic, "t", [3]string{"delete", "retention.ms", "-"}), nil, map[string]string{"segment.bytes": "1048576"}},
		{"delete an absent override", incResource(topic, "t", [3]string{"delete", "retention.ms", "-"}), nil, map[string]string{"segment.bytes": "1048576"}},
		{"append to the default", incResource(topic, "t", [3]string{"append", "cleanup.policy", "compact"}), nil, map[string]string{"segment.bytes": "1048576", "cleanup.policy": "delete,compact"}},
		{"append what is there", incResource(topic, "t", [3]string{"append", "cleanup.policy", "delete"}), nil, map[string]string{"segment.bytes": "1048576", "cleanup.policy": "delete,compact"}},
		{"subtract", incResource(topic, "t", [3]string{"subtract", "cleanup.policy", "delete"}), nil, map[string]string{"segment.bytes": "1048576", "cleanup.policy": "compact"}},
	} {
		before := maps.Clone(b.topicOverrides("t"))
		req := kmsg.NewPtrIncrementalAlterConfigsRequest()
		req.Resources = append(req.Resources, c.r)
		resp := do[*kmsg.IncrementalAlterConfigsResponse](b, 1, req)
		wantCode(t, c.name, resp.Resources[0].ErrorCode, c.want)
		got := b.topicOverrides("t")
		switch {
		case c.want != nil && resp.Resources[0].ErrorMessage == nil:
			t.Errorf("%s: no message", c.name)
		case c.want != nil && !maps.Equal(got, before):
			t.Errorf("%s: overrides changed to %v", c.name, got)
		case c.want == nil && !maps.Equal(got, c.after):
			t.Errorf("%s: overrides %v, want %v", c.name, got, c.after)
		}
	}

	// validate_only changes nothing.
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	req.ValidateOnly = true
	req.Resources = append(req.Resources, incResource(topic, "t", [3]string{"set", "retention.ms", "5"}))
	wantCode(t, "validate_only", do[*kmsg.IncrementalAlterConfigsResponse](b, 1, req).Resources[0].ErrorCode, nil)
	if _, ok := b.topicOverrides("t")["retention.ms"]; ok {
		t.Error("validate_only set retention.ms")
	}
}
