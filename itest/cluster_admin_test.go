package itest

// Administration of a cluster: topics created, grown, reconfigured and
// deleted through any broker, with effect on every broker; samsa's
// operator commands on a cluster; brokers that must refuse to start.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/testbatch"
)

// topicConfig asks one broker for a topic's config key (DescribeConfigs).
func topicConfig(t testing.TB, b *broker, topic, key string) (string, error) {
	t.Helper()
	req := kmsg.NewPtrDescribeConfigsRequest()
	r := kmsg.NewDescribeConfigsRequestResource()
	r.ResourceType, r.ResourceName, r.ConfigNames = kmsg.ConfigResourceTypeTopic, topic, []string{key}
	req.Resources = append(req.Resources, r)
	resp, err := b.request(req)
	if err != nil {
		return "", err
	}
	rr := resp.(*kmsg.DescribeConfigsResponse).Resources
	if len(rr) != 1 || rr[0].ErrorCode != 0 {
		return "", fmt.Errorf("DescribeConfigs of %s from broker %d: %+v", topic, b.id, rr)
	}
	for _, c := range rr[0].Configs {
		if c.Name == key && c.Value != nil {
			return *c.Value, nil
		}
	}
	return "", fmt.Errorf("broker %d: no %s for %s", b.id, key, topic)
}

// createTopicVia sends CreateTopics to one broker (clients send it to the
// controller; any broker serves it) and fails on an error.
func createTopicVia(t testing.TB, b *broker, topic string, partitions int32, configs map[string]string) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 10000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, partitions, 1
	for k, v := range configs {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, kmsg.StringPtr(v)
		rt.Configs = append(rt.Configs, c)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := b.request(req)
	if err != nil {
		t.Fatalf("CreateTopics %s via broker %d: %v", topic, b.id, err)
	}
	if r := resp.(*kmsg.CreateTopicsResponse).Topics[0]; r.ErrorCode != 0 {
		t.Fatalf("CreateTopics %s via broker %d: %v %v", topic, b.id, kerr.ErrorForCode(r.ErrorCode), r.ErrorMessage)
	}
}

// partitionDirs lists the partition directories of topic in a broker's
// data directory.
func partitionDirs(t testing.TB, b *broker, topic string) []string {
	t.Helper()
	ents, err := os.ReadDir(b.dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		if rest, ok := strings.CutPrefix(name, topic+"-"); ok && e.IsDir() {
			if _, err := strconv.Atoi(rest); err == nil {
				out = append(out, name)
			}
		}
	}
	return out
}

