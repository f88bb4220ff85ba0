package config

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// Every key is defined once, typed, documented, and its default valid.
func TestTableDescribesEveryKey(t *testing.T) {
	if len(BrokerDefs)+len(TopicDefs) != len(defs) {
		t.Fatalf("%d broker and %d topic keys from a table of %d", len(BrokerDefs), len(TopicDefs), len(defs))
	}
	for _, d := range defs {
		if d.Doc == "" || d.Type == 0 || d.Valid == "" && d.Type != TypeString {
			t.Errorf("%s %s: doc %q, type %v, valid %q", d.Scope, d.Name, d.Doc, d.Type, d.Valid)
		}
		if strings.Contains(d.Doc, "\n") || !strings.HasSuffix(d.Doc, ".") {
			t.Errorf("%s: documentation should be one sentence or more, ending with a period: %q", d.Name, d.Doc)
		}
		if d.Default != "" {
			if err := d.Check(d.Default); err != nil {
				t.Errorf("%s: default %q: %v", d.Name, d.Default, err)
			}
		}
		if d.Dynamic != (d.Scope == ScopeTopic) {
			t.Errorf("%s: dynamic %v", d.Name, d.Dynamic)
		}
	}
	for _, d := range TopicDefs {
		if d.BrokerKey == "" {
			continue
		}
		b, ok := LookupBroker(d.BrokerKey)
		if !ok || b.TopicKey != d.Name || b.Default != d.Default || b.Type != d.Type {
			t.Errorf("topic key %s: broker key %s does not mirror it", d.Name, d.BrokerKey)
		}
	}
	if _, ok := LookupBroker("retention.ms"); ok {
		t.Error("topic key found as a broker key")
	}
	if _, ok := LookupTopic("log.retention.ms"); ok {
		t.Error("broker key found as a topic key")
	}
}

