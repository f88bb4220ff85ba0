package itest

import (
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"samsa/internal/testcerts"
	"samsa/internal/zktest"
)

// The brokers' ZooKeeper security, as Kafka's: zookeeper.set.acl with the
// digest credentials of a JAAS file's Client section, and TLS (mTLS) to
// ZooKeeper's secure client port, against Debian's ZooKeeper.

// writeJAAS writes a JAAS login file whose Client section holds
// ZooKeeper credentials, as Kafka's documentation writes it.
func writeJAAS(t testing.TB, user, password string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kafka_server_jaas.conf")
	text := fmt.Sprintf(`Client {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    username=%q
    password=%q;
};
`, user, password)
	return testcerts.Write(t, filepath.Dir(path), filepath.Base(path), []byte(text))
}

// exitStatus is a stopped broker's exit status (-1 if it did not exit).
func exitStatus(b *broker) int {
	var ee *exec.ExitError
	if errors.As(b.err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// produceAndRead writes n records to every partition of topic with
// acks=all and reads them all back.
func produceAndRead(t testing.TB, c *kcluster, topic string, parts int32, n int) {
	t.Helper()
	cl := c.client(t, c.addrs())
	var recs []*kgo.Record
	for i := range n {
		for p := range parts {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: fmt.Appendf(nil, "p%d #%d", p, i)})
		}
	}
	produceSync(t, cl, recs...)
	offs := map[int32]kgo.Offset{}
	for p := range parts {
		offs[p] = kgo.NewOffset().AtStart()
	}
	got := pollN(t, c.client(t, c.addrs(), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offs})), int64(len(recs)))
	if len(got) != len(recs) {
		t.Fatalf("read %d records of %d", len(got), len(recs))
	}
}

