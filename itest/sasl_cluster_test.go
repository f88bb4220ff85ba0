package itest

import (
	"crypto/x509/pkix"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"samsa/internal/testcerts"
	"samsa/security/sasl"
)

// TestSASLCluster: three brokers whose inter-broker listener INTERNAL is
// SASL_SSL with SCRAM-SHA-512 (the controller's requests, follower
// fetches, AlterPartition and controlled shutdown all authenticated), the
// brokers' own user written into ZooKeeper before they start, as
// kafka-configs.sh --zookeeper writes it; clients on a SASL_SSL listener
// of their own with SCRAM-SHA-256. A user made through one broker (samsa
// user, AlterUserScramCredentials on the controller) authenticates on
// every broker, as the change notification reaches each; a topic with
// replication factor 3 takes acks=all produces, loses its leader to
// SIGKILL and keeps taking them, the broker comes back and catches up over
// SASL_SSL, every acknowledged record is read back; the user deleted is
// refused by every broker.
func TestSASLCluster(t *testing.T) {
	p := newPKI(t)
	c := newCluster(t, clusterOpts{})

	// What kafka-configs.sh --zookeeper ... --alter --add-config
	// 'SCRAM-SHA-512=[password=broker-secret]' --entity-type users
	// --entity-name broker writes: the user's config, then a notification.
	cred, err := sasl.SHA512.NewCredential("broker-secret", 4096)
	if err != nil {
		t.Fatal(err)
	}
	c.set("/config/users/broker", []byte(`{"version":1,"config":{"SCRAM-SHA-512":"`+cred.String()+`"}}`))
	c.set("/config/changes/config_change_0000000000", []byte(`{"version":2,"entity_path":"users/broker"}`))

	extra := []string{"SASL_SSL", "INTERNAL"}
	overrides := append(p.truststore(t),
		"listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,INTERNAL:SASL_SSL",
		"inter.broker.listener.name=INTERNAL",
		"sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
		"listener.name.internal.sasl.enabled.mechanisms=SCRAM-SHA-512",
		"listener.name.internal.scram-sha-512.sasl.jaas.config="+sasl.ScramLoginModule+` required username="broker" password="broker-secret";`,
		"listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512",
		"ssl.endpoint.identification.algorithm=https",
		"default.replication.factor=3", "min.insync.replicas=2")
	for id := int32(1); id <= 3; id++ {
		cert := p.ca.Issue(t, testcerts.Options{
			Subject:  pkix.Name{CommonName: fmt.Sprintf("broker-%d", id), OrganizationalUnit: []string{"brokers"}},
			DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
		c.addBroker(id, append(slices.Clone(overrides), p.keystore(t, "PKCS12", "", cert)...)...).extra = extra
	}
	c.startAll(c.brokers...)
	ctl := c.waitConverged() // the controller reached every broker over INTERNAL

	// A client user, made through a broker that is not the controller.
	via := c.other(ctl)
	runCmd(t, nil, samsaBin, "user", "create", "alice", "--new-password", "alice-secret", "-b", via.addr)
	alice := func(b *broker) *broker {
		return b.via("SASL_SSL", saslSec(p.anon(), sasl.ScramSHA256, "alice", "alice-secret"))
	}
	for _, b := range c.running() {
		waitUntil(t, clusterWait, fmt.Sprintf("broker %d authenticating alice", b.id), func() error { return metadataErr(alice(b)) })
	}
	seeds := func() []string {
		var out []string
		for _, b := range c.running() {
			out = append(out, b.extraAddrs["SASL_SSL"])
		}
		return out
	}
	client := func(opts ...kgo.Opt) *kgo.Client {
		t.Helper()
		s := seeds()
		b := &broker{addr: s[0], sec: alice(c.running()[0]).sec}
		return b.client(t, append([]kgo.Opt{kgo.SeedBrokers(s...)}, opts...)...)
	}

	const topic, parts = "sasl.rf3", 3
	adm := kadm.NewClient(client())
	if resp, err := adm.CreateTopic(ctx(t), parts, 3, nil, topic); err != nil || resp.Err != nil {
		t.Fatalf("create %s: %v %v", topic, err, resp.Err)
	}
	leaders := c.online(topic, parts)
	c.waitInSync(topic, 3) // the followers fetch over INTERNAL, authenticated

	l := ledger{}
	produce := func(n int, tag string) {
		t.Helper()
		cl := client()
		var recs []*kgo.Record
		for i := range n {
			for p := range int32(parts) {
				recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: fmt.Appendf(nil, "%s p%d #%d", tag, p, i)})
			}
		}
		produceSync(t, cl, recs...)
		slices.SortStableFunc(recs, func(a, b *kgo.Record) int { return int(a.Offset - b.Offset) })
		for _, r := range recs {
			l[r.Partition] = append(l[r.Partition], string(r.Value))
		}
		cl.Close()
	}
	produce(100, "before")

	victim := c.broker(leaders[0])
	victim.kill()
	c.waitLeaders(topic, parts, func(p, leader int32) bool { return leader >= 0 && leader != victim.id })
	produce(100, "during") // acks=all with two in-sync replicas

	victim.restart()
	c.waitConverged()
	c.waitInSync(topic, 3) // it caught up over SASL_SSL
	produce(50, "after")

	offs := map[int32]kgo.Offset{}
	total := 0
	for p := range int32(parts) {
		offs[p] = kgo.NewOffset().AtStart()
		total += len(l[p])
	}
	got := map[int32][]string{}
	for _, r := range pollN(t, client(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offs})), int64(total)) {
		got[r.Partition] = append(got[r.Partition], string(r.Value))
	}
	for p := range int32(parts) {
		if !slices.Equal(got[p], l[p]) {
			t.Fatalf("partition %d: read %d records, acknowledged %d; first difference at %d", p, len(got[p]), len(l[p]), firstDiff(got[p], l[p]))
		}
	}
	// The brokers never refused each other. (Clients may have been
	// refused on SASL_SSL: alice is tried on each broker until her
	// credentials reached it.)
	for _, b := range c.running() {
		for _, line := range strings.Split(b.log.String(), "\n") {
			if strings.Contains(line, "failed authentication") && strings.Contains(line, "listener=INTERNAL") {
				t.Errorf("broker %d refused a broker:\n%s", b.id, line)
			}
		}
	}

	// Deleted through another broker, alice is refused by every broker.
	runCmd(t, nil, samsaBin, "user", "delete", "alice", "-b", c.other(c.waitController(), via.id).addr)
	for _, b := range c.running() {
		waitUntil(t, clusterWait, fmt.Sprintf("broker %d refusing alice", b.id), func() error {
			if err := metadataErr(alice(b)); err == nil || !strings.Contains(err.Error(), kerr.SaslAuthenticationFailed.Message) {
				return fmt.Errorf("alice on broker %d: %v", b.id, err)
			}
			return nil
		})
	}
}