// register refuses tables that do not hold together: these would panic
// at start-up.
func TestRegisterRefusesBrokenTables(t *testing.T) {
	intField := brokerField(atLeast[int32](TypeInt, 0), func(c *Config) *int32 { return &c.NumPartitions })
	topicInt := topicField(atLeast[int32](TypeInt, 0), func(t *TopicConfig) *int32 { return &t.SegmentBytes })
	for _, tc := range []struct {
		name  string
		table []*Def
		want  string
	}{
		{"twice", []*Def{{Name: "a", Doc: "x.", bind: intField}, {Name: "a", Doc: "y.", bind: intField}}, "defined twice"},
		{"unbound broker key", []*Def{{Name: "a", Doc: "x."}}, "not bound"},
		{"unbound topic key", []*Def{{Name: "a", Scope: ScopeTopic, Doc: "x."}}, "not bound"},
		{"undocumented", []*Def{{Name: "a", bind: intField}}, "no documentation"},
		{"missing topic key", []*Def{{Name: "log.a", TopicKey: "a", Scale: 1}}, "no topic key a"},
		{"missing broker key", []*Def{{Name: "a", Scope: ScopeTopic, Doc: "x.", BrokerKey: "log.a", bind: topicInt}}, "does not set its default"},
		{"missing alias", []*Def{{Name: "a", Doc: "x.", Alias: "b", bind: intField}}, "refers to b"},
		{"missing default source", []*Def{{Name: "a", Doc: "x.", DefaultFrom: "b", bind: intField}}, "refers to b"},
		{"scaled string", []*Def{{Name: "a", Scope: ScopeTopic, Doc: "x.", bind: topicField(oneOf("x"), func(t *TopicConfig) *string { return new(string) })},
			{Name: "log.a", TopicKey: "a", Scale: 60, Type: TypeString}}, "must be an int or a long"},
		{"name with space", []*Def{{Name: "a ", Doc: "x.", bind: intField}}, "bad name"},
	} {
		_, _, err := register(tc.table)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
}

// alternative returns a valid value of d other than its default.
func alternative(t *testing.T, d *Def) string {
	t.Helper()
	special := map[string]string{
		"listeners":                             "PLAINTEXT://127.0.0.1:9999",
		"advertised.listeners":                  "PLAINTEXT://example.com:9093",
		"log.dirs":                              "/tmp/elsewhere",
		"log.dir":                               "/tmp/elsewhere",
		"admin.listener":                        "127.0.0.1:1",
		"max.connections.per.ip.overrides":      "127.0.0.1:5",
		"zookeeper.connect":                     "zk1:2181,zk2:2181/samsa",
		"broker.rack":                           "rack1",
		"authorizer.class.name":                 "kafka.security.authorizer.AclAuthorizer",
		"super.users":                           "User:admin;User:ANONYMOUS",
		"inter.broker.listener.name":            "PLAINTEXT",
		"listener.security.protocol.map":        "PLAINTEXT:PLAINTEXT,INTERNAL:SSL",
		"security.inter.broker.protocol":        "SSL",
		"control.plane.listener.name":           "CONTROLLER",
		"ssl.enabled.protocols":                 "TLSv1.3",
		"ssl.cipher.suites":                     "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
		"ssl.endpoint.identification.algorithm": "HTTPS",
		"ssl.principal.mapping.rules":           "RULE:^CN=(.*?),.*$/$1/L,DEFAULT",
		"ssl.keystore.location":                 "/etc/samsa/broker.jks",
		"ssl.truststore.location":               "/etc/samsa/trust.jks",
		"ssl.keystore.password":                 "secret",
		"ssl.key.password":                      "secret",
		"ssl.keystore.key":                      "-----BEGIN PRIVATE KEY-----",
		"ssl.keystore.certificate.chain":        "-----BEGIN CERTIFICATE-----",
		"ssl.truststore.password":               "secret",
		"ssl.truststore.certificates":           "-----BEGIN CERTIFICATE-----",
		"password.encoder.secret":               "secret",
		"sasl.enabled.mechanisms":               "PLAIN,SCRAM-SHA-256",
		"sasl.mechanism.inter.broker.protocol":  "SCRAM-SHA-512",
		"sasl.jaas.config":                      "org.apache.kafka.common.security.scram.ScramLoginModule required;",
		"password.encoder.old.secret":           "old",
		"password.encoder.keyfactory.algorithm": "PBKDF2WithHmacSHA1",
		"password.encoder.key.length":           "256",
		KeyLeaderReplicationThrottledReplicas:   "0:1,1:2",
		KeyFollowerReplicationThrottledReplicas: "*",
		KeyMinCleanableDirtyRatio:               "0.25",
	}
	if v, ok := special[d.Name]; ok {
		return v
	}
	if v, ok := zookeeperAlternatives[d.Name]; ok {
		return v
	}
	if v, ok := special[d.TopicKey]; ok {
		return v
	}
	def := d.Default
	if from := d.DefaultFrom + d.Alias; from != "" {
		b, _ := LookupBroker(from)
		def = deref(b.Value(Default()))
	}
	for _, o := range d.Options {
		if o != def {
			return o
		}
	}
	if n, err := strconv.ParseInt(def, 10, 64); err == nil {
		if n < math.MaxInt64 && d.Check(strconv.FormatInt(n+1, 10)) == nil {
			return strconv.FormatInt(n+1, 10)
		}
		if d.Check(strconv.FormatInt(n-1, 10)) == nil {
			return strconv.FormatInt(n-1, 10)
		}
	}
	t.Fatalf("%s %s: no alternative value to test with", d.Scope, d.Name)
	return ""
}

// Every broker key sets something of Config and reads it back.
func TestEveryBrokerKeySetsAField(t *testing.T) {
	def := comparable(Default())
	for _, d := range BrokerDefs {
		v := alternative(t, d)
		props, order := map[string]string{d.Name: v}, []string{d.Name}
		for k, cv := range companions[d.Name] {
			props[k] = cv
			order = append(order, k)
		}
		c, err := New(props, order)
		if err != nil {
			t.Errorf("%s=%s: %v", d.Name, v, err)
			continue
		}
		if got := deref(d.Value(c)); got != v {
			t.Errorf("%s=%s reads back as %s", d.Name, v, got)
		}
		if reflect.DeepEqual(comparable(c), def) {
			t.Errorf("%s=%s changed nothing in Config", d.Name, v)
		}
		if !c.Explicit(d.Name) {
			t.Errorf("%s=%s: not explicit", d.Name, v)
		}
	}
}

// companions are the keys a key's alternative value needs to be valid:
// listeners for the inter-broker and control plane listeners to name.
var companions = map[string]map[string]string{
	"zookeeper.ssl.client.enable":    {"zookeeper.clientCnxnSocket": "org.apache.zookeeper.ClientCnxnSocketNetty"},
	"security.inter.broker.protocol": {"listeners": "PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9093"},
	"control.plane.listener.name": {"listeners": "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093",
		"listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"},
}

func comparable(c *Config) Config {
	cc := *c
	cc.explicit, cc.Warnings = nil, nil
	return cc
}

// Every topic key sets its own field of TopicConfig, and every field is
// some key's.
func TestEveryTopicKeyHasATypedField(t *testing.T) {
	def := DefaultTopicConfig()
	owner := map[string]string{} // field -> key
	for _, d := range TopicDefs {
		v := alternative(t, d)
		tc := def
		if err := tc.Set(d.Name, v); err != nil {
			t.Errorf("%s=%s: %v", d.Name, v, err)
			continue
		}
		if got := d.TopicValue(&tc); got != v {
			t.Errorf("%s=%s reads back as %s", d.Name, v, got)
		}
		var changed []string
		a, b := reflect.ValueOf(def), reflect.ValueOf(tc)
		for i := range a.NumField() {
			if !reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) {
				changed = append(changed, a.Type().Field(i).Name)
			}
		}
		if len(changed) != 1 {
			t.Errorf("%s=%s changed fields %v, want one", d.Name, v, changed)
			continue
		}
		if k, dup := owner[changed[0]]; dup {
			t.Errorf("%s and %s both set %s", k, d.Name, changed[0])
		}
		owner[changed[0]] = d.Name
	}
	ty := reflect.TypeFor[TopicConfig]()
	for i := range ty.NumField() {
		if f := ty.Field(i); owner[f.Name] == "" {
			t.Errorf("TopicConfig.%s is set by no topic key", f.Name)
		}
	}
}

