package kafkazk

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"samsa/internal/testcerts"
	"samsa/internal/zktest"
	"samsa/metadata/kafkazk/zkdata"
)

// connectWith makes a client of the test's chroot with cfg's security.
func (e *env) connectWith(addr string, cfg Config) (*Client, error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg.Connect = addr + e.chroot
	if cfg.SessionTimeout == 0 {
		cfg.SessionTimeout = 4 * time.Second
	}
	cfg.Logger = testLogger(e.t)
	c, err := Connect(ctx, cfg)
	if err == nil {
		e.t.Cleanup(func() { c.Close() })
	}
	return c, err
}

// aclOf reads a znode's ACL through conn, which must have ADMIN
// permission on it: ZooKeeper shows others digest ids as "user:x".
func (e *env) aclOf(conn *zk.Conn, path string) []zk.ACL {
	e.t.Helper()
	acl, _, err := conn.GetACL(e.chroot + path)
	if err != nil {
		e.t.Fatalf("getACL %s: %v", path, err)
	}
	return acl
}

// rawAs is a raw connection authenticated with digest credentials.
func (e *env) rawAs(userPassword string) *zk.Conn {
	e.t.Helper()
	c := rawConn(e.t, e.srv.Addr())
	if err := c.AddAuth("digest", []byte(userPassword)); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func digestID(userPassword string) zk.ACL {
	return zk.ACL{Perms: zk.PermAll, Scheme: "digest", ID: zktest.SuperDigestID(userPassword)}
}

// With secure ACLs every znode a broker writes (persistent, ephemeral,
// sequential, in a multi, the chroot itself) belongs to the broker's
// digest identity and is world-readable, but for the sensitive roots,
// which nobody else may even read, and /consumers, which stays open
// (Kafka's ZkData.defaultAcls). A session without the credentials reads
// a registration but can neither change nor delete it; one with them can.
func TestSecureACLs(t *testing.T) {
	e := sharedEnv(t)
	const creds = "broker:broker-secret"
	c, err := e.connectWith(e.srv.Addr(), Config{SecureACLs: true, Digest: creds})
	must(t, err)
	ctx := ctxT(t)

	_, err = c.RegisterBroker(ctx, zkdata.BrokerInfo{ID: 1, JMXPort: -1, Endpoints: []zkdata.Endpoint{{Listener: "PLAINTEXT", SecurityProtocol: "PLAINTEXT", Host: "h", Port: 9092}}})
	must(t, err)
	el, err := c.ElectController(ctx, 1)
	must(t, err)
	_, err = c.CreateTopic(ctx, zkdata.TopicAssignment{Topic: "t", Partitions: map[int32]zkdata.PartitionAssignment{0: {Replicas: []int32{1}}}}, map[string]string{"retention.ms": "1"})
	must(t, err)
	_, err = c.CreatePartitionStates(ctx, el.Token, map[zkdata.TopicPartition]zkdata.LeaderAndISR{{Topic: "t", Partition: 0}: {Leader: 1, ISR: []int32{1}}})
	must(t, err)
	must(t, c.SetBrokerConfig(ctx, 1, map[string]string{"k": "v"}))
	must(t, c.Create(ctx, "/config/users/alice", []byte(`{"version":1,"config":{}}`)))
	must(t, c.Create(ctx, "/kafka-acl-changes", nil))
	_, err = c.CreateSequential(ctx, "/kafka-acl-changes/acl_changes_", []byte("Topic:t"))
	must(t, err)
	_, err = c.GetOrCreateClusterID(ctx)
	must(t, err)

	admin := e.rawAs(creds)
	owner, read := digestID(creds), zk.ACL{Perms: zk.PermRead, Scheme: "world", ID: "anyone"}
	for _, p := range []string{"", "/brokers", "/brokers/ids", "/brokers/ids/1", "/controller", "/controller_epoch",
		"/brokers/topics/t", "/brokers/topics/t/partitions/0/state", "/config/topics/t", "/config/changes/config_change_0000000000",
		"/kafka-acl-changes", "/kafka-acl-changes/acl_changes_0000000000", "/cluster/id", "/config"} {
		if got := e.aclOf(admin, p); !reflect.DeepEqual(got, []zk.ACL{owner, read}) {
			t.Errorf("ACL of %q: %+v, want the broker's and world read", p, got)
		}
	}
	for _, p := range []string{"/config/users", "/config/users/alice", "/config/brokers", "/config/brokers/1"} {
		if got := e.aclOf(admin, p); !reflect.DeepEqual(got, []zk.ACL{owner}) {
			t.Errorf("ACL of %s: %+v, want the broker's alone", p, got)
		}
	}
	if got := e.aclOf(e.raw, "/consumers"); !reflect.DeepEqual(got, zk.WorldACL(zk.PermAll)) {
		t.Errorf("ACL of /consumers: %+v, want open", got)
	}

	// Anyone may read a registration; nobody else may change it.
	reg := e.chroot + "/brokers/ids/1"
	if _, _, err := e.raw.Get(reg); err != nil {
		t.Fatalf("anonymous read of the registration: %v", err)
	}
	for what, err := range map[string]error{
		"set /brokers/ids/1":     second(e.raw.Set(reg, []byte("{}"), -1)),
		"delete /brokers/ids/1":  e.raw.Delete(reg, -1),
		"create /brokers/ids/2":  second(e.raw.Create(e.chroot+"/brokers/ids/2", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))),
		"set /controller_epoch":  second(e.raw.Set(e.chroot+"/controller_epoch", []byte("9"), -1)),
		"read /config/users/...": third(e.raw.Get(e.chroot + "/config/users/alice")),
		"list /config/users":     third(e.raw.Children(e.chroot + "/config/users")),
		"read /config/brokers/1": third(e.raw.Get(e.chroot + "/config/brokers/1")),
	} {
		if !errors.Is(err, zk.ErrNoAuth) {
			t.Errorf("anonymous %s: %v, want %v", what, err, zk.ErrNoAuth)
		}
	}
	// A client of the package with other credentials is refused too.
	other, err := e.connectWith(e.srv.Addr(), Config{SecureACLs: true, Digest: "mallory:guess"})
	if err == nil {
		err = other.SetTopicConfig(ctx, "t", map[string]string{"retention.ms": "2"})
	}
	if !errors.Is(err, zk.ErrNoAuth) {
		t.Errorf("another identity's topic config write: %v, want %v", err, zk.ErrNoAuth)
	}

	// Another broker with the same credentials (brokers share them) may
	// write what the first created, and read the sensitive znodes.
	peer, err := e.connectWith(e.srv.Addr(), Config{SecureACLs: true, Digest: creds})
	must(t, err)
	must(t, peer.SetTopicConfig(ctx, "t", map[string]string{"retention.ms": "3"}))
	if cfg, err := peer.BrokerConfig(ctx, 1); err != nil || cfg["k"] != "v" {
		t.Fatalf("the peer's read of /config/brokers/1: %v, %v", cfg, err)
	}
	if _, err := admin.Set(e.chroot+"/config/users/alice", []byte(`{"version":1,"config":{}}`), -1); err != nil {
		t.Fatalf("write with the brokers' credentials: %v", err)
	}
}

