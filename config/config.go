package config

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is the broker's server configuration, with Kafka's keys (server.properties).
type Config struct {
	BrokerID            int32
	Listeners           []Listener
	AdvertisedListeners []Listener
	LogDirs             []string
	NumPartitions       int32
	DefaultReplication  int16
	AutoCreateTopics    bool
	DeleteTopicEnable   bool

	SocketRequestMaxBytes        int32
	ConnectionsMaxIdle           time.Duration
	MaxConnections               int
	MaxConnectionsPerIP          int            // max.connections.per.ip
	FetchSessionSlots            int            // max.incremental.fetch.session.cache.slots
	MaxConnectionsPerIPOverrides map[string]int // max.connections.per.ip.overrides: host or IP -> limit
	connectionsPerIPText         string         // the overrides as configured, for DescribeConfigs
	AdminListener                string         // host:port of the HTTP admin listener; empty disables it

	RetentionCheckInterval  time.Duration
	FlushCheckInterval      time.Duration
	FlushCheckpointInterval time.Duration

	OffsetsTopicNumPartitions int32
	ZookeeperConnect          string

	ProducerIDExpiration      time.Duration // producer.id.expiration.ms
	ProducerIDExpirationCheck time.Duration // producer.id.expiration.check.interval.ms

	// Groups configures the group coordinator and the log cleaner
	// (groupconfig.go).
	Groups GroupConfig

	// TopicDefaults are the broker-level defaults of topic configs
	// (log.retention.ms becomes retention.ms, and so on).
	TopicDefaults TopicConfig

	// Warnings lists unknown keys and similar non-fatal findings.
	Warnings []string
	// explicit holds the keys set by the file or an override, which
	// DescribeConfigs reports as STATIC_BROKER_CONFIG even at Kafka's
	// default value.
	explicit map[string]bool
}

// Listener is one entry of listeners or advertised.listeners.
type Listener struct {
	Name string // PLAINTEXT
	Host string
	Port int32
}

func (l Listener) Addr() string { return net.JoinHostPort(l.Host, strconv.Itoa(int(l.Port))) }

func (l Listener) String() string { return l.Name + "://" + l.Addr() }

// Error is an invalid configuration value; the broker exits 2 on it.
type Error struct {
	Key, Value, Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("invalid value %q for configuration %s: %s", e.Value, e.Key, e.Reason)
}

// serverKey describes one server.properties key.
type serverKey struct {
	def string
	set func(c *Config, v string) error
}

func parseInt(v string, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not an integer")
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("must be in [%d, %d]", lo, hi)
	}
	return n, nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("must be true or false")
}

func intKey(def string, lo, hi int64, set func(c *Config, n int64)) serverKey {
	return serverKey{def: def, set: func(c *Config, v string) error {
		n, err := parseInt(v, lo, hi)
		if err != nil {
			return err
		}
		set(c, n)
		return nil
	}}
}

func msKey(def string, set func(c *Config, d time.Duration)) serverKey {
	return intKey(def, 1, math.MaxInt64/int64(time.Millisecond), func(c *Config, n int64) { set(c, time.Duration(n)*time.Millisecond) })
}

// topicKey maps a broker key to a topic config default.
func topicKey(topicName string, scale int64) serverKey {
	return serverKey{def: "", set: func(c *Config, v string) error {
		if scale != 1 {
			n, err := parseInt(v, -1, math.MaxInt64/scale)
			if err != nil {
				return err
			}
			if n > 0 {
				n *= scale
			}
			v = strconv.FormatInt(n, 10)
		}
		return c.TopicDefaults.Set(topicName, v)
	}}
}

