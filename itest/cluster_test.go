package itest

// Three brokers in ZooKeeper mode, healthy: the znodes they write have
// Kafka's shapes, a new topic's partitions are led evenly, and every client
// library produces to and consumes from partitions led by brokers it was
// not given.

import (
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func portOf(t testing.TB, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// ledBy counts the partitions each broker leads.
func ledBy(leaders []int32) map[int32]int {
	out := map[int32]int{}
	for _, l := range leaders {
		out[l]++
	}
	return out
}

// TestClusterZnodes: three brokers with racks write Kafka's znodes, byte
// compatible in meaning (ZkData.scala): their registrations (ephemeral),
// the controller and its epoch (one multi: the epoch's mzxid is the
// controller's czxid), the cluster ID (also in every meta.properties), a
// topic's assignment with its topic ID (the one Metadata reports), its
// partition states at partition epoch 0, its config, a config change
// notification, the producer-id block, and the persistent paths Kafka's
// tools expect. A topic of six partitions is led two per broker, each by
// its first replica; Metadata reports racks and the controller.
func TestClusterZnodes(t *testing.T) {
	c := startCluster(t, 3, clusterOpts{perBroker: func(id int32) []string {
		return []string{fmt.Sprintf("broker.rack=rack-%c", 'a'+id-1)}
	}})
	ctl := c.waitConverged()

	for _, b := range c.brokers {
		p := fmt.Sprintf("/brokers/ids/%d", b.id)
		port := portOf(t, b.addr)
		c.shape(p, fmt.Sprintf(`{"version":5,"host":"127.0.0.1","port":%d,"endpoints":["PLAINTEXT://127.0.0.1:%d"],
			"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"jmx_port":-1,"rack":"rack-%c","features":{}}`,
			port, port, 'a'+b.id-1), "timestamp")
		if _, st := c.get(p); st.EphemeralOwner == 0 {
			t.Errorf("%s is not ephemeral", p)
		}
	}

	c.shape("/controller", fmt.Sprintf(`{"version":2,"brokerid":%d,"kraftControllerEpoch":-1}`, ctl), "timestamp")
	_, cst := c.get("/controller")
	if cst.EphemeralOwner == 0 {
		t.Error("/controller is not ephemeral")
	}
	epochText, est := c.get("/controller_epoch")
	epoch, err := strconv.Atoi(string(epochText))
	if err != nil || epoch < 1 {
		t.Errorf("/controller_epoch = %q, want a positive decimal", epochText)
	}
	if est.Mzxid != cst.Czxid {
		t.Errorf("/controller_epoch mzxid %d, /controller czxid %d: not written in one multi", est.Mzxid, cst.Czxid)
	}

	md, err := c.broker(2).metadata()
	if err != nil {
		t.Fatal(err)
	}
	if md.ClusterID == nil || *md.ClusterID == "" {
		t.Fatal("Metadata without a cluster ID")
	}
	clusterID := *md.ClusterID
	c.shape("/cluster/id", fmt.Sprintf(`{"version":"1","id":%q}`, clusterID))
	for _, b := range c.brokers {
		props, err := os.ReadFile(filepath.Join(b.dir, "meta.properties"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"cluster.id=" + clusterID, fmt.Sprintf("broker.id=%d", b.id)} {
			if !strings.Contains(string(props), want+"\n") {
				t.Errorf("broker %d meta.properties lacks %s:\n%s", b.id, want, props)
			}
		}
	}
	for _, mb := range md.Brokers {
		if want := fmt.Sprintf("rack-%c", 'a'+mb.NodeID-1); mb.Rack == nil || *mb.Rack != want {
			t.Errorf("Metadata: broker %d rack %v, want %s", mb.NodeID, mb.Rack, want)
		}
	}

	retention := "3600000"
	leaders := c.createTopic(c.broker(1), "shapes", 6, map[string]*string{"retention.ms": &retention})
	if got := ledBy(leaders); got[1] != 2 || got[2] != 2 || got[3] != 2 {
		t.Errorf("leaders %v: want two partitions per broker", leaders)
	}
	md, err = c.broker(3).metadata("shapes")
	if err != nil {
		t.Fatal(err)
	}
	topicID := base64.RawURLEncoding.EncodeToString(md.Topics[0].TopicID[:]) // Kafka's Uuid.toString
	var parts []string
	for p, l := range leaders {
		parts = append(parts, fmt.Sprintf(`"%d":[%d]`, p, l))
	}
	c.shape("/brokers/topics/shapes", fmt.Sprintf(`{"version":3,"partitions":{%s},"adding_replicas":{},"removing_replicas":{},"topic_id":%q}`,
		strings.Join(parts, ","), topicID))
	for _, mp := range md.Topics[0].Partitions {
		sp := fmt.Sprintf("/brokers/topics/shapes/partitions/%d/state", mp.Partition)
		c.shape(sp, fmt.Sprintf(`{"version":1,"leader":%d,"leader_epoch":0,"isr":[%d],"controller_epoch":%d}`, mp.Leader, mp.Leader, epoch))
		if _, st := c.get(sp); st.Version != 0 {
			t.Errorf("%s at version %d, want 0 (a new partition's epoch)", sp, st.Version)
		}
		if mp.LeaderEpoch != 0 || !slices.Equal(mp.Replicas, []int32{mp.Leader}) || !slices.Equal(mp.ISR, []int32{mp.Leader}) {
			t.Errorf("Metadata partition %d: epoch %d replicas %v isr %v", mp.Partition, mp.LeaderEpoch, mp.Replicas, mp.ISR)
		}
	}
	c.shape("/config/topics/shapes", `{"version":1,"config":{"retention.ms":"3600000"}}`)

	// A config change through another broker: the config znode, then a
	// sequential notification every broker follows.
	before := c.children("/config/changes")
	alter, err := c.broker(2).admin(t).AlterTopicConfigs(ctx(t), []kadm.AlterConfig{{Name: "retention.ms", Value: kadm.StringPtr("7200000")}}, "shapes")
	if err != nil || alter[0].Err != nil {
		t.Fatalf("alter config: %v %v", err, alter)
	}
	c.shape("/config/topics/shapes", `{"version":1,"config":{"retention.ms":"7200000"}}`)
	after := c.children("/config/changes")
	if len(after) != len(before)+1 {
		t.Fatalf("/config/changes: %v before, %v after", before, after)
	}
	change := after[len(after)-1]
	if !regexp.MustCompile(`^config_change_\d{10}$`).MatchString(change) {
		t.Errorf("config change znode %q", change)
	}
	c.shape("/config/changes/"+change, `{"version":2,"entity_path":"topics/shapes"}`)

	// An idempotent producer takes a block of producer ids.
	idem, err := kgo.NewClient(kgo.SeedBrokers(c.addrs(3)...), kgo.DefaultProduceTopic("shapes"))
	if err != nil {
		t.Fatal(err)
	}
	defer idem.Close()
	if err := idem.ProduceSync(ctx(t), &kgo.Record{Value: []byte("idempotent")}).FirstErr(); err != nil {
		t.Fatalf("idempotent produce: %v", err)
	}
	data, _ := c.get("/latest_producer_id_block")
	var owner int32 = -1
	for _, b := range c.brokers {
		if strings.Contains(string(data), fmt.Sprintf(`"broker":%d`, b.id)) {
			owner = b.id
		}
	}
	c.shape("/latest_producer_id_block", fmt.Sprintf(`{"version":1,"broker":%d,"block_start":"0","block_end":"999"}`, owner))

	for _, p := range []string{"/brokers/seqid", "/brokers/topics", "/config/changes", "/config/topics", "/config/clients",
		"/config/users", "/config/brokers", "/config/ips", "/admin/delete_topics", "/isr_change_notification",
		"/log_dir_event_notification", "/consumers"} {
		if !c.exists(p) {
			t.Errorf("%s missing", p)
		}
	}
}