func second[T any](_ T, err error) error        { return err }
func third[T, U any](_ T, _ U, err error) error { return err }

// Secure ACLs without an identity would be refused by ZooKeeper
// (INVALIDACL) at the first create: Connect refuses them first.
func TestSecureACLsNeedIdentity(t *testing.T) {
	for _, cfg := range []Config{
		{SecureACLs: true},
		{SecureACLs: true, TLS: &tls.Config{}}, // TLS without a client certificate
	} {
		cfg.Connect = "127.0.0.1:1"
		if _, err := Connect(ctxT(t), cfg); !errors.Is(err, ErrNoIdentity) {
			t.Errorf("Connect(%+v) = %v, want ErrNoIdentity", cfg, err)
		}
	}
}

// go-zookeeper sends the digest credentials again after a reconnection,
// before anything else: a client cut off and back writes its znodes on.
func TestDigestSurvivesReconnect(t *testing.T) {
	e := sharedEnv(t)
	p := zktest.NewProxy(t, e.srv.Addr())
	c, err := e.connectWith(p.Addr(), Config{SecureACLs: true, Digest: "broker:pw", SessionTimeout: 8 * time.Second})
	must(t, err)
	ctx := ctxT(t)
	must(t, c.SetBrokerConfig(ctx, 1, map[string]string{"a": "1"}))
	sid := c.SessionID()
	p.Cut()
	waitFor(t, "the client to notice the cut", 10*time.Second, func() bool { return c.conn.State() != zk.StateHasSession })
	p.Heal()
	must(t, c.SetBrokerConfig(ctx, 1, map[string]string{"a": "2"}))
	if c.SessionID() != sid {
		t.Fatalf("the session changed (%s to %s): this test is about a reconnection", hex(sid), hex(c.SessionID()))
	}
	// /config/brokers is readable by the brokers' identity alone.
	if cfg, err := c.BrokerConfig(ctx, 1); err != nil || cfg["a"] != "2" {
		t.Fatalf("after the reconnection: %v, %v", cfg, err)
	}
}

