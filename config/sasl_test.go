package config

import (
	"slices"
	"strings"
	"testing"
	"time"

	"samsa/security/sasl"
)

func saslConfig(t *testing.T, props map[string]string) *Config {
	t.Helper()
	all := map[string]string{
		"listeners":                      "SASL_SSL://127.0.0.1:9094,INTERNAL://127.0.0.1:9095,CLIENT://127.0.0.1:9096",
		"listener.security.protocol.map": "SASL_SSL:SASL_SSL,INTERNAL:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT",
		"inter.broker.listener.name":     "INTERNAL",
	}
	for k, v := range props {
		all[k] = v
	}
	var order []string
	for k := range all {
		order = append(order, k)
	}
	slices.Sort(order)
	c, err := New(all, order)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const plainJAAS = sasl.PlainLoginModule + ` required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";`

// TestSASLFor: where each listener's mechanisms, JAAS configs and session
// lifetimes come from, Kafka's precedence: the listener and mechanism's
// own, the listener's, the broker's.
func TestSASLFor(t *testing.T) {
	c := saslConfig(t, map[string]string{
		"sasl.enabled.mechanisms":                                        "SCRAM-SHA-512",
		"sasl.jaas.config":                                               sasl.ScramLoginModule + ` required username="broker" password="b";`,
		"connections.max.reauth.ms":                                      "60000",
		"listener.name.sasl_ssl.sasl.enabled.mechanisms":                 "PLAIN,SCRAM-SHA-256,PLAIN",
		"listener.name.sasl_ssl.plain.sasl.jaas.config":                  plainJAAS,
		"listener.name.sasl_ssl.scram-sha-256.connections.max.reauth.ms": "1000",
		"listener.name.client.sasl.jaas.config":                          sasl.ScramLoginModule + ` required;`,
		"listener.name.client.connections.max.reauth.ms":                 "0",
		"sasl.mechanism.inter.broker.protocol":                           "SCRAM-SHA-512",
	})
	l, err := c.SASLFor("SASL_SSL")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.Mechanisms, []string{"PLAIN", "SCRAM-SHA-256"}) {
		t.Errorf("SASL_SSL mechanisms %v", l.Mechanisms)
	}
	if pw, ok := sasl.JAASPlainUsers(l.JAAS["PLAIN"])("alice"); !ok || pw != "alice-secret" {
		t.Errorf("SASL_SSL PLAIN users: alice %q, %v", pw, ok)
	}
	if cr, _ := sasl.JAASCredentials(l.JAAS["SCRAM-SHA-256"], sasl.ScramLoginModule); cr.Username != "broker" {
		t.Errorf("SASL_SSL SCRAM-SHA-256 falls back to sasl.jaas.config: %+v", cr)
	}
	if l.Reauth["PLAIN"] != time.Minute || l.Reauth["SCRAM-SHA-256"] != time.Second {
		t.Errorf("SASL_SSL reauth %v", l.Reauth)
	}
	l, err = c.SASLFor("CLIENT")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.Mechanisms, []string{"SCRAM-SHA-512"}) || len(l.JAAS["SCRAM-SHA-512"][0].Options) != 0 || l.Reauth["SCRAM-SHA-512"] != 0 {
		t.Errorf("CLIENT: %+v", l)
	}
	mech, cr, err := c.BrokerSASL(c.InterBrokerListener)
	if err != nil || mech != "SCRAM-SHA-512" || cr != (sasl.Credentials{Username: "broker", Password: "b"}) {
		t.Errorf("inter-broker SASL %s %+v, %v", mech, cr, err)
	}
	if err := c.ValidateSASL(); err != nil {
		t.Error(err)
	}
}

// TestSASLForRefuses: what Kafka refuses when it builds a SASL listener,
// and what this broker does not serve, each error naming the key and
// none quoting a password.
func TestSASLForRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		props map[string]string
		key   string
		why   string
	}{
		{"Kafka's default mechanism", nil, "sasl.enabled.mechanisms", "GSSAPI is not served"},
		{"OAUTHBEARER", map[string]string{"sasl.enabled.mechanisms": "PLAIN,OAUTHBEARER", "sasl.jaas.config": plainJAAS},
			"sasl.enabled.mechanisms", "OAUTHBEARER is not served"},
		{"empty list", map[string]string{"listener.name.sasl_ssl.sasl.enabled.mechanisms": ""},
			"listener.name.sasl_ssl.sasl.enabled.mechanisms", "no SASL mechanism"},
		{"PLAIN without users", map[string]string{"sasl.enabled.mechanisms": "PLAIN"},
			"listener.name.sasl_ssl.plain.sasl.jaas.config", "PLAIN needs a JAAS config"},
		{"PLAIN with a SCRAM module", map[string]string{"sasl.enabled.mechanisms": "PLAIN", "sasl.jaas.config": sasl.ScramLoginModule + " required;"},
			"listener.name.sasl_ssl.plain.sasl.jaas.config", "PLAIN needs a JAAS config"},
		{"bad JAAS", map[string]string{"sasl.enabled.mechanisms": "SCRAM-SHA-256", "sasl.jaas.config": `m required password="top-secret"`},
			"sasl.jaas.config", "not terminated by semi-colon"},
		{"two modules", map[string]string{"sasl.enabled.mechanisms": "PLAIN",
			"listener.name.sasl_ssl.plain.sasl.jaas.config": plainJAAS + plainJAAS},
			"listener.name.sasl_ssl.plain.sasl.jaas.config", "contains 2 login modules, should be 1"},
		{"bad reauth", map[string]string{"sasl.enabled.mechanisms": "SCRAM-SHA-256", "listener.name.client.scram-sha-256.connections.max.reauth.ms": "-1"},
			"listener.name.CLIENT.scram-sha-256.connections.max.reauth.ms", "milliseconds"},
		{"inter-broker mechanism not enabled", map[string]string{"sasl.enabled.mechanisms": "SCRAM-SHA-256", "sasl.mechanism.inter.broker.protocol": "PLAIN"},
			"sasl.mechanism.inter.broker.protocol", "must be included in sasl.enabled.mechanisms"},
		{"inter-broker credentials missing", map[string]string{"sasl.enabled.mechanisms": "SCRAM-SHA-256", "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-256",
			"sasl.jaas.config": sasl.ScramLoginModule + ` required username="broker";`},
			"sasl.jaas.config", "needs username and password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := saslConfig(t, tc.props).ValidateSASL()
			ce, ok := err.(*Error)
			if !ok || !strings.EqualFold(ce.Key, tc.key) || !strings.Contains(ce.Reason, tc.why) {
				t.Fatalf("ValidateSASL() = %v; want %s: ...%s...", err, tc.key, tc.why)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("the error quotes a password: %v", err)
			}
		})
	}
}
