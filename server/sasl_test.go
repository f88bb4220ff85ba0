package server

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"samsa/internal/testcerts"
	ssasl "samsa/security/sasl"
)

// saslProps are a broker's with a PLAINTEXT listener (the inter-broker
// one), SASL_PLAINTEXT and SASL_SSL listeners serving PLAIN (users admin
// and alice from the JAAS config) and both SCRAMs.
func saslProps(t *testing.T, ca *testcerts.CA) map[string]string {
	p := tlsProps(t, ca)
	p["listeners"] = "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0"
	p["advertised.listeners"] = "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SASL_SSL://localhost:0"
	p["listener.security.protocol.map"] = "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"
	p["sasl.enabled.mechanisms"] = "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"
	p["sasl.jaas.config"] = ssasl.PlainLoginModule + ` required user_admin="admin-secret" user_alice="alice-secret";`
	return p
}

// addScramUser stores a user's SCRAM credentials as AlterUserScramCredentials does.
func (tb *testBroker) addScramUser(user, password string) {
	tb.t.Helper()
	err := tb.creds.UpdateUserConfig(user, func(cur map[string]string) (map[string]string, error) {
		if cur == nil {
			cur = map[string]string{}
		}
		for _, m := range ssasl.ScramMechanisms {
			cred, err := m.NewCredential(password, 4096)
			if err != nil {
				return nil, err
			}
			cur[m.Name] = cred.String()
		}
		return cur, nil
	})
	if err != nil {
		tb.t.Fatal(err)
	}
	tb.userChanged(user)
}

func mechanism(name, user, password string) sasl.Mechanism {
	switch name {
	case ssasl.Plain:
		return plain.Auth{User: user, Pass: password}.AsMechanism()
	case ssasl.ScramSHA256:
		return scram.Auth{User: user, Pass: password}.AsSha256Mechanism()
	}
	return scram.Auth{User: user, Pass: password}.AsSha512Mechanism()
}

// TestSASLListeners: franz-go produces and consumes on SASL_PLAINTEXT and
// SASL_SSL with each mechanism; a wrong password is refused with Kafka's
// error and counted; the counters of /metrics follow.
func TestSASLListeners(t *testing.T) {
	ca := testcerts.NewCA(t, "server CA")
	tb := startTestBroker(t, saslProps(t, ca))
	tb.addScramUser("alice", "alice-secret")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, listener := range []string{"SASL_PLAINTEXT", "SASL_SSL"} {
		addr := tb.ListenerAddr(listener).String()
		opts := []kgo.Opt{kgo.SeedBrokers(addr), kgo.RetryTimeout(5 * time.Second), kgo.AllowAutoTopicCreation()}
		if listener == "SASL_SSL" {
			opts = append(opts, kgo.DialTLSConfig(&tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"}))
		}
		for _, mech := range ssasl.Supported {
			topic := strings.ToLower(listener + "-" + mech)
			cl, err := kgo.NewClient(append(opts, kgo.SASL(mechanism(mech, "alice", "alice-secret")),
				kgo.DefaultProduceTopic(topic), kgo.ConsumeTopics(topic))...)
			if err != nil {
				t.Fatal(err)
			}
			if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(mech)}).FirstErr(); err != nil {
				t.Fatalf("%s %s: produce: %v", listener, mech, err)
			}
			fs := cl.PollFetches(ctx)
			if recs := fs.Records(); len(recs) != 1 || string(recs[0].Value) != mech {
				t.Fatalf("%s %s: consumed %v, %v", listener, mech, recs, fs.Errors())
			}
			cl.Close()

			bad, err := kgo.NewClient(append(opts, kgo.SASL(mechanism(mech, "alice", "wrong")), kgo.RetryTimeout(time.Second))...)
			if err != nil {
				t.Fatal(err)
			}
			err = bad.Ping(ctx)
			bad.Close()
			if err == nil || !strings.Contains(err.Error(), "SASL_AUTHENTICATION_FAILED") {
				t.Fatalf("%s %s with a wrong password: %v", listener, mech, err)
			}
		}
	}
	if n := counted(t, tb, "samsa_failed_authentication_total")[""]; n < 6 {
		t.Errorf("failed authentications %v; want at least one per wrong password", n)
	}
	if n := counted(t, tb, "samsa_successful_authentication_total")[""]; n < 6 {
		t.Errorf("successful authentications %v; want at least one per client", n)
	}
}
