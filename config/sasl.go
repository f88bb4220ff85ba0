package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"samsa/security"
	"samsa/security/sasl"
)

// SASLConfig is the broker-level SASL keys (Kafka's BrokerSecurityConfigs
// and SaslConfigs, broker side); SASLFor applies a listener's own.
type SASLConfig struct {
	EnabledMechanisms    []string      // sasl.enabled.mechanisms
	InterBrokerMechanism string        // sasl.mechanism.inter.broker.protocol
	JAASConfig           string        // sasl.jaas.config
	ConnectionsMaxReauth time.Duration // connections.max.reauth.ms; 0: sessions do not expire
	FailedAuthDelay      time.Duration // connection.failed.authentication.delay.ms
	MaxReceiveSize       int32         // sasl.server.max.receive.size
}

// saslDefs are the SASL keys, part of the one table.
var saslDefs = []*Def{
	{Name: "sasl.enabled.mechanisms", Default: "GSSAPI", Doc: "The SASL mechanisms SASL_PLAINTEXT and SASL_SSL listeners serve, per listener with listener.name.<l>.sasl.enabled.mechanisms: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512. Kafka's default, GSSAPI (Kerberos), is not served: a SASL listener must name its mechanisms.",
		bind: brokerField(list("mechanism names"), func(c *Config) *[]string { return &c.SASL.EnabledMechanisms })},
	{Name: "sasl.mechanism.inter.broker.protocol", Default: "GSSAPI", Doc: "The SASL mechanism brokers authenticate to each other with when the inter-broker listener is SASL_PLAINTEXT or SASL_SSL; it must be enabled on that listener, whose JAAS config for it gives the broker's username and password.",
		bind: brokerField(text("a mechanism name", nil), func(c *Config) *string { return &c.SASL.InterBrokerMechanism })},
	{Name: "sasl.jaas.config", Doc: "A JAAS config in Kafka's syntax for every SASL mechanism of every listener that has no listener.name.<l>.<mechanism>.sasl.jaas.config of its own: PlainLoginModule's user_<name>=\"<password>\" options are the PLAIN users; username and password are the broker's own credentials towards other brokers.",
		bind: brokerField(password, func(c *Config) *string { return &c.SASL.JAASConfig })},
	{Name: "connections.max.reauth.ms", Default: "0", Doc: "The longest a SASL authentication lasts (KIP-368): clients that support it re-authenticate on the open connection before then; a connection whose session expired is closed at its next request. 0: sessions do not expire. Per listener and mechanism with listener.name.<l>.<mechanism>.connections.max.reauth.ms.",
		bind: brokerField(ms(TypeLong, 0), func(c *Config) *time.Duration { return &c.SASL.ConnectionsMaxReauth })},
	{Name: "connection.failed.authentication.delay.ms", Default: "100", Doc: "How long the answer to a failed SASL authentication, and the close after it, is delayed: a client guessing passwords gets one guess per delay per connection.",
		bind: brokerField(ms(TypeInt, 0), func(c *Config) *time.Duration { return &c.SASL.FailedAuthDelay })},
	{Name: "sasl.server.max.receive.size", Default: "524288", Doc: "The largest request a SASL listener reads before the connection has authenticated; a larger one fails the authentication.",
		bind: brokerField(atLeast[int32](TypeInt, 1), func(c *Config) *int32 { return &c.SASL.MaxReceiveSize })},
}

// Kerberos keys Kafka's brokers read, meaningless without GSSAPI.
func init() {
	for _, k := range []string{"sasl.kerberos.service.name", "sasl.kerberos.kinit.cmd", "sasl.kerberos.ticket.renew.window.factor",
		"sasl.kerberos.ticket.renew.jitter", "sasl.kerberos.min.time.before.relogin", "sasl.kerberos.principal.to.local.rules"} {
		ignoredKeys[k] = "GSSAPI (Kerberos) is not served"
	}
}

// SASLListener is one SASL listener's authentication settings.
type SASLListener struct {
	// Mechanisms are the enabled mechanisms, in the order configured.
	Mechanisms []string
	// JAAS is each mechanism's JAAS config, parsed; absent for a
	// mechanism that has none (SCRAM needs none).
	JAAS map[string][]sasl.JAASEntry
	// Reauth is connections.max.reauth.ms of each mechanism.
	Reauth map[string]time.Duration
}

// saslKeyOf is the name of a SASL listener key in errors: where it was
// found.
func saslKeyOf(listener, mech, key string) string {
	if mech == "" {
		return security.ConfigPrefix(listener) + key
	}
	return security.ConfigPrefix(listener) + strings.ToLower(mech) + "." + key
}

