package itest

// SASL listeners with real clients: kcat and confluent-kafka (librdkafka),
// kafka-python, sarama and franz-go over SASL_PLAINTEXT and SASL_SSL with
// PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512; kafkajs over SASL_SSL with
// SCRAM; users made with samsa user; bad input on a SASL port (bytes
// before the handshake, wrong passwords in a loop with the failure delay,
// truncated and reordered SCRAM messages, an unknown mechanism, a request
// before authentication); ACLs on SASL users; re-authentication
// (KIP-368). The cluster over SASL_SSL is sasl_cluster_test.go.

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	fsasl "github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	xscram "github.com/xdg-go/scram"

	"samsa/security/sasl"
)

var saslMechanisms = []string{sasl.Plain, sasl.ScramSHA256, sasl.ScramSHA512}

// kgoSASL is franz-go's mechanism of a name.
func kgoSASL(mech, user, pass string) fsasl.Mechanism {
	switch mech {
	case sasl.Plain:
		return plain.Auth{User: user, Pass: pass}.AsMechanism()
	case sasl.ScramSHA256:
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
	}
	return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
}

// saramaSCRAM is sarama's SCRAMClient over github.com/xdg-go/scram, as
// sarama's own example builds it.
type saramaSCRAM struct {
	hash xscram.HashGeneratorFcn
	conv *xscram.ClientConversation
}

func (s *saramaSCRAM) Begin(user, pass, authz string) error {
	c, err := s.hash.NewClient(user, pass, authz)
	if err != nil {
		return err
	}
	s.conv = c.NewConversation()
	return nil
}

func (s *saramaSCRAM) Step(challenge string) (string, error) { return s.conv.Step(challenge) }
func (s *saramaSCRAM) Done() bool                            { return s.conv.Done() }

// saramaSASL sets sarama's SASL (handshake v1, SaslAuthenticate).
func saramaSASL(cfg *sarama.Config, mech, user, pass string) {
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Handshake = true
	cfg.Net.SASL.Version = sarama.SASLHandshakeV1
	cfg.Net.SASL.User, cfg.Net.SASL.Password = user, pass
	cfg.Net.SASL.Mechanism = sarama.SASLMechanism(mech)
	switch mech {
	case sasl.ScramSHA256:
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &saramaSCRAM{hash: xscram.SHA256} }
	case sasl.ScramSHA512:
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &saramaSCRAM{hash: xscram.SHA512} }
	}
}

// authenticate runs a SASL exchange on a raw connection: SaslHandshake v1,
// then SaslAuthenticate v1 until the mechanism is done.
func (c *rawConn) authenticate(t testing.TB, mech, user, pass string) {
	t.Helper()
	if err := c.tryAuthenticate(t, mech, user, pass); err != nil {
		t.Fatalf("SASL %s as %s: %v", mech, user, err)
	}
}

func (c *rawConn) tryAuthenticate(t testing.TB, mech, user, pass string) error {
	t.Helper()
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.SetVersion(1)
	hs.Mechanism = mech
	if r := c.roundTrip(t, hs).(*kmsg.SASLHandshakeResponse); r.ErrorCode != 0 {
		return kerr.ErrorForCode(r.ErrorCode)
	}
	cl, err := sasl.NewClient(mech, sasl.Credentials{Username: user, Password: pass})
	if err != nil {
		return err
	}
	var challenge []byte
	for {
		tok, done, err := cl.Step(challenge)
		if err != nil || done && tok == nil {
			return err
		}
		au := kmsg.NewPtrSASLAuthenticateRequest()
		au.SetVersion(1)
		au.SASLAuthBytes = tok
		r := c.roundTrip(t, au).(*kmsg.SASLAuthenticateResponse)
		if r.ErrorCode != 0 {
			return fmt.Errorf("%w: %s", kerr.ErrorForCode(r.ErrorCode), *r.ErrorMessage)
		}
		challenge = r.SASLAuthBytes
	}
}

// saslSec is how a client reaches a SASL listener as user: over tls
// (nil: SASL_PLAINTEXT) with mech.
func saslSec(tls *clientSec, mech, user, pass string) *clientSec {
	s := &clientSec{mech: mech, user: user, pass: pass}
	if tls != nil {
		s.caFile, s.cfg = tls.caFile, tls.cfg
	}
	return s
}

