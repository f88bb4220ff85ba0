package itest

// ACLs with the real broker (Kafka's AclAuthorizer semantics): created with
// samsa acl and kadm on a standalone broker, kept in its metadata file,
// enforced on producers and consumers; in a ZooKeeper cluster, stored in
// Kafka's /kafka-acl znodes and followed by every broker through the
// change notifications, also when written straight into ZooKeeper as
// kafka-acls.sh --authorizer-properties zookeeper.connect=... does.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/testbatch"
)

const aclAuthorizer = "authorizer.class.name=kafka.security.authorizer.AclAuthorizer"

// TestACLStandalone: ACLs created with samsa acl on a standalone broker
// survive a restart and decide what User:ANONYMOUS may do once it is no
// longer a super user: allowed topics and groups work, the others are
// refused with Kafka's codes, a prefixed DENY beats an ALLOW until it is
// deleted, and the decisions are counted.
func TestACLStandalone(t *testing.T) {
	b := startBroker(t, aclAuthorizer, "super.users=User:ANONYMOUS", "group.initial.rebalance.delay.ms=0")
	b.newTopic(t, "open", 1, nil)
	b.newTopic(t, "closed", 1, nil)
	for _, args := range [][]string{
		{"--operation", "read,write", "--topic", "open"},
		{"--operation", "read", "--group", "readers"},
		{"--operation", "describe,alter", "--cluster"},
		{"--operation", "idempotent_write", "--cluster"},
	} {
		out := b.samsa(t, "", append([]string{"acl", "create", "--allow-principal", "User:ANONYMOUS"}, args...)...)
		if strings.Count(out, " OK") == 0 || strings.Contains(out, "ERROR") {
			t.Fatalf("samsa acl create %v:\n%s", args, out)
		}
	}
	listed := b.samsa(t, "", "acl", "list")
	if rows := fields(listed); len(rows) != 7 || !hasFields(listed, "User:ANONYMOUS", "*", "TOPIC", "open", "LITERAL", "WRITE", "ALLOW") {
		t.Fatalf("samsa acl list:\n%s", listed)
	}
	meta, err := os.ReadFile(filepath.Join(b.dir, "samsa-metadata.json"))
	if err != nil || !strings.Contains(string(meta), `"permissionType": "Allow"`) || !strings.Contains(string(meta), `"operation": "IdempotentWrite"`) {
		t.Fatalf("ACLs in the metadata file (%v):\n%s", err, meta)
	}

	// The same data directory; User:ANONYMOUS is no longer super.
	b.stop()
	b.overrides = slices.DeleteFunc(b.overrides, func(o string) bool { return strings.HasPrefix(o, "super.users=") })
	b.restart()
	cl := b.client(t, kgo.RecordRetries(1))
	produceSync(t, cl, &kgo.Record{Topic: "open", Value: []byte("allowed")})
	err = cl.ProduceSync(ctx(t), &kgo.Record{Topic: "closed", Value: []byte("refused")}).FirstErr()
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("produce to a topic without an ACL: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	// A consumer in the allowed group reads the allowed topic.
	consumer := b.client(t, kgo.ConsumerGroup("readers"), kgo.ConsumeTopics("open"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if recs := pollN(t, consumer, 1); string(recs[0].Value) != "allowed" {
		t.Fatalf("consumed %q", recs[0].Value)
	}
	consumer.Close()
	// A group without an ACL is refused.
	adm := b.admin(t)
	if _, err := adm.CommitOffsets(ctx(t), "writers", kadm.Offsets{"open": {0: {Topic: "open", Partition: 0, At: 1}}}); !errors.Is(err, kerr.GroupAuthorizationFailed) {
		t.Errorf("commit for a group without an ACL: %v, want GROUP_AUTHORIZATION_FAILED", err)
	}
	// kadm sees what samsa acl created (DescribeAcls needs Describe on the
	// cluster, granted above).
	described, err := adm.DescribeACLs(ctx(t), kadm.NewACLs().MaybeTopics("open").Allow().AllowHosts().Operations().ResourcePatternType(kadm.ACLPatternLiteral))
	if err != nil || len(described) == 0 || described[0].Err != nil || len(described[0].Described) == 0 {
		t.Errorf("kadm DescribeACLs on topic open: %v %+v", err, described)
	}
	for _, r := range described {
		for _, d := range r.Described {
			if d.Name != "open" || d.Principal != "User:ANONYMOUS" || d.Permission != kmsg.ACLPermissionTypeAllow {
				t.Errorf("kadm described %+v", d)
			}
		}
	}
	// Only the topics User:ANONYMOUS may describe are listed.
	if topics, err := adm.ListTopics(ctx(t)); err != nil || !slices.Equal(topics.Names(), []string{"open"}) {
		t.Errorf("listed topics %v (%v), want open only", topics.Names(), err)
	}

	// A prefixed DENY beats the literal ALLOW until it goes.
	b.samsa(t, "", "acl", "create", "--deny-principal", "User:ANONYMOUS", "--operation", "write", "--topic", "op", "--resource-pattern-type", "prefixed")
	err = cl.ProduceSync(ctx(t), &kgo.Record{Topic: "open", Value: []byte("denied")}).FirstErr()
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("produce under a prefixed DENY: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	match := b.samsa(t, "", "acl", "list", "--topic", "open", "--resource-pattern-type", "match")
	if rows := fields(match); len(rows) != 4 || !hasFields(match, "User:ANONYMOUS", "*", "TOPIC", "op", "PREFIXED", "WRITE", "DENY") {
		t.Fatalf("the ACLs that apply to topic open:\n%s", match)
	}
	deleted := b.samsa(t, "", "acl", "delete", "--deny-principal", "User:ANONYMOUS", "--topic", "op", "--resource-pattern-type", "prefixed")
	if rows := fields(deleted); len(rows) != 2 || rows[1][len(rows[1])-1] != "OK" {
		t.Fatalf("samsa acl delete:\n%s", deleted)
	}
	produceSync(t, cl, &kgo.Record{Topic: "open", Value: []byte("allowed again")})

	if n := b.metric(t, `samsa_authorizer_decisions_total{operation="Write",resource_type="Topic",result="denied"}`); n < 1 {
		t.Errorf("denied writes counted: %v", n)
	}
	if n := b.metric(t, `samsa_authorizer_decisions_total{operation="Write",resource_type="Topic",result="allowed"}`); n < 2 {
		t.Errorf("allowed writes counted: %v", n)
	}
}

// TestACLCluster: in a 3-broker ZooKeeper cluster an ACL created through
// one broker is stored as Kafka stores it and reaches every broker (each
// answers DescribeAcls from its own cache, and enforces it); one written
// straight into ZooKeeper in Kafka's format with Kafka's notification
// reaches them too; a delete through another broker reaches them all.
func TestACLCluster(t *testing.T) {
	c := startCluster(t, 3, clusterOpts{overrides: []string{aclAuthorizer, "allow.everyone.if.no.acl.found=true"}})
	c.createTopic(c.broker(1), "guarded", 1, nil)

	created, err := c.broker(1).request(func() kmsg.Request {
		req := kmsg.NewPtrCreateACLsRequest()
		cr := kmsg.NewCreateACLsRequestCreation()
		cr.ResourceType, cr.ResourceName, cr.ResourcePatternType = kmsg.ACLResourceTypeTopic, "guarded", kmsg.ACLResourcePatternTypeLiteral
		cr.Principal, cr.Host, cr.Operation, cr.PermissionType = "User:ANONYMOUS", "*", kmsg.ACLOperationWrite, kmsg.ACLPermissionTypeDeny
		req.Creations = append(req.Creations, cr)
		return req
	}())
	if err != nil || created.(*kmsg.CreateACLsResponse).Results[0].ErrorCode != 0 {
		t.Fatalf("CreateAcls through broker 1: %v %+v", err, created)
	}
	// Kafka's znode and notification.
	data, _, err := c.raw.Get(c.chroot + "/kafka-acl/Topic/guarded")
	if err != nil || string(data) != `{"version":1,"acls":[{"principal":"User:ANONYMOUS","permissionType":"Deny","operation":"Write","host":"*"}]}` {
		t.Fatalf("/kafka-acl/Topic/guarded: %q (%v)", data, err)
	}
	notes, _, err := c.raw.Children(c.chroot + "/kafka-acl-changes")
	if err != nil || len(notes) == 0 {
		t.Fatalf("/kafka-acl-changes: %v (%v)", notes, err)
	}
	if note, _, _ := c.raw.Get(c.chroot + "/kafka-acl-changes/" + notes[len(notes)-1]); string(note) != "TOPIC:guarded" {
		t.Errorf("change notification %q, want TOPIC:guarded", note)
	}
	waitUntil(t, clusterWait, "every broker to refuse Write on guarded", func() error {
		return c.everyBroker(func(b *broker, _ *kmsg.MetadataResponse) error {
			if n := describedACLs(b, "guarded"); n != 1 {
				return fmt.Errorf("broker %d describes %d ACLs on guarded", b.id, n)
			}
			if code := writeCode(b, "guarded"); code != kerr.TopicAuthorizationFailed.Code {
				return fmt.Errorf("broker %d answers a produce to guarded with %d", b.id, code)
			}
			return nil
		})
	})

	// As kafka-acls.sh writes with --authorizer-properties zookeeper.connect:
	// the znode, then the extended change notification.
	acls := `{"version":1,"acls":[{"principal":"User:alice","permissionType":"Allow","operation":"Read","host":"*"}]}`
	if _, err := c.raw.Create(c.chroot+"/kafka-acl-extended/prefixed/Group/app-", []byte(acls), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	event, _ := json.Marshal(map[string]any{"version": 1, "resourceType": "GROUP", "name": "app-", "patternType": "PREFIXED"})
	if _, err := c.raw.Create(c.chroot+"/kafka-acl-extended-changes/acl_changes_", event, zk.FlagSequence, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, clusterWait, "every broker to have the ACL written into ZooKeeper", func() error {
		return c.everyBroker(func(b *broker, _ *kmsg.MetadataResponse) error {
			if n := describedACLs(b, ""); n != 2 {
				return fmt.Errorf("broker %d describes %d ACLs, want 2", b.id, n)
			}
			return nil
		})
	})

	// Deleted through broker 3: gone everywhere.
	del := kmsg.NewPtrDeleteACLsRequest()
	f := kmsg.NewDeleteACLsRequestFilter()
	f.ResourceType, f.ResourceName, f.ResourcePatternType = kmsg.ACLResourceTypeTopic, kmsg.StringPtr("guarded"), kmsg.ACLResourcePatternTypeLiteral
	f.Operation, f.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	del.Filters = append(del.Filters, f)
	resp, err := c.broker(3).request(del)
	if err != nil || len(resp.(*kmsg.DeleteACLsResponse).Results[0].MatchingACLs) != 1 {
		t.Fatalf("DeleteAcls through broker 3: %v %+v", err, resp)
	}
	if ok, _, _ := c.raw.Exists(c.chroot + "/kafka-acl/Topic/guarded"); ok {
		t.Error("the znode of the deleted ACLs is still there")
	}
	waitUntil(t, clusterWait, "every broker to forget the deleted ACL", func() error {
		return c.everyBroker(func(b *broker, _ *kmsg.MetadataResponse) error {
			if n := describedACLs(b, "guarded"); n != 0 {
				return fmt.Errorf("broker %d still describes %d ACLs on guarded", b.id, n)
			}
			if code := writeCode(b, "guarded"); code == kerr.TopicAuthorizationFailed.Code {
				return fmt.Errorf("broker %d still refuses a produce to guarded", b.id)
			}
			return nil
		})
	})
}

// describedACLs counts the ACLs a broker describes on a topic (all ACLs
// for ""), -1 if it cannot be asked.
func describedACLs(b *broker, topic string) int {
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType, req.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
	req.Operation, req.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	if topic != "" {
		req.ResourceType, req.ResourceName = kmsg.ACLResourceTypeTopic, kmsg.StringPtr(topic)
	}
	resp, err := b.request(req)
	if err != nil || resp.(*kmsg.DescribeACLsResponse).ErrorCode != 0 {
		return -1
	}
	n := 0
	for _, r := range resp.(*kmsg.DescribeACLsResponse).Resources {
		n += len(r.ACLs)
	}
	return n
}

// writeCode sends one record to partition 0 of topic through b and
// returns the partition's error code (-1 if it cannot be asked): every
// broker checks Write before leadership.
func writeCode(b *broker, topic string) int16 {
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = 1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = testbatch.Make(testbatch.Spec{Records: 1, ValueSize: 10, Timestamp: time.Now().UnixMilli()})
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := b.request(req)
	if err != nil {
		return -1
	}
	return resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode
}