// TestClusterTopicAdmin: a topic is created, grown, reconfigured and
// deleted, each through a different broker. CreateTopics and
// CreatePartitions answer once the answering broker's metadata has
// leaders for every partition (as Kafka waits for them), DeleteTopics
// once the topic is gone from it. New partitions are spread over the
// brokers; a config change is what DescribeConfigs reports on every
// broker and what every broker enforces (max.message.bytes refuses a
// larger record, retention.ms deletes old segments and moves the log
// start offset); the deletion removes every broker's partition
// directories and the topic's znodes, and the name can be used again at
// once.
func TestClusterTopicAdmin(t *testing.T) {
	c := startCluster(t, 3, clusterOpts{overrides: []string{"log.retention.check.interval.ms=200"}})
	const topic = "admin"

	// Each request goes to a broker that is not the controller (clients
	// send them to the controller, but any broker serves them).
	ctl := c.waitConverged()
	first, second := c.other(ctl), c.other(ctl)
	for _, b := range c.brokers {
		if b.id != ctl && b.id != first.id {
			second = b
		}
	}
	createTopicVia(t, first, topic, 3, map[string]string{"segment.bytes": "1024"})
	ls, err := leadersNow(first, topic)
	if err != nil || len(ls) != 3 || slices.Contains(ls, -1) {
		t.Fatalf("right after CreateTopics, broker %d's metadata: leaders %v, %v", first.id, ls, err)
	}
	if got := ledBy(c.online(topic, 3)); len(got) != 3 {
		t.Errorf("3 partitions led %v", got)
	}

	cp := kmsg.NewPtrCreatePartitionsRequest()
	cp.TimeoutMillis = 10000
	cpt := kmsg.NewCreatePartitionsRequestTopic()
	cpt.Topic, cpt.Count = topic, 6
	cp.Topics = append(cp.Topics, cpt)
	if resp, err := second.request(cp); err != nil || resp.(*kmsg.CreatePartitionsResponse).Topics[0].ErrorCode != 0 {
		t.Fatalf("create partitions via broker %d: %v %+v", second.id, err, resp)
	}
	ls, err = leadersNow(second, topic)
	if err != nil || len(ls) != 6 || slices.Contains(ls, -1) {
		t.Fatalf("right after CreatePartitions, broker %d's metadata: leaders %v, %v", second.id, ls, err)
	}
	leaders := c.online(topic, 6)
	if got := ledBy(leaders); got[1] != 2 || got[2] != 2 || got[3] != 2 {
		t.Errorf("6 partitions after growing from 3 led %v: want two per broker", leaders)
	}
	l := ledger{}
	c.produceTo(t, l, topic, allParts(6), 20, strings.Repeat("x", 150))

	// A config change reaches every broker.
	alter, err := first.admin(t).AlterTopicConfigs(ctx(t), []kadm.AlterConfig{
		{Name: "max.message.bytes", Value: kadm.StringPtr("2000")},
		{Name: "retention.ms", Value: kadm.StringPtr("1")},
	}, topic)
	if err != nil || alter[0].Err != nil {
		t.Fatalf("alter: %v %v", err, alter)
	}
	for _, b := range c.brokers {
		waitUntil(t, clusterWait, fmt.Sprintf("broker %d describing the new config", b.id), func() error {
			for key, want := range map[string]string{"max.message.bytes": "2000", "retention.ms": "1"} {
				if v, err := topicConfig(t, b, topic, key); err != nil || v != want {
					return fmt.Errorf("%s = %q (%v)", key, v, err)
				}
			}
			return nil
		})
		for _, p := range partsLedBy(leaders, b.id) {
			waitUntil(t, clusterWait, fmt.Sprintf("broker %d enforcing max.message.bytes on partition %d", b.id, p), func() error {
				code, _ := b.dial(t).produceCode(t, 9, topic, p, testbatch.Make(testbatch.Spec{Records: 1, ValueSize: 3000}))
				if code != kerr.MessageTooLarge.Code {
					return fmt.Errorf("a 3000-byte record: %v", kerr.ErrorForCode(code))
				}
				return nil
			})
		}
	}
	starts := c.client(t, c.addrs())
	waitUntil(t, clusterWait, "retention.ms=1 applied on every partition", func() error {
		so, err := kadm.NewClient(starts).ListStartOffsets(ctx(t), topic)
		if err != nil {
			return err
		}
		var bad []string
		so.Each(func(o kadm.ListedOffset) {
			if o.Err != nil || o.Offset == 0 {
				bad = append(bad, fmt.Sprintf("p%d at %d (%v)", o.Partition, o.Offset, o.Err))
			}
		})
		if len(bad) > 0 {
			return fmt.Errorf("log start offsets: %s", strings.Join(bad, ", "))
		}
		return nil
	})

	// Deletion: gone from the answering broker's metadata at once, then
	// from every broker's disk and from ZooKeeper.
	dt := kmsg.NewPtrDeleteTopicsRequest()
	dt.TimeoutMillis = 10000
	dt.TopicNames = []string{topic}
	dtt := kmsg.NewDeleteTopicsRequestTopic()
	dtt.Topic = kmsg.StringPtr(topic)
	dt.Topics = append(dt.Topics, dtt)
	if resp, err := first.request(dt); err != nil || resp.(*kmsg.DeleteTopicsResponse).Topics[0].ErrorCode != 0 {
		t.Fatalf("delete via broker %d: %v %+v", first.id, err, resp)
	}
	if ls, err := leadersNow(first, topic); err == nil {
		t.Errorf("right after DeleteTopics, broker %d's metadata still has %s: leaders %v", first.id, topic, ls)
	}
	for _, b := range c.brokers {
		waitUntil(t, clusterWait, fmt.Sprintf("broker %d deleting %s", b.id, topic), func() error {
			if dirs := partitionDirs(t, b, topic); len(dirs) > 0 {
				return fmt.Errorf("directories %v", dirs)
			}
			if _, err := leadersNow(b, topic); err == nil {
				return errors.New("still in its metadata")
			}
			return nil
		})
	}
	for _, p := range []string{"/brokers/topics/" + topic, "/config/topics/" + topic, "/admin/delete_topics/" + topic} {
		waitUntil(t, clusterWait, p+" removed", func() error {
			if c.exists(p) {
				return errors.New("still there")
			}
			return nil
		})
	}
	createTopicVia(t, second, topic, 2, nil)
	c.online(topic, 2)
	again := ledger{}
	c.produceTo(t, again, topic, allParts(2), 5, "again")
	again.check(t, c, topic, allParts(2))
}