// saslBroker is a broker with SASL_PLAINTEXT and SASL_SSL listeners
// serving PLAIN (users of the JAAS config) and both SCRAMs (users made
// with samsa user, through the PLAINTEXT listener), beside PLAINTEXT.
type saslBroker struct {
	*broker
	p *pki
}

// saslUsers are the users every SASL broker of these tests knows, with
// their passwords, by PLAIN and by SCRAM.
var saslUsers = map[string]string{"alice": "alice-secret", "bob": "bob-secret"}

func startSASLBroker(t testing.TB, overrides ...string) *saslBroker {
	t.Helper()
	p := newPKI(t)
	jaas := sasl.PlainLoginModule + ` required user_alice="alice-secret" user_bob="bob-secret";`
	o := append(p.keystore(t, "PKCS12", "", p.ca.Server(t, "localhost")),
		"num.partitions=3",
		"sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
		"listener.name.sasl_plaintext.plain.sasl.jaas.config="+jaas,
		"listener.name.sasl_ssl.plain.sasl.jaas.config="+jaas)
	b := startListenersBroker(t, []string{"SASL_PLAINTEXT", "SASL_SSL"}, append(o, overrides...)...)
	for user, pass := range saslUsers {
		runCmd(t, nil, samsaBin, "user", "create", user, "--new-password", pass,
			"--mechanism", "SCRAM-SHA-256,SCRAM-SHA-512", "--iterations", "8192", "-b", b.addr)
	}
	return &saslBroker{broker: b, p: p}
}

// as is the broker as user sees it on listener (SASL_PLAINTEXT or
// SASL_SSL) with mech.
func (b *saslBroker) as(listener, mech, user string) *broker {
	var tls *clientSec
	if listener == "SASL_SSL" {
		tls = b.p.anon()
	}
	return b.via(listener, saslSec(tls, mech, user, saslUsers[user]))
}

// TestSASLClients: every client library and tool produces and consumes
// over SASL_PLAINTEXT and SASL_SSL with each mechanism, every record
// compared; each authentication is counted.
func TestSASLClients(t *testing.T) {
	b := startSASLBroker(t)
	before := b.metric(t, "samsa_successful_authentication_total")
	t.Run("group", func(t *testing.T) {
		for _, name := range []string{"kcat", "confluent", "kafka-python", "sarama", "franz-go"} {
			c := clients[name]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				for _, listener := range []string{"SASL_PLAINTEXT", "SASL_SSL"} {
					for _, mech := range saslMechanisms {
						t.Run(listener+"/"+mech, func(t *testing.T) {
							roundTrip(t, b.as(listener, mech, "alice"), strings.ToLower("sasl."+name+"."+listener+"."+mech), c, c)
						})
					}
				}
			})
		}
	})
	if after := b.metric(t, "samsa_successful_authentication_total"); after < before+30 {
		t.Errorf("successful authentications went from %v to %v; want one per client connection at least", before, after)
	}
	if n := b.metric(t, "samsa_failed_authentication_total"); n != 0 {
		t.Errorf("%v failed authentications", n)
	}
}

