package itest

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/internal/testcerts"
)

// TestTLSCluster: three brokers whose inter-broker listener INTERNAL is
// SSL with mTLS required (the controller's requests, follower fetches,
// AlterPartition and controlled shutdown all over it, each broker
// presenting its own certificate and checking the peer's host name),
// clients on an SSL listener of their own. A topic with replication
// factor 3 takes acks=all produces, loses its leader to SIGKILL and keeps
// taking them, the broker comes back and catches up, every acknowledged
// record is read back; a SIGTERM'd broker shuts down cleanly through
// controlled shutdown over TLS. The registrations list every endpoint
// with its protocol, in Kafka's JSON; each listener's clients see the
// brokers' endpoints on that listener.
func TestTLSCluster(t *testing.T) {
	p := newPKI(t)
	c := startCluster(t, 3, clusterOpts{
		extra: []string{"SSL", "INTERNAL"},
		overrides: append(p.truststore(t),
			"listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,INTERNAL:SSL",
			"inter.broker.listener.name=INTERNAL",
			"listener.name.internal.ssl.client.auth=required",
			"ssl.endpoint.identification.algorithm=https",
			"default.replication.factor=3", "min.insync.replicas=2",
			"password.encoder.secret=cluster-secret"),
		perBroker: func(id int32) []string {
			cert := p.ca.Issue(t, testcerts.Options{
				Subject:  pkix.Name{CommonName: fmt.Sprintf("broker-%d", id), OrganizationalUnit: []string{"brokers"}},
				DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
			return p.keystore(t, "PKCS12", "", cert)
		},
	})
	ctl := c.waitConverged()

	// The registration: every endpoint, and its protocol.
	for _, b := range c.brokers {
		data, _ := c.get(fmt.Sprintf("/brokers/ids/%d", b.id))
		var reg struct {
			Endpoints   []string          `json:"endpoints"`
			ProtocolMap map[string]string `json:"listener_security_protocol_map"`
			Host        *string           `json:"host"`
			Port        int               `json:"port"`
		}
		if err := json.Unmarshal(data, &reg); err != nil {
			t.Fatal(err)
		}
		want := []string{"PLAINTEXT://" + b.addr, "SSL://" + b.extraAddrs["SSL"], "INTERNAL://" + b.extraAddrs["INTERNAL"]}
		if !slices.Equal(reg.Endpoints, want) || reg.ProtocolMap["INTERNAL"] != "SSL" || reg.ProtocolMap["SSL"] != "SSL" ||
			reg.ProtocolMap["PLAINTEXT"] != "PLAINTEXT" || reg.Host == nil || net.JoinHostPort(*reg.Host, strconv.Itoa(reg.Port)) != b.addr {
			t.Fatalf("broker %d registered %s", b.id, data)
		}
	}

	sec := p.anon()
	sslSeeds := func() []string {
		var out []string
		for _, b := range c.running() {
			out = append(out, b.extraAddrs["SSL"])
		}
		return out
	}
	sslClient := func(opts ...kgo.Opt) *kgo.Client {
		t.Helper()
		seeds := sslSeeds()
		b := &broker{addr: seeds[0], sec: sec}
		return b.client(t, append([]kgo.Opt{kgo.SeedBrokers(seeds...)}, opts...)...)
	}

	// Metadata per listener, from a broker other than the controller.
	other := c.other(ctl)
	md := other.via("SSL", sec).dial(t).roundTrip(t, kmsg.NewPtrMetadataRequest()).(*kmsg.MetadataResponse)
	if len(md.Brokers) != 3 {
		t.Fatalf("metadata over SSL lists %d brokers", len(md.Brokers))
	}
	for _, mb := range md.Brokers {
		if want := c.broker(mb.NodeID).extraAddrs["SSL"]; net.JoinHostPort(mb.Host, strconv.Itoa(int(mb.Port))) != want {
			t.Errorf("over SSL broker %d is at %s:%d, want %s", mb.NodeID, mb.Host, mb.Port, want)
		}
	}

	const topic, parts = "tls.rf3", 3
	adm := kadm.NewClient(sslClient())
	if resp, err := adm.CreateTopic(ctx(t), parts, 3, nil, topic); err != nil || resp.Err != nil {
		t.Fatalf("create %s: %v %v", topic, err, resp.Err)
	}
	leaders := c.online(topic, parts)
	c.waitInSync(topic, 3) // the followers fetch over INTERNAL

	l := ledger{}
	produce := func(n int, tag string) {
		t.Helper()
		cl := sslClient()
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
	produce(100, "during") // acks=all with two in-sync replicas: min.insync.replicas=2

	victim.restart()
	c.waitConverged()
	c.waitInSync(topic, 3) // it caught up over TLS
	produce(50, "after")

	offs := map[int32]kgo.Offset{}
	total := 0
	for p := range int32(parts) {
		offs[p] = kgo.NewOffset().AtStart()
		total += len(l[p])
	}
	got := map[int32][]string{}
	for _, r := range pollN(t, sslClient(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offs})), int64(total)) {
		got[r.Partition] = append(got[r.Partition], string(r.Value))
	}
	for p := range int32(parts) {
		if !slices.Equal(got[p], l[p]) {
			t.Fatalf("partition %d: read %d records, acknowledged %d; first difference at %d", p, len(got[p]), len(l[p]), firstDiff(got[p], l[p]))
		}
	}

	// A dynamic keystore for one broker's inter-broker listener (KIP-226):
	// stored in /config/brokers/<id> with its password encrypted, in
	// force at once for new connections, and again after a restart, when
	// the cluster must take the broker back over mTLS with it.
	rotated := c.broker(leaders[1])
	renewed := p.ca.Issue(t, testcerts.Options{
		Subject:  pkix.Name{CommonName: fmt.Sprintf("broker-%d", rotated.id), OrganizationalUnit: []string{"brokers"}},
		DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	var alter []kadm.AlterConfig
	for _, kv := range p.keystore(t, "JKS", "INTERNAL", renewed) {
		k, v, _ := strings.Cut(kv, "=")
		alter = append(alter, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: kmsg.StringPtr(v)})
	}
	rs, err := adm.AlterBrokerConfigs(ctx(t), alter, rotated.id)
	if err == nil {
		err = rs[0].Err
	}
	if err != nil {
		t.Fatalf("dynamic keystore for broker %d: %v (%s)", rotated.id, err, rs[0].ErrMessage)
	}
	stored, _ := c.get(fmt.Sprintf("/config/brokers/%d", rotated.id))
	if !strings.Contains(string(stored), "encryptedPassword:") || strings.Contains(string(stored), "jks-store") {
		t.Fatalf("/config/brokers/%d holds %s: want the passwords encrypted", rotated.id, stored)
	}
	serial := func() string {
		t.Helper()
		cfg := p.anon().cfg.Clone()
		cfg.ServerName = "localhost"
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			cert := p.ca.Client(t, "probe").TLS()
			return &cert, nil
		}
		conn, err := tls.Dial("tcp", rotated.extraAddrs["INTERNAL"], cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	if got := serial(); got != renewed.Cert.SerialNumber.String() {
		t.Fatalf("broker %d's INTERNAL listener serves serial %s, want the dynamic keystore's", rotated.id, got)
	}
	rotated.stop()
	rotated.restart()
	c.waitConverged()
	c.waitInSync(topic, 3)
	if got := serial(); got != renewed.Cert.SerialNumber.String() {
		t.Fatalf("after a restart broker %d's INTERNAL listener serves serial %s, want the stored dynamic keystore's", rotated.id, got)
	}

	// Controlled shutdown over the inter-broker listener: the broker's
	// leaderships move away, then it exits cleanly.
	leaving := c.other(c.waitController())
	leaving.stop()
	if !strings.Contains(leaving.log.String(), "controlled shutdown done") {
		t.Errorf("broker %d stopped without a completed controlled shutdown", leaving.id)
	}
}