// leadersNow reads a topic's leaders from one broker's metadata now.
func leadersNow(b *broker, topic string) ([]int32, error) {
	md, err := b.metadata(topic)
	if err != nil {
		return nil, err
	}
	return leaders(md, topic)
}

// TestClusterCLI: samsa cluster names the cluster ID, the controller and
// the three brokers with their addresses and racks; samsa topic describe
// shows each partition's leader, leader epoch, replicas, ISR and high
// watermark, as the metadata says; with a broker down, its partitions
// show leader -1 and the broker as an offline replica.
func TestClusterCLI(t *testing.T) {
	c := startCluster(t, 3, clusterOpts{perBroker: func(id int32) []string {
		return []string{fmt.Sprintf("broker.rack=r%d", id)}
	}})
	ctl := c.waitConverged()
	md, err := c.broker(1).metadata()
	if err != nil {
		t.Fatal(err)
	}
	out := c.broker(2).samsa(t, "", "cluster")
	if !hasFields(out, "CLUSTER-ID", *md.ClusterID) || !hasFields(out, "CONTROLLER", strconv.Itoa(int(ctl))) || !hasFields(out, "BROKERS", "3") {
		t.Errorf("samsa cluster (cluster %s, controller %d):\n%s", *md.ClusterID, ctl, out)
	}
	for _, b := range c.brokers {
		mark := "-"
		if b.id == ctl {
			mark = "yes"
		}
		if !hasFields(out, strconv.Itoa(int(b.id)), b.addr, fmt.Sprintf("r%d", b.id), mark) {
			t.Errorf("samsa cluster: no row for broker %d at %s, rack r%d, controller %s:\n%s", b.id, b.addr, b.id, mark, out)
		}
	}

	const topic = "cli"
	leaders := c.createTopic(c.broker(1), topic, 6, nil)
	l := ledger{}
	c.produceTo(t, l, topic, allParts(6), 3, "cli")
	describe := func(want func(p int32) []string) {
		t.Helper()
		out := c.broker(3).samsa(t, "", "topic", "describe", topic)
		for p := range int32(6) {
			if w := want(p); !hasFields(out, w...) {
				t.Errorf("samsa topic describe: no row %q:\n%s", w, out)
			}
		}
	}
	describe(func(p int32) []string {
		l := strconv.Itoa(int(leaders[p]))
		return []string{strconv.Itoa(int(p)), l, "0", "[" + l + "]", "[" + l + "]", "[]", "0", "3"}
	})

	victim := c.other(ctl)
	victim.kill()
	c.waitLeaders(topic, 6, func(p, l int32) bool { return (leaders[p] == victim.id) == (l == -1) })
	raw, errOut, _ := tryCmd(t, nil, samsaBin, "topic", "describe", topic, "--brokers", c.broker(ctl).addr, "--timeout", "3s")
	for _, p := range partsLedBy(leaders, victim.id) {
		v := strconv.Itoa(int(victim.id))
		if !slices.ContainsFunc(fields(string(raw)), func(f []string) bool {
			return len(f) >= 6 && f[0] == strconv.Itoa(int(p)) && f[1] == "-1" && f[2] == "1" && f[3] == "["+v+"]" && f[5] == "["+v+"]"
		}) {
			t.Errorf("samsa topic describe with broker %d down: no row for partition %d with leader -1 and offline replica %s:\n%s\nstderr:\n%s", victim.id, p, v, raw, errOut)
		}
	}
}