// TestSASLKafkajs: kafkajs produces over SASL_SSL with each SCRAM
// mechanism, and a consumer group of kafkajs reads it back.
func TestSASLKafkajs(t *testing.T) {
	b := startSASLBroker(t)
	for _, mech := range []string{sasl.ScramSHA256, sasl.ScramSHA512} {
		t.Run(mech, func(t *testing.T) {
			topic := "kafkajs." + strings.ToLower(mech)
			vb := b.as("SASL_SSL", mech, "alice")
			vb.newTopic(t, topic, 2, nil)
			env := []string{"KAFKAJS_SSL_CA=" + b.p.caFile, "KAFKAJS_SASL_MECHANISM=" + strings.ToLower(mech),
				"KAFKAJS_SASL_USERNAME=alice", "KAFKAJS_SASL_PASSWORD=" + saslUsers["alice"]}
			var msgs []map[string]any
			for i := range 10 {
				msgs = append(msgs, map[string]any{"key": []byte(fmt.Sprintf("k%d", i)), "value": []byte(fmt.Sprintf("v%d", i)), "headers": [][2]string{}})
			}
			stdin := mustJSON(t, map[string]any{"sends": []any{msgs}})
			var produced struct {
				Reports [][]struct {
					Partition int32 `json:"partition"`
					ErrorCode int16 `json:"errorCode"`
				} `json:"reports"`
			}
			startKafkajsEnv(t, env, stdin, "produce.js", vb.addr, topic).wait(t, &produced)
			if len(produced.Reports) != 1 || len(produced.Reports[0]) == 0 {
				t.Fatalf("produce reports %+v", produced)
			}
			for _, r := range produced.Reports[0] {
				if r.ErrorCode != 0 {
					t.Fatalf("produce report %+v", r)
				}
			}
			var group struct {
				Members []struct {
					Records []jsRecord `json:"records"`
				} `json:"members"`
			}
			startKafkajsEnv(t, env, nil, "group.js", vb.addr, topic, "kafkajs-sasl-"+strings.ToLower(mech), "1", "10").wait(t, &group)
			n := 0
			for _, m := range group.Members {
				n += len(m.Records)
			}
			if n != 10 {
				t.Fatalf("the kafkajs group read %d records, want 10", n)
			}
		})
	}
}