// serverKeys are the keys the broker understands. Keys whose value maps to
// a topic config default set TopicDefaults.
var serverKeys = map[string]serverKey{
	"broker.id": intKey("0", 0, math.MaxInt32, func(c *Config, n int64) { c.BrokerID = int32(n) }),
	"node.id":   intKey("0", 0, math.MaxInt32, func(c *Config, n int64) { c.BrokerID = int32(n) }),
	"listeners": {def: "PLAINTEXT://127.0.0.1:9092", set: func(c *Config, v string) (err error) {
		c.Listeners, err = parseListeners(v)
		return err
	}},
	"advertised.listeners": {def: "", set: func(c *Config, v string) (err error) {
		c.AdvertisedListeners, err = parseListeners(v)
		return err
	}},
	"log.dirs": {def: "./data", set: func(c *Config, v string) error {
		c.LogDirs = nil
		for _, d := range strings.Split(v, ",") {
			if d = strings.TrimSpace(d); d != "" {
				c.LogDirs = append(c.LogDirs, d)
			}
		}
		if len(c.LogDirs) == 0 {
			return fmt.Errorf("no directory given")
		}
		if len(c.LogDirs) > 1 {
			return fmt.Errorf("only one log directory is supported")
		}
		return nil
	}},
	"log.dir":                                   {def: "", set: func(c *Config, v string) error { c.LogDirs = []string{v}; return nil }},
	"num.partitions":                            intKey("1", 1, math.MaxInt32, func(c *Config, n int64) { c.NumPartitions = int32(n) }),
	"default.replication.factor":                intKey("1", 1, math.MaxInt16, func(c *Config, n int64) { c.DefaultReplication = int16(n) }),
	"auto.create.topics.enable":                 boolKey("true", func(c *Config, b bool) { c.AutoCreateTopics = b }),
	"delete.topic.enable":                       boolKey("true", func(c *Config, b bool) { c.DeleteTopicEnable = b }),
	"socket.request.max.bytes":                  intKey("104857600", 1, math.MaxInt32, func(c *Config, n int64) { c.SocketRequestMaxBytes = int32(n) }),
	"connections.max.idle.ms":                   msKey("600000", func(c *Config, d time.Duration) { c.ConnectionsMaxIdle = d }),
	"max.connections":                           intKey("2147483647", 1, math.MaxInt32, func(c *Config, n int64) { c.MaxConnections = int(n) }),
	"max.incremental.fetch.session.cache.slots": intKey("1000", 0, math.MaxInt32, func(c *Config, n int64) { c.FetchSessionSlots = int(n) }),
	"max.connections.per.ip":                    intKey("2147483647", 0, math.MaxInt32, func(c *Config, n int64) { c.MaxConnectionsPerIP = int(n) }),
	"max.connections.per.ip.overrides":          {def: "", set: setConnectionsPerIPOverrides},
	"admin.listener":                            {def: "127.0.0.1:9644", set: setAdminListener},
	"log.retention.check.interval.ms":           msKey("300000", func(c *Config, d time.Duration) { c.RetentionCheckInterval = d }),
	"log.flush.scheduler.interval.ms":           msKey("1000", func(c *Config, d time.Duration) { c.FlushCheckInterval = d }),
	"log.flush.offset.checkpoint.interval.ms":   msKey("60000", func(c *Config, d time.Duration) { c.FlushCheckpointInterval = d }),
	"offsets.topic.num.partitions":              intKey("50", 1, math.MaxInt32, func(c *Config, n int64) { c.OffsetsTopicNumPartitions = int32(n) }),
	"producer.id.expiration.ms":                 msKey("86400000", func(c *Config, d time.Duration) { c.ProducerIDExpiration = d }),
	"producer.id.expiration.check.interval.ms":  msKey("600000", func(c *Config, d time.Duration) { c.ProducerIDExpirationCheck = d }),
	"zookeeper.connect":                         {def: "", set: func(c *Config, v string) error { c.ZookeeperConnect = strings.TrimSpace(v); return nil }},

	// Broker defaults of topic configs.
	"log.segment.bytes":                       topicKey("segment.bytes", 1),
	"log.roll.ms":                             topicKey("segment.ms", 1),
	"log.roll.hours":                          topicKey("segment.ms", 3600*1000),
	"log.retention.ms":                        topicKey("retention.ms", 1),
	"log.retention.minutes":                   topicKey("retention.ms", 60*1000),
	"log.retention.hours":                     topicKey("retention.ms", 3600*1000),
	"log.retention.bytes":                     topicKey("retention.bytes", 1),
	"log.index.interval.bytes":                topicKey("index.interval.bytes", 1),
	"log.index.size.max.bytes":                topicKey("segment.index.bytes", 1),
	"log.flush.interval.messages":             topicKey("flush.messages", 1),
	"log.flush.interval.ms":                   topicKey("flush.ms", 1),
	"message.max.bytes":                       topicKey("max.message.bytes", 1),
	"compression.type":                        topicKey("compression.type", 1),
	"log.cleanup.policy":                      topicKey("cleanup.policy", 1),
	"log.message.timestamp.type":              topicKey("message.timestamp.type", 1),
	"log.message.timestamp.difference.max.ms": topicKey("message.timestamp.difference.max.ms", 1),
	"min.insync.replicas":                     topicKey("min.insync.replicas", 1),
	"log.cleaner.delete.retention.ms":         topicKey("delete.retention.ms", 1),
}