// TestClusterRefusesToStart: a second broker with a broker.id already
// registered refuses to start, and the first stays registered, with the
// same broker epoch; a broker whose data directory belongs to another
// cluster (meta.properties cluster.id) refuses with Kafka's message; given
// its own cluster again, it joins.
func TestClusterRefusesToStart(t *testing.T) {
	c := startCluster(t, 2, clusterOpts{})
	epoch := c.brokerEpoch(1)

	twin := newBroker(t, c.brokerArgs(1)...)
	// It may answer /healthz before it tries to register: wait for its exit.
	twin.startFresh()
	select {
	case <-twin.exited:
	case <-time.After(clusterWait):
		t.Fatal("a second broker with broker.id 1 is still running")
	}
	if twin.err == nil || !logged(twin, "broker.id 1 is registered in ZooKeeper by another broker") {
		t.Errorf("the second broker 1 exited (%v) without saying why:\n%s", twin.err, twin.log.String())
	}
	if e := c.brokerEpoch(1); e != epoch {
		t.Errorf("broker 1's registration changed: epoch %d, was %d", e, epoch)
	}
	c.waitConverged()

	// Broker 2's data directory, given a ZooKeeper chroot of another cluster.
	b := c.broker(2)
	b.stop()
	props, err := os.ReadFile(filepath.Join(b.dir, "meta.properties"))
	if err != nil {
		t.Fatal(err)
	}
	stored := ""
	for line := range strings.Lines(string(props)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "cluster.id="); ok {
			stored = v
		}
	}
	own := b.overrides
	b.overrides = append(slices.Clone(own), "zookeeper.connect="+c.zk.Addr()+c.chroot+"-other")
	if err := b.start(); err == nil {
		t.Fatal("a broker started with the data directory of another cluster")
	}
	want := fmt.Sprintf("doesn't match stored clusterId Some(%s) in meta.properties. The broker is trying to join the wrong cluster. Configured zookeeper.connect may be wrong.", stored)
	if !logged(b, want) {
		t.Errorf("refusal without Kafka's message %q:\n%s", want, b.log.String())
	}
	b.overrides = own
	b.restart()
	c.waitConverged()
}

// TestClusterAutoCreate: a Metadata request for a missing topic, through
// a broker that is not the controller, creates it and answers
// LEADER_NOT_AVAILABLE while the controller makes its partitions, as
// Kafka does; kcat producing to another missing topic through yet another
// broker gets it created with num.partitions spread over the brokers, and
// its records are all there.
func TestClusterAutoCreate(t *testing.T) {
	c := startCluster(t, 3, clusterOpts{overrides: []string{"num.partitions=6"}})
	ctl := c.waitConverged()
	via := c.other(ctl)
	req := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr("auto.metadata")
	req.Topics = append(req.Topics, mt)
	req.AllowAutoTopicCreation = true
	resp, err := via.request(req)
	if err != nil {
		t.Fatal(err)
	}
	if r := resp.(*kmsg.MetadataResponse).Topics[0]; r.ErrorCode != kerr.LeaderNotAvailable.Code && (r.ErrorCode != 0 || len(r.Partitions) != 6) {
		t.Errorf("Metadata creating auto.metadata: %v with %d partitions, want LEADER_NOT_AVAILABLE (or all 6 led)", kerr.ErrorForCode(r.ErrorCode), len(r.Partitions))
	}
	if got := ledBy(c.online("auto.metadata", 6)); len(got) != 3 {
		t.Errorf("auto.metadata led %v", got)
	}

	var in strings.Builder
	for i := range 60 {
		fmt.Fprintf(&in, "k%d\tv%d\n", i, i)
	}
	seed := c.other(ctl, via.id)
	runCmd(t, []byte(in.String()), needKcat(t), "-P", "-b", seed.addr, "-t", "auto.kcat", "-K", "\t", "-X", "acks=all", "-X", "topic.partitioner=murmur2_random")
	if got := ledBy(c.online("auto.kcat", 6)); len(got) != 3 {
		t.Errorf("auto.kcat led %v", got)
	}
	if got := (&broker{addr: seed.addr}).consumeAll(t, "auto.kcat"); len(got) != 60 {
		t.Errorf("auto.kcat holds %d records, kcat produced 60", len(got))
	}
}