// TestSASLBadInput: on a SASL_SSL listener, what is no SASL exchange, a
// wrong password (again and again, each refusal delayed), truncated and
// reordered SCRAM messages, an unknown mechanism and a request before
// authentication each get a clean error or a closed connection; nothing
// is served to them, failures are counted and logged, and a good client
// on the same listener is served throughout, without the delay.
func TestSASLBadInput(t *testing.T) {
	const delay = 300 * time.Millisecond
	b := startSASLBroker(t, fmt.Sprintf("connection.failed.authentication.delay.ms=%d", delay.Milliseconds()))
	good := b.as("SASL_SSL", sasl.ScramSHA256, "alice")
	good.newTopic(t, "sasl.bad.input", 1, nil)
	cl := good.client(t)
	n := 0
	healthy := func(after string) {
		t.Helper()
		n++
		start := time.Now()
		produceSync(t, cl, &kgo.Record{Topic: "sasl.bad.input", Value: []byte(after)})
		if d := time.Since(start); d >= delay {
			t.Logf("note: a produce after %s took %v (the machine is busy, or the delay leaked)", after, d)
		}
	}
	healthy("start")
	anonSSL := b.via("SASL_SSL", b.p.anon())
	dial := func() *rawConn { return anonSSL.dialFrom(t, "") }
	failuresBefore := b.metric(t, "samsa_failed_authentication_total")

	// SASL bytes before the handshake: a PLAIN token as the first frame.
	c := dial()
	c.Write(frameOf([]byte("\x00alice\x00alice-secret")))
	expectClosed(t, c, "a PLAIN token before the handshake")
	healthy("a PLAIN token before the handshake")

	// A request before authentication.
	c = dial()
	c.send(t, kmsg.NewPtrMetadataRequest())
	expectClosed(t, c, "Metadata before authentication")
	healthy("Metadata before authentication")

	// An unknown mechanism: UNSUPPORTED_SASL_MECHANISM with the enabled ones.
	c = dial()
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.SetVersion(1)
	hs.Mechanism = "GSSAPI"
	r := c.roundTrip(t, hs).(*kmsg.SASLHandshakeResponse)
	if r.ErrorCode != kerr.UnsupportedSaslMechanism.Code || strings.Join(r.SupportedMechanisms, ",") != "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512" {
		t.Fatalf("GSSAPI: %+v", r)
	}
	expectClosed(t, c, "an unknown mechanism")

	// Truncated and reordered SCRAM messages.
	for _, msgs := range [][]string{
		{"c=biws,r=abc,p=AAAA"},                  // the final message first
		{"n,,n=alice,r=x", "c=biws,r=x"},         // a truncated final message (and a wrong nonce)
		{"n,,n=ali"},                             // a truncated first message
		{"n,,n=alice,r=abc", "n,,n=alice,r=abc"}, // the first message twice
		{"n,,n=alice,r=abc", "c=biws,r=abcdef,p=" + strings.Repeat("A", 44)}, // a proof of the wrong nonce
	} {
		c = dial()
		hs.Mechanism = sasl.ScramSHA256
		if r := c.roundTrip(t, hs).(*kmsg.SASLHandshakeResponse); r.ErrorCode != 0 {
			t.Fatalf("handshake: %v", kerr.ErrorForCode(r.ErrorCode))
		}
		var code int16
		for _, m := range msgs {
			au := kmsg.NewPtrSASLAuthenticateRequest()
			au.SetVersion(1)
			au.SASLAuthBytes = []byte(m)
			if code = c.roundTrip(t, au).(*kmsg.SASLAuthenticateResponse).ErrorCode; code != 0 {
				break
			}
		}
		if code != kerr.SaslAuthenticationFailed.Code {
			t.Fatalf("SCRAM messages %q: error %v", msgs, kerr.ErrorForCode(code))
		}
		expectClosed(t, c, fmt.Sprintf("SCRAM messages %q", msgs))
		healthy(fmt.Sprintf("SCRAM messages %q", msgs))
	}

	// Wrong passwords, many times and at once: each answered no sooner
	// than the delay, while the good client keeps producing.
	const attempts = 8
	var wg sync.WaitGroup
	var tooSoon atomic.Int32
	for i := range attempts {
		wg.Go(func() {
			c := anonSSL.dialFrom(t, "")
			start := time.Now()
			err := c.tryAuthenticate(t, saslMechanisms[i%3], "alice", "wrong")
			if !errors.Is(err, kerr.SaslAuthenticationFailed) {
				t.Errorf("a wrong password: %v", err)
			}
			if time.Since(start) < delay {
				tooSoon.Add(1)
			}
		})
	}
	for i := range 5 {
		healthy(fmt.Sprintf("wrong passwords (%d)", i))
	}
	wg.Wait()
	if tooSoon.Load() > 0 {
		t.Errorf("%d refusals came sooner than connection.failed.authentication.delay.ms", tooSoon.Load())
	}
	// 1 PLAIN before the handshake and Metadata: closed, not failures;
	// GSSAPI, 5 SCRAM sequences and the wrong passwords are.
	want := failuresBefore + 1 + 5 + attempts
	waitFor(t, fmt.Sprintf("%v failed authentications", want), 10*time.Second, func() bool {
		return b.metric(t, "samsa_failed_authentication_total") >= want
	})
	if !strings.Contains(b.log.String(), "failed authentication") {
		t.Error("the broker did not log the failed authentications")
	}
	records := consumeAll(t, good, "sasl.bad.input")
	if len(records) != n {
		t.Fatalf("the good client's %d records, %d read back", n, len(records))
	}
}

func frameOf(b []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

// expectClosed fails unless the broker closes c without answering.
func expectClosed(t testing.TB, c *rawConn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var buf [64]byte
	n, err := c.Read(buf[:])
	if n > 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: read %d bytes (% x), %v; want the connection closed", what, n, buf[:n], err)
	}
}

// consumeAll reads every record of a one-partition topic.
func consumeAll(t testing.TB, b *broker, topic string) []*kgo.Record {
	t.Helper()
	end := b.endOffset(t, topic, 0)
	if end == 0 {
		return nil
	}
	return pollN(t, b.client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}})), end)
}

