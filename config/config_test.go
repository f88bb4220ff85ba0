package config

import (
	"errors"
	"maps"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "server.properties")
	os.WriteFile(file, []byte(`# a comment
broker.id=3
listeners=PLAINTEXT://127.0.0.1:29092
log.dirs = /tmp/x
log.retention.hours=1
log.retention.minutes : 30
num.network.threads=8
made.up.key=1
! another comment
log.segment.bytes=1048576
`), 0o644)
	c, err := Load(file, []string{"num.partitions=4", "log.dirs=/tmp/y", "auto.create.topics.enable=false"})
	if err != nil {
		t.Fatal(err)
	}
	if c.BrokerID != 3 || c.NumPartitions != 4 || c.LogDirs[0] != "/tmp/y" || c.AutoCreateTopics {
		t.Fatalf("config %+v", c)
	}
	if c.Listeners[0].Addr() != "127.0.0.1:29092" || c.AdvertisedListeners[0].Addr() != "127.0.0.1:29092" {
		t.Fatalf("listeners %v / %v", c.Listeners, c.AdvertisedListeners)
	}
	// minutes win over hours, as in Kafka; ms would win over both.
	if got := c.TopicDefaults.RetentionMs; got != 1800000 {
		t.Fatalf("retention.ms default %d", got)
	}
	if got := c.TopicDefaults.LogConfig().SegmentBytes; got != 1<<20 {
		t.Fatalf("segment.bytes %d", got)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "made.up.key") {
		t.Fatalf("warnings %v (num.network.threads is known to Kafka and ignored quietly)", c.Warnings)
	}
	if c.ConnectionsMaxIdle != 10*time.Minute || c.SocketRequestMaxBytes != 104857600 || c.AdminListener != "127.0.0.1:9644" {
		t.Fatalf("defaults %+v", c)
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listeners[0].String() != "PLAINTEXT://127.0.0.1:9092" || c.LogDirs[0] != "./data" || !c.AutoCreateTopics || c.NumPartitions != 1 || c.ZookeeperConnect != "" {
		t.Fatalf("defaults %+v", c)
	}
	if c.TopicDefaults.LogConfig() != DefaultTopicConfig().LogConfig() {
		t.Fatal("topic defaults differ from Kafka's")
	}
}

func TestInvalidConfigNamesTheKey(t *testing.T) {
	for _, tc := range []struct{ override, key string }{
		{"num.partitions=zero", "num.partitions"},
		{"num.partitions=0", "num.partitions"},
		{"listeners=127.0.0.1:9092", "listeners"},
		{"listeners=TLS://127.0.0.1:9093", "listeners"},
		// SSL listeners exist, but the inter-broker listener (PLAINTEXT
		// by default) must be one of them.
		{"listeners=SSL://127.0.0.1:9093", "inter.broker.listener.name"},
		{"listener.security.protocol.map=PLAINTEXT:TLS", "listener.security.protocol.map"},
		{"listener.name.ssl.ssl.client.auth=always", "listener.name.ssl.ssl.client.auth"},
		{"listener.name.ssl.log.dirs=/tmp", "listener.name.ssl.log.dirs"},
		{"listener.name.ssl=x", "listener.name.ssl"},
		{"auto.create.topics.enable=yes", "auto.create.topics.enable"},
		{"log.segment.bytes=10", "log.segment.bytes"},
		{"log.retention.ms=-5", "log.retention.ms"},
		{"compression.type=brotli", "compression.type"},
		{"admin.listener=nowhere", "admin.listener"},
		{"log.dirs=a,b", "log.dirs"},
		{"advertised.listeners=PLAINTEXT://0.0.0.0:9092", "advertised.listeners"},
		{"noequals", "noequals"},
		{"max.connections.per.ip=0", "max.connections.per.ip"},
		{"max.connections.per.ip=-1", "max.connections.per.ip"},
		{"max.connections.per.ip.overrides=127.0.0.1", "max.connections.per.ip.overrides"},
		{"max.connections.per.ip.overrides=127.0.0.1:many", "max.connections.per.ip.overrides"},
		{"max.connections.per.ip.overrides=:5", "max.connections.per.ip.overrides"},
	} {
		_, err := Load("", []string{tc.override})
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("%s: got %v, want a Error for %s", tc.override, err, tc.key)
		}
	}
}