// SASLFor is a SASL listener's settings, checked as Kafka checks them
// when it builds the listener's authenticators: the mechanisms
// (listener.name.<l>.sasl.enabled.mechanisms, else the broker's), each
// served here; each mechanism's JAAS config
// (listener.name.<l>.<mechanism>.sasl.jaas.config, else
// listener.name.<l>.sasl.jaas.config, else sasl.jaas.config) parsed, with
// one login module, which PLAIN needs; and each mechanism's
// connections.max.reauth.ms. Errors never quote a JAAS value: it holds
// passwords.
func (c *Config) SASLFor(listener string) (SASLListener, error) {
	own := c.ListenerOverrides[listener]
	mechs := c.SASL.EnabledMechanisms
	key := "sasl.enabled.mechanisms"
	if v, ok := own["sasl.enabled.mechanisms"]; ok {
		mechs, key = splitList(v), saslKeyOf(listener, "", "sasl.enabled.mechanisms")
	}
	l := SASLListener{JAAS: map[string][]sasl.JAASEntry{}, Reauth: map[string]time.Duration{}}
	if len(mechs) == 0 {
		return l, &Error{Key: key, Value: "", Reason: "no SASL mechanism is enabled on listener " + listener}
	}
	for _, m := range mechs {
		if !sasl.IsSupported(m) {
			return l, &Error{Key: key, Value: strings.Join(mechs, ","),
				Reason: fmt.Sprintf("%s is not served on listener %s: %s are", m, listener, strings.Join(sasl.Supported, ", "))}
		}
		if slices.Contains(l.Mechanisms, m) {
			continue
		}
		l.Mechanisms = append(l.Mechanisms, m)
		text, where := c.jaasText(listener, m)
		if text != "" {
			es, err := sasl.ParseJAAS(text)
			if err != nil {
				return l, &Error{Key: where, Value: "[hidden]", Reason: err.Error()}
			}
			if len(es) != 1 {
				return l, &Error{Key: where, Value: "[hidden]", Reason: fmt.Sprintf("JAAS config property contains %d login modules, should be 1 module", len(es))}
			}
			l.JAAS[m] = es
		}
		if m == sasl.Plain {
			if es := l.JAAS[m]; len(es) == 0 || es[0].Module != sasl.PlainLoginModule {
				return l, &Error{Key: saslKeyOf(listener, m, "sasl.jaas.config"), Value: "",
					Reason: "PLAIN needs a JAAS config of " + sasl.PlainLoginModule + " whose user_<name> options are its users"}
			}
		}
		l.Reauth[m] = c.SASL.ConnectionsMaxReauth
		for _, k := range []string{"connections.max.reauth.ms", strings.ToLower(m) + ".connections.max.reauth.ms"} {
			if v, ok := own[k]; ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n < 0 {
					return l, &Error{Key: security.ConfigPrefix(listener) + k, Value: v, Reason: "must be a number of milliseconds, 0 or more"}
				}
				l.Reauth[m] = time.Duration(n) * time.Millisecond
			}
		}
	}
	return l, nil
}

// jaasText is a listener's JAAS config for a mechanism and the key it
// came from.
func (c *Config) jaasText(listener, mech string) (text, key string) {
	own := c.ListenerOverrides[listener]
	if v, ok := own[strings.ToLower(mech)+".sasl.jaas.config"]; ok {
		return v, saslKeyOf(listener, mech, "sasl.jaas.config")
	}
	if v, ok := own["sasl.jaas.config"]; ok {
		return v, saslKeyOf(listener, "", "sasl.jaas.config")
	}
	return c.SASL.JAASConfig, "sasl.jaas.config"
}

// BrokerSASL is how this broker authenticates to the other brokers'
// listener of that name (the inter-broker or control plane listener) when
// it is SASL_*: the mechanism (sasl.mechanism.inter.broker.protocol) and
// the username and password of that listener's JAAS config for it.
func (c *Config) BrokerSASL(listener string) (string, sasl.Credentials, error) {
	return c.brokerSASL(listener)
}

func (c *Config) brokerSASL(listener string) (string, sasl.Credentials, error) {
	mech := c.SASL.InterBrokerMechanism
	l, err := c.SASLFor(listener)
	if err != nil {
		return "", sasl.Credentials{}, err
	}
	if !slices.Contains(l.Mechanisms, mech) {
		return "", sasl.Credentials{}, &Error{Key: "sasl.mechanism.inter.broker.protocol", Value: mech,
			Reason: fmt.Sprintf("sasl.mechanism.inter.broker.protocol must be included in sasl.enabled.mechanisms when SASL is used for inter-broker communication (listener %s enables %s)", listener, strings.Join(l.Mechanisms, ","))}
	}
	module := sasl.ScramLoginModule
	if mech == sasl.Plain {
		module = sasl.PlainLoginModule
	}
	cr, ok := sasl.JAASCredentials(l.JAAS[mech], module)
	if !ok {
		_, where := c.jaasText(listener, mech)
		return "", sasl.Credentials{}, &Error{Key: where, Value: "[hidden]",
			Reason: fmt.Sprintf("the broker connects to other brokers' listener %s with %s: the JAAS config of %s needs username and password options", listener, mech, module)}
	}
	return mech, cr, nil
}

// ValidateSASL checks every SASL listener, and the inter-broker and
// control plane listeners' client side when they are SASL, as Kafka checks
// them when it builds its listeners: the broker calls it before it binds
// any.
func (c *Config) ValidateSASL() error {
	for _, l := range c.Listeners {
		if l.Protocol.SASL() {
			if _, err := c.SASLFor(l.Name); err != nil {
				return err
			}
		}
	}
	for _, l := range []string{c.InterBrokerListener, c.ControlPlaneListener} {
		if l != "" && c.ListenerProtocols[l].SASL() {
			if _, _, err := c.brokerSASL(l); err != nil {
				return err
			}
		}
	}
	return nil
}