// TestSASLACLs: with the authorizer on, SASL users are principals: alice,
// allowed to write and read topic orders (samsa acl create), does; bob is
// refused with TOPIC_AUTHORIZATION_FAILED by every mechanism, and sees no
// topic in Metadata.
func TestSASLACLs(t *testing.T) {
	b := startSASLBroker(t, "authorizer.class.name=kafka.security.authorizer.AclAuthorizer",
		"super.users=User:ANONYMOUS") // the PLAINTEXT listener administers
	b.newTopic(t, "orders", 1, nil)
	runCmd(t, nil, samsaBin, "acl", "create", "--allow-principal", "alice", "--operation", "write,read,describe", "--topic", "orders", "-b", b.addr)
	runCmd(t, nil, samsaBin, "acl", "create", "--allow-principal", "alice", "--operation", "read", "--group", "orders-readers", "-b", b.addr)
	for _, mech := range saslMechanisms {
		t.Run(mech, func(t *testing.T) {
			alice := b.as("SASL_SSL", mech, "alice")
			produceSync(t, alice.client(t), &kgo.Record{Topic: "orders", Value: []byte("from alice over " + mech)})

			bob := b.as("SASL_SSL", mech, "bob")
			res := bob.client(t, kgo.RecordRetries(0)).ProduceSync(ctx(t), &kgo.Record{Topic: "orders", Value: []byte("from bob")})
			if err := res.FirstErr(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
				t.Fatalf("bob's produce: %v; want TOPIC_AUTHORIZATION_FAILED", err)
			}
			c := bob.dial(t)
			md := c.roundTrip(t, kmsg.NewPtrMetadataRequest()).(*kmsg.MetadataResponse)
			if len(md.Topics) != 0 {
				t.Fatalf("bob sees topics %v", md.Topics)
			}
		})
	}
	got := pollN(t, b.as("SASL_SSL", sasl.ScramSHA512, "alice").client(t, kgo.ConsumeTopics("orders"), kgo.ConsumerGroup("orders-readers")), 3)
	for _, r := range got {
		if !strings.HasPrefix(string(r.Value), "from alice") {
			t.Fatalf("read %q", r.Value)
		}
	}
	if !strings.Contains(b.log.String(), "Principal = User:bob is Denied Operation = Describe") {
		t.Error("the authorizer's log does not show User:bob denied")
	}
}

// TestSASLReauthentication (KIP-368): with connections.max.reauth.ms the
// broker gives each session a lifetime; franz-go re-authenticates on its
// open connections before it ends, so a producer keeps going across
// several lifetimes and no connection is closed for an expired session.
// A client that does not re-authenticate (librdkafka with the raw v0
// framing would not; a raw connection here) is closed at its first
// request after the expiry.
func TestSASLReauthentication(t *testing.T) {
	const lifetime = 2 * time.Second
	b := startSASLBroker(t, fmt.Sprintf("connections.max.reauth.ms=%d", lifetime.Milliseconds()))
	alice := b.as("SASL_SSL", sasl.ScramSHA512, "alice")
	alice.newTopic(t, "reauth", 1, nil)
	cl := alice.client(t)
	before := b.metric(t, "samsa_successful_authentication_total")
	start := time.Now()
	sent := 0
	for time.Since(start) < 3*lifetime {
		produceSync(t, cl, &kgo.Record{Topic: "reauth", Value: []byte(fmt.Sprint(sent))})
		sent++
		time.Sleep(50 * time.Millisecond) // a steady producer, not a synchronisation
	}
	if n := b.metric(t, "samsa_successful_authentication_total"); n < before+2 {
		t.Errorf("%v authentications over three session lifetimes; want re-authentications", n-before)
	}
	if n := b.metric(t, "samsa_expired_connections_killed_total"); n != 0 {
		t.Errorf("%v connections closed for an expired session", n)
	}

	raw := alice.dial(t)
	raw.roundTrip(t, kmsg.NewPtrMetadataRequest())
	waitFor(t, "the raw connection's session to expire", 3*lifetime, func() bool {
		raw.send(t, kmsg.NewPtrApiVersionsRequest())
		_, err := raw.readFrame(5 * time.Second)
		return err != nil
	})
	waitFor(t, "the expired session counted", 10*time.Second, func() bool {
		return b.metric(t, "samsa_expired_connections_killed_total") >= 1
	})
	if got := consumeAll(t, alice, "reauth"); len(got) != sent {
		t.Fatalf("%d records sent, %d read back", sent, len(got))
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// endOffset is a partition's high watermark.
func (b *broker) endOffset(t testing.TB, topic string, partition int32) int64 {
	t.Helper()
	ends, err := b.admin(t).ListEndOffsets(ctx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := ends.Lookup(topic, partition)
	if !ok || o.Err != nil {
		t.Fatalf("end offset of %s-%d: %v", topic, partition, o.Err)
	}
	return o.Offset
}