// Keys Kafka has that the broker accepts and ignores without a warning.
var ignoredKeys = map[string]bool{
	"num.network.threads": true, "num.io.threads": true, "socket.send.buffer.bytes": true,
	"socket.receive.buffer.bytes": true, "num.recovery.threads.per.data.dir": true,
	"offsets.topic.replication.factor": true, "transaction.state.log.replication.factor": true,
	"transaction.state.log.min.isr": true, "group.initial.rebalance.delay.ms": true,
	"zookeeper.connection.timeout.ms": true, "log.retention.check.interval.ms.jitter": true,
}

func boolKey(def string, set func(c *Config, b bool)) serverKey {
	return serverKey{def: def, set: func(c *Config, v string) error {
		b, err := parseBool(v)
		if err != nil {
			return err
		}
		set(c, b)
		return nil
	}}
}

// setConnectionsPerIPOverrides parses Kafka's "host:limit,ip:limit" list.
// Host names are resolved when the broker starts.
func setConnectionsPerIPOverrides(c *Config, v string) error {
	c.MaxConnectionsPerIPOverrides, c.connectionsPerIPText = nil, strings.TrimSpace(v)
	for entry := range strings.SplitSeq(c.connectionsPerIPText, ",") {
		if entry = strings.TrimSpace(entry); entry == "" {
			continue
		}
		i := strings.LastIndexByte(entry, ':')
		if i <= 0 {
			return fmt.Errorf("%q: want host:limit", entry)
		}
		n, err := parseInt(entry[i+1:], 0, math.MaxInt32)
		if err != nil {
			return fmt.Errorf("%q: %v", entry, err)
		}
		if c.MaxConnectionsPerIPOverrides == nil {
			c.MaxConnectionsPerIPOverrides = map[string]int{}
		}
		c.MaxConnectionsPerIPOverrides[strings.Trim(entry[:i], "[]")] = int(n)
	}
	return nil
}

func setAdminListener(c *Config, v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		c.AdminListener = ""
		return nil
	}
	if _, _, err := net.SplitHostPort(v); err != nil {
		return fmt.Errorf("want host:port")
	}
	c.AdminListener = v
	return nil
}