// TestZooKeeperSecurityACLs: two brokers with zookeeper.set.acl=true and
// the JAAS Client section's digest credentials. The cluster works
// (registration, election, partition states, ISR, a SCRAM user); every
// znode they made is theirs: a ZooKeeper client without the credentials
// reads /brokers/ids/N and the topic's state but can neither change nor
// delete them (NOAUTH), and cannot read the SCRAM credentials under
// /config/users; with the credentials it can. A broker given
// zookeeper.set.acl and no credentials refuses to start with Kafka's
// reason (exit status 2); one without credentials cannot join.
func TestZooKeeperSecurityACLs(t *testing.T) {
	const creds = "kafka:kafka-secret"
	jaas := writeJAAS(t, "kafka", "kafka-secret")
	secure := []string{"zookeeper.set.acl=true", "java.security.auth.login.config=" + jaas}
	c := startCluster(t, 2, clusterOpts{overrides: append(slices.Clone(secure), "min.insync.replicas=2")})

	const topic = "zksec.acl"
	adm := kadm.NewClient(c.client(t, c.addrs()))
	if resp, err := adm.CreateTopic(ctx(t), 2, 2, nil, topic); err != nil || resp.Err != nil {
		t.Fatalf("create %s: %v %v", topic, err, resp.Err)
	}
	c.online(topic, 2)
	produceAndRead(t, c, topic, 2, 50) // acks=all across both brokers: the ISR holds both
	res, err := adm.AlterUserSCRAMs(ctx(t), nil, []kadm.UpsertSCRAM{{User: "alice", Mechanism: kadm.ScramSha256, Iterations: 4096, Password: "alice-secret"}})
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		t.Fatalf("create the SCRAM user alice: %v", err)
	}

	anon := c.raw // no credentials
	owner, _, err := zk.Connect([]string{c.zk.Addr()}, 10*time.Second, zk.WithLogger(quietZK{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(owner.Close)
	if err := owner.AddAuth("digest", []byte(creds)); err != nil {
		t.Fatal(err)
	}
	path := func(p string) string { return c.chroot + p }
	var alice []byte
	waitUntil(t, clusterWait, "/config/users/alice", func() error {
		alice, _, err = owner.Get(path("/config/users/alice"))
		return err
	})
	if !strings.Contains(string(alice), "SCRAM-SHA-256") {
		t.Fatalf("/config/users/alice holds %s", alice)
	}

	// The ACLs: the brokers' digest identity may do anything, the world
	// may read, but not under /config/users.
	wantOwner := zk.ACL{Perms: zk.PermAll, Scheme: "digest", ID: zktest.SuperDigestID(creds)}
	worldRead := zk.ACL{Perms: zk.PermRead, Scheme: "world", ID: "anyone"}
	for p, want := range map[string][]zk.ACL{
		"/brokers/ids/1":                                   {wantOwner, worldRead},
		"/brokers/topics/" + topic:                         {wantOwner, worldRead},
		"/brokers/topics/" + topic + "/partitions/0/state": {wantOwner, worldRead},
		"/controller":                                      {wantOwner, worldRead},
		"/config/topics/" + topic:                          {wantOwner, worldRead},
		"/config/users":                                    {wantOwner},
		"/config/users/alice":                              {wantOwner},
		"":                                                 {wantOwner, worldRead}, // the chroot
	} {
		got, _, err := owner.GetACL(path(p))
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ACL of %q: %+v, %v; want %+v", p, got, err, want)
		}
	}

	// Without the credentials: read what is public, change nothing.
	if data, _, err := anon.Get(path("/brokers/ids/1")); err != nil || !strings.Contains(string(data), `"endpoints"`) {
		t.Fatalf("anonymous read of /brokers/ids/1: %q, %v", data, err)
	}
	if _, _, err := anon.Get(path("/brokers/topics/" + topic + "/partitions/0/state")); err != nil {
		t.Fatalf("anonymous read of the partition state: %v", err)
	}
	for what, err := range map[string]error{
		"setData /brokers/ids/1":  second(anon.Set(path("/brokers/ids/1"), []byte("{}"), -1)),
		"delete /brokers/ids/1":   anon.Delete(path("/brokers/ids/1"), -1),
		"setData the state":       second(anon.Set(path("/brokers/topics/"+topic+"/partitions/0/state"), []byte("{}"), -1)),
		"delete /controller":      anon.Delete(path("/controller"), -1),
		"create a topic":          second(anon.Create(path("/brokers/topics/evil"), []byte("{}"), 0, zk.WorldACL(zk.PermAll))),
		"read /config/users/...":  third(anon.Get(path("/config/users/alice"))),
		"list /config/users":      third(anon.Children(path("/config/users"))),
		"setData /config/users/.": second(anon.Set(path("/config/users/alice"), []byte("{}"), -1)),
	} {
		if !errors.Is(err, zk.ErrNoAuth) {
			t.Errorf("anonymous %s: %v, want %v", what, err, zk.ErrNoAuth)
		}
	}
	// With them, a write goes through (an unchanged value: the cluster
	// goes on as it was).
	cfg, st, err := owner.Get(path("/config/topics/" + topic))
	if err == nil {
		_, err = owner.Set(path("/config/topics/"+topic), cfg, st.Version)
	}
	if err != nil {
		t.Fatalf("write with the brokers' credentials: %v", err)
	}

	// set.acl without credentials: refused before ZooKeeper, status 2.
	refused := newBroker(t, append(c.brokerArgs(3), "zookeeper.set.acl=true")...)
	if err := refused.startFresh(); err == nil || exitStatus(refused) != 2 ||
		!strings.Contains(refused.log.String(), "zookeeper.set.acl is true, but ZooKeeper client TLS configuration identifying at least") {
		t.Fatalf("a broker with zookeeper.set.acl and no credentials: %v, status %d; log:\n%s", err, exitStatus(refused), refused.log.String())
	}
	// No credentials at all: ZooKeeper refuses it the secured znodes.
	outsider := newBroker(t, c.brokerArgs(3)...)
	if err := outsider.startFresh(); err == nil || exitStatus(outsider) != 1 || !strings.Contains(outsider.log.String(), "not authenticated") {
		t.Fatalf("a broker without credentials: %v, status %d; log:\n%s", err, exitStatus(outsider), outsider.log.String())
	}
	c.waitConverged()
	// The cluster still takes acks=all writes.
	produceSync(t, c.client(t, c.addrs()), &kgo.Record{Topic: topic, Partition: 0, Value: []byte("after")},
		&kgo.Record{Topic: topic, Partition: 1, Value: []byte("after")})
}

func second[T any](_ T, err error) error        { return err }
func third[T, U any](_ T, _ U, err error) error { return err }

// TestZooKeeperSecurityTLS: brokers reach ZooKeeper only through its
// secure client port (NettyServerCnxnFactory, client certificates
// required), with zookeeper.ssl.* keys as Kafka's (a JKS keystore and a
// PKCS12 truststore, their types from their names), checking ZooKeeper's
// certificate against "localhost". With zookeeper.set.acl and no JAAS
// file, their certificate is their identity (x509:<DN>, the same DN for
// every broker, as Kafka's documentation requires), which owns the
// znodes. A broker that does not trust ZooKeeper's certificate does not
// start, and says why.
func TestZooKeeperSecurityTLS(t *testing.T) {
	p := newPKI(t)
	srv := zktest.StartWith(t, zktest.Options{TLS: &zktest.TLS{
		Keystore:         testcerts.Write(t, p.dir, "zookeeper.p12", p.ca.Server(t, "zookeeper").PKCS12(t, "zk-store")),
		KeystorePassword: "zk-store", TruststorePassword: "zk-store",
		Truststore: testcerts.Write(t, p.dir, "zk-trust.p12", p.ca.PKCS12Trust(t, "zk-store")),
		ClientAuth: "need",
	}})
	brokerCert := p.ca.Issue(t, testcerts.Options{Subject: pkix.Name{CommonName: "samsa-broker", OrganizationalUnit: []string{"brokers"}}})
	tlsKeys := func(trust string) []string {
		return []string{
			"zookeeper.ssl.client.enable=true",
			"zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
			"zookeeper.ssl.keystore.location=" + testcerts.Write(t, p.dir, "zk-client.jks", brokerCert.JKS(t, "client-store", "client-store")),
			"zookeeper.ssl.keystore.password=client-store",
			"zookeeper.ssl.truststore.location=" + trust,
			"zookeeper.ssl.truststore.password=trust-store",
			"zookeeper.ssl.endpoint.identification.algorithm=HTTPS",
			"zookeeper.set.acl=true",
		}
	}
	trusted := testcerts.Write(t, p.dir, "zk-ca.p12", p.ca.PKCS12Trust(t, "trust-store"))
	c := newCluster(t, clusterOpts{zk: srv, secureZK: true})
	// The connect string names localhost, which ZooKeeper's certificate
	// names, rather than the address.
	c.connect = strings.Replace(c.connect, "127.0.0.1:", "localhost:", 1)
	for id := int32(1); id <= 2; id++ {
		c.addBroker(id, tlsKeys(trusted)...)
	}
	c.startAll(c.brokers...)
	c.waitConverged()

	const topic = "zksec.tls"
	c.createTopic(c.broker(1), topic, 2, nil)
	produceAndRead(t, c, topic, 2, 20)

	want := []zk.ACL{{Perms: zk.PermAll, Scheme: "x509", ID: "CN=samsa-broker,OU=brokers"}, {Perms: zk.PermRead, Scheme: "world", ID: "anyone"}}
	for _, p := range []string{"/brokers/ids/1", "/brokers/ids/2", "/brokers/topics/" + topic, "/controller"} {
		got, _, err := c.raw.GetACL(c.chroot + p)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ACL of %s: %+v, %v; want %+v", p, got, err, want)
		}
	}
	if _, err := c.raw.Set(c.chroot+"/brokers/ids/1", []byte("{}"), -1); !errors.Is(err, zk.ErrNoAuth) {
		t.Errorf("a write from the plain port without credentials: %v, want %v", err, zk.ErrNoAuth)
	}

	other := testcerts.Write(t, p.dir, "other-ca.p12", p.other.PKCS12Trust(t, "trust-store"))
	stranger := newBroker(t, append(c.brokerArgs(3), append(tlsKeys(other), "zookeeper.connection.timeout.ms=3000")...)...)
	if err := stranger.startFresh(); err == nil || !strings.Contains(stranger.log.String(), "certificate signed by unknown authority") {
		t.Fatalf("a broker that does not trust ZooKeeper: %v; log:\n%s", err, stranger.log.String())
	}
}