func TestConnectionsPerIPConfig(t *testing.T) {
	c, err := Load("", []string{"max.connections.per.ip=0", "max.connections.per.ip.overrides=127.0.0.9:3, [::1]:2,localhost:7"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"127.0.0.9": 3, "::1": 2, "localhost": 7}
	if !maps.Equal(c.MaxConnectionsPerIPOverrides, want) || c.MaxConnectionsPerIP != 0 {
		t.Fatalf("overrides %v, default %d; want %v and 0", c.MaxConnectionsPerIPOverrides, c.MaxConnectionsPerIP, want)
	}
	limit, err := c.ConnectionsPerIP()
	if err != nil {
		t.Fatal(err)
	}
	for ip, n := range map[string]int{"127.0.0.9": 3, "::1": 2, "::ffff:127.0.0.9": 3, "10.1.2.3": 0} {
		if got := limit(netip.MustParseAddr(ip).Unmap()); got != n {
			t.Errorf("limit for %s = %d, want %d", ip, got, n)
		}
	}
	if got := limit(netip.MustParseAddr("127.0.0.1")); got != 7 {
		t.Errorf("limit for 127.0.0.1 (localhost) = %d, want 7", got)
	}
	def, _ := Load("", nil)
	if f, err := def.ConnectionsPerIP(); f != nil || err != nil {
		t.Errorf("Kafka's default should set no per-address bound; got %v, %v", f != nil, err)
	}
}

// TestFetchWait: a fetch waits its max_wait_ms, capped by FetchWaitCap
// when a harness sets it (no key does: Kafka caps nothing).
func TestFetchWait(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		cap  time.Duration
		ms   int32
		want time.Duration
	}{
		{0, 500, 500 * time.Millisecond},
		{0, math.MaxInt32, math.MaxInt32 * time.Millisecond},
		{10 * time.Millisecond, 500, 10 * time.Millisecond},
		{10 * time.Millisecond, 5, 5 * time.Millisecond},
		{10 * time.Millisecond, 0, 0},
	} {
		c.FetchWaitCap = tc.cap
		if got := c.FetchWait(tc.ms); got != tc.want {
			t.Errorf("cap %v, max_wait_ms %d: %v, want %v", tc.cap, tc.ms, got, tc.want)
		}
	}
}

// TestTransactionStateLogReplication: Kafka's defaults for
// __transaction_state (50 partitions, RF 3, min ISR 2, 15 min max
// timeout); a standalone broker caps the factor and the min ISR at the
// live brokers, a cluster waits for enough brokers.
func TestTransactionStateLogReplication(t *testing.T) {
	c, err := New(map[string]string{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Txn.NumPartitions != 50 || c.TransactionStateLogReplicationFactor != 3 || c.Txn.MinISR != 2 ||
		c.Txn.MaxTimeout != 15*time.Minute || c.Txn.IDExpiration != 7*24*time.Hour || c.Txn.AbortInterval != 10*time.Second ||
		c.Txn.RemoveInterval != time.Hour || c.Txn.SegmentBytes != 104857600 || c.Txn.LoadBufferSize != 5242880 {
		t.Fatalf("defaults %+v, rf %d", c.Txn, c.TransactionStateLogReplicationFactor)
	}
	for _, x := range []struct {
		zk        bool
		live      int
		rf        int16
		minISR    int32
		creatable bool
	}{
		{false, 1, 1, 1, true},
		{true, 2, 3, 2, false},
		{true, 3, 3, 2, true},
	} {
		props, order := map[string]string{}, []string(nil)
		if x.zk {
			props["zookeeper.connect"], order = "zk:2181", []string{"zookeeper.connect"}
		}
		c, err := New(props, order)
		if err != nil {
			t.Fatal(err)
		}
		rf, minISR, ok := c.TransactionStateLogReplication(x.live)
		if rf != x.rf || minISR != x.minISR || ok != x.creatable {
			t.Errorf("zk %v, %d live: rf %d min isr %d creatable %v; want %d %d %v", x.zk, x.live, rf, minISR, ok, x.rf, x.minISR, x.creatable)
		}
	}
}