func parseListeners(v string) ([]Listener, error) {
	var out []Listener
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, addr, ok := strings.Cut(item, "://")
		if !ok || name == "" {
			return nil, fmt.Errorf("%q is not NAME://host:port", item)
		}
		if name != "PLAINTEXT" {
			return nil, fmt.Errorf("listener %q: only PLAINTEXT is supported", name)
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("%q: %v", item, err)
		}
		p, err := parseInt(port, 0, 65535)
		if err != nil {
			return nil, fmt.Errorf("%q: port %v", item, err)
		}
		out = append(out, Listener{Name: name, Host: host, Port: int32(p)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no listener given")
	}
	if len(out) > 1 {
		return nil, fmt.Errorf("only one listener is supported")
	}
	return out, nil
}

// ParseProperties reads Java-properties-style "key=value" lines (also
// "key: value"), skipping blank lines and # or ! comments.
func ParseProperties(data []byte) (map[string]string, []string, error) {
	props := map[string]string{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' || s[0] == '!' {
			continue
		}
		i := strings.IndexAny(s, "=:")
		if i <= 0 {
			return nil, nil, fmt.Errorf("line %d: %q is not key=value", line, s)
		}
		k, v := strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:])
		if _, dup := props[k]; !dup {
			order = append(order, k)
		}
		props[k] = v
	}
	return props, order, sc.Err()
}

// Load builds a Config from defaults, an optional properties file and
// --override key=value pairs (applied in order, later wins).
func Load(file string, overrides []string) (*Config, error) {
	props := map[string]string{}
	var order []string
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		p, o, err := ParseProperties(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		props, order = p, o
	}
	for _, ov := range overrides {
		k, v, ok := strings.Cut(ov, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, &Error{Key: ov, Value: "", Reason: "--override wants key=value"}
		}
		if _, dup := props[k]; !dup {
			order = append(order, k)
		}
		props[k] = strings.TrimSpace(v)
	}
	return New(props, order)
}

// New applies props (in order) over the defaults.
func New(props map[string]string, order []string) (*Config, error) {
	c := &Config{TopicDefaults: DefaultTopicConfig()}
	keys := make([]string, 0, len(serverKeys))
	for k := range serverKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if d := serverKeys[k].def; d != "" {
			if err := serverKeys[k].set(c, d); err != nil {
				panic(fmt.Sprintf("default of %s: %v", k, err))
			}
		}
	}
	// log.retention.ms wins over minutes wins over hours, as in Kafka: apply
	// the coarser ones first.
	sort.SliceStable(order, func(i, j int) bool { return keyRank(order[i]) < keyRank(order[j]) })
	for _, k := range order {
		v := props[k]
		sk, ok := serverKeys[k]
		if !ok {
			if !ignoredKeys[k] {
				c.Warnings = append(c.Warnings, fmt.Sprintf("unknown configuration %s ignored", k))
			}
			continue
		}
		if err := sk.set(c, v); err != nil {
			return nil, &Error{Key: k, Value: v, Reason: err.Error()}
		}
		if c.explicit == nil {
			c.explicit = map[string]bool{}
		}
		c.explicit[k] = true
	}
	if c.MaxConnectionsPerIP == 0 && len(c.MaxConnectionsPerIPOverrides) == 0 {
		return nil, &Error{Key: "max.connections.per.ip", Value: "0", Reason: "0 refuses every connection; it is allowed only with max.connections.per.ip.overrides"}
	}
	if len(c.AdvertisedListeners) == 0 {
		// A copy: the broker fills in the port of an advertised :0 once
		// bound, and listeners must still show what was configured.
		c.AdvertisedListeners = append([]Listener(nil), c.Listeners...)
	}
	for _, l := range c.AdvertisedListeners {
		if l.Host == "" || l.Host == "0.0.0.0" || l.Host == "::" {
			return nil, &Error{Key: "advertised.listeners", Value: l.String(), Reason: "clients cannot connect to a wildcard or empty host; set advertised.listeners"}
		}
	}
	return c, nil
}

func keyRank(k string) int {
	switch k {
	case "log.retention.hours", "log.roll.hours":
		return 0
	case "log.retention.minutes":
		return 1
	}
	return 2
}

// Explicit reports whether key was set by the file or an override.
func (c *Config) Explicit(key string) bool { return c.explicit[key] }

// Keys returns every server key the broker understands, sorted.
func Keys() []string {
	keys := make([]string, 0, len(serverKeys))
	for k := range serverKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