// Set's messages are Kafka's, which the admin APIs return.
func TestTopicConfigSetErrors(t *testing.T) {
	tc := DefaultTopicConfig()
	for _, x := range []struct{ key, value, want string }{
		{"no.such", "1", "Unknown topic config name: no.such"},
		{KeySegmentBytes, "10", "Invalid value 10 for configuration segment.bytes: must be in [14, 2147483647]"},
		{KeyCleanupPolicy, "compact,shred", "Invalid value compact,shred for configuration cleanup.policy: each item must be one of delete, compact"},
		{KeyCompressionType, "none", "Invalid value none for configuration compression.type"},
		{KeyLeaderReplicationThrottledReplicas, "0:x", "Invalid value 0:x"},
		{KeyMinCleanableDirtyRatio, "1.5", "Invalid value 1.5"},
	} {
		if err := tc.Set(x.key, x.value); err == nil || !strings.HasPrefix(err.Error(), x.want) {
			t.Errorf("%s=%s: %v, want %q", x.key, x.value, err, x.want)
		}
	}
	if tc != DefaultTopicConfig() {
		t.Error("a refused value changed the config")
	}
	if _, err := tc.With(map[string]string{KeyMinCompactionLagMs: "10", KeyMaxCompactionLagMs: "5"}); err == nil {
		t.Error("min.compaction.lag.ms above max.compaction.lag.ms accepted")
	}
}

func TestTopicConfigTypes(t *testing.T) {
	tc, err := DefaultTopicConfig().With(map[string]string{
		KeyCleanupPolicy: " compact , delete", KeyCompressionType: "zstd", KeyMessageTimestampType: "LogAppendTime",
		KeyMinCleanableDirtyRatio: "1", KeyRetentionMs: "-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !tc.CleanupPolicy.Compact || !tc.CleanupPolicy.Delete || tc.CleanupPolicy.String() != "compact,delete" {
		t.Errorf("cleanup.policy %+v", tc.CleanupPolicy)
	}
	if tc.CompressionType.Producer || tc.CompressionType.Codec.String() != "zstd" || tc.MessageTimestampType != LogAppendTime {
		t.Errorf("compression %+v, timestamps %v", tc.CompressionType, tc.MessageTimestampType)
	}
	d, _ := LookupTopic(KeyMinCleanableDirtyRatio)
	if got := d.TopicValue(&tc); got != "1.0" { // Java's Double.toString
		t.Errorf("min.cleanable.dirty.ratio shows %s", got)
	}
	if lc := tc.LogConfig(); lc.RetentionMs != -1 || !lc.Compact || lc.NoDelete {
		t.Errorf("log config %+v", lc)
	}
	if def := DefaultTopicConfig(); !def.CompressionType.Producer || def.CleanupPolicy.Compact || !def.CleanupPolicy.Delete {
		t.Errorf("defaults %+v", def)
	}
	r := ThrottledReplicas("0:1,2:3")
	if !r.Includes(2, 3) || r.Includes(1, 0) || !ThrottledReplicas("*").Includes(9, 9) || ThrottledReplicas("").Includes(0, 0) {
		t.Error("ThrottledReplicas.Includes")
	}
}

func TestTopicSynonyms(t *testing.T) {
	c, err := New(map[string]string{"log.retention.hours": "1", "log.cleanup.policy": "delete"}, []string{"log.retention.hours", "log.cleanup.policy"})
	if err != nil {
		t.Fatal(err)
	}
	rms, _ := LookupTopic(KeyRetentionMs)
	cp, _ := LookupTopic(KeyCleanupPolicy)
	pre, _ := LookupTopic(KeyPreallocate)
	for _, x := range []struct {
		d         *Def
		overrides map[string]string
		want      []Synonym
	}{
		{rms, nil, []Synonym{{"log.retention.ms", "3600000", SourceStaticBroker}, {"log.retention.ms", "604800000", SourceDefault}}},
		{rms, map[string]string{KeyRetentionMs: " 5 "}, []Synonym{{"retention.ms", "5", SourceTopic}, {"log.retention.ms", "3600000", SourceStaticBroker}, {"log.retention.ms", "604800000", SourceDefault}}},
		{cp, nil, []Synonym{{"log.cleanup.policy", "delete", SourceDefault}}}, // set to Kafka's default: reads as the default
		{pre, nil, nil},
		{pre, map[string]string{KeyPreallocate: "true"}, []Synonym{{"preallocate", "true", SourceTopic}}},
	} {
		got := TopicSynonyms(x.d, x.overrides, &c.TopicDefaults)
		if !reflect.DeepEqual(got, x.want) {
			t.Errorf("%s %v: %v, want %v", x.d.Name, x.overrides, got, x.want)
		}
	}
}