// TLS to ZooKeeper's secure port, mTLS: the client certificate is the
// session's x509 identity and owns what the client creates. The
// certificate is checked against the host name as configured ("localhost",
// which the server's certificate names without its address), and a
// server the truststore does not vouch for is refused with the reason.
func TestTLS(t *testing.T) {
	ca := testcerts.NewCA(t, "zk CA")
	dir := t.TempDir()
	const pw = "pw"
	srvCert := ca.Issue(t, testcerts.Options{Subject: pkix.Name{CommonName: "zookeeper"}, DNSNames: []string{"localhost"}})
	srv := zktest.StartWith(t, zktest.Options{TLS: &zktest.TLS{
		Keystore: testcerts.Write(t, dir, "zk.p12", srvCert.PKCS12(t, pw)), KeystorePassword: pw,
		Truststore: testcerts.Write(t, dir, "trust.p12", ca.PKCS12Trust(t, pw)), TruststorePassword: pw,
		ClientAuth: "need",
	}})
	e := newEnv(t, srv)
	client := ca.Issue(t, testcerts.Options{Subject: pkix.Name{CommonName: "broker", OrganizationalUnit: []string{"kafka"}}})
	port := srv.SecureAddr()[strings.LastIndexByte(srv.SecureAddr(), ':')+1:]
	cfg := &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{client.TLS()}, MinVersion: tls.VersionTLS12}

	c, err := e.connectWith("localhost:"+port, Config{SecureACLs: true, TLS: cfg})
	must(t, err)
	ctx := ctxT(t)
	_, err = c.RegisterBroker(ctx, zkdata.BrokerInfo{ID: 1, JMXPort: -1})
	must(t, err)
	want := []zk.ACL{{Perms: zk.PermAll, Scheme: "x509", ID: "CN=broker,OU=kafka"}, {Perms: zk.PermRead, Scheme: "world", ID: "anyone"}}
	if got := e.aclOf(c.conn, "/brokers/ids/1"); !reflect.DeepEqual(got, want) {
		t.Fatalf("ACL of /brokers/ids/1: %+v, want %+v", got, want)
	}
	if _, err := e.raw.Set(e.chroot+"/brokers/ids/1", nil, -1); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("anonymous write: %v, want %v", err, zk.ErrNoAuth)
	}

	// Dialed by address, the certificate (DNS:localhost only) does not
	// match; nor does a server no CA of ours signed. Each waits out its
	// connection timeout (go-zookeeper retries): side by side.
	other := testcerts.NewCA(t, "someone else")
	t.Run("refused", func(t *testing.T) {
		for name, tc := range map[string]struct {
			addr string
			cfg  *tls.Config
		}{
			"by address": {"127.0.0.1:" + port, cfg},
			"untrusted":  {"localhost:" + port, &tls.Config{RootCAs: other.Pool(), Certificates: cfg.Certificates}},
		} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				_, err := Connect(ctx, Config{Connect: tc.addr + e.chroot, TLS: tc.cfg, SessionTimeout: 4 * time.Second, ConnectionTimeout: 2 * time.Second})
				var verr *tls.CertificateVerificationError
				if !errors.Is(err, ErrNotConnected) || !errors.As(err, &verr) {
					t.Errorf("%v, want ErrNotConnected with the certificate's refusal", err)
				}
			})
		}
	})
}
