package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"samsa/security"
)

// Listener is one entry of listeners or advertised.listeners.
type Listener = security.Endpoint

// listenerText holds the listener keys as configured; validate resolves
// them together once every key is set (the protocol map decides what a
// listener name means).
type listenerText struct {
	listeners, advertised, protocolMap   string
	interBrokerName, interBrokerProtocol string
	controlPlaneName                     string
}

// securityDefs are the keys of listeners and TLS (Kafka's SocketServerConfigs
// and SslConfigs, broker side), part of the one table.
var securityDefs = []*Def{
	{Name: "listeners", Default: "PLAINTEXT://127.0.0.1:9092", Doc: "The listeners the broker binds, NAME://host:port,... (an empty host binds every interface; port 0 takes a free port). Each name is a security protocol or is mapped to one by listener.security.protocol.map.",
		bind: custom(TypeString, "NAME://host:port,...", func(c *Config, v string) error { c.listenerText.listeners = v; return nil },
			func(c *Config) *string { return nullable(c.listenerText.listeners) })},
	{Name: "advertised.listeners", DefaultFrom: "listeners", Doc: "The endpoints clients and other brokers are told to connect to, per listener; listeners when unset. Their names must be listeners' names. The broker fills in an advertised port 0 with the port it bound; listeners still shows what was configured.",
		bind: custom(TypeString, "NAME://host:port,...", func(c *Config, v string) error { c.listenerText.advertised = v; return nil },
			func(c *Config) *string {
				if c.AdvertisedListeners != nil {
					return describeListeners(c.AdvertisedListeners)
				}
				return nullable(c.listenerText.advertised)
			})},
	{Name: "listener.security.protocol.map", Default: security.DefaultProtocolMap, Doc: "The security protocol of each listener name, NAME:PROTOCOL,... (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL). The default maps each protocol's name to itself.",
		bind: custom(TypeString, "NAME:PROTOCOL,...", func(c *Config, v string) error { c.listenerText.protocolMap = v; return nil },
			func(c *Config) *string { return nullable(c.listenerText.protocolMap) })},
	{Name: "inter.broker.listener.name", Doc: "The listener brokers reach each other on (follower fetches, AlterPartition, controlled shutdown, the controller's requests). Exclusive with security.inter.broker.protocol; must be an advertised listener.",
		bind: brokerField(text("a listener name", nil), func(c *Config) *string { return &c.listenerText.interBrokerName })},
	{Name: "security.inter.broker.protocol", Default: "PLAINTEXT", Doc: "The security protocol brokers reach each other with, when inter.broker.listener.name is unset: the listener named after it is the inter-broker listener.",
		bind: brokerField(oneOf("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"), func(c *Config) *string { return &c.listenerText.interBrokerProtocol })},
	{Name: "control.plane.listener.name", Doc: "A listener for the controller's requests alone (LeaderAndIsr, UpdateMetadata, StopReplica), so that they do not queue behind data traffic; unset, they use the inter-broker listener. Must be an advertised listener other than the inter-broker one.",
		bind: brokerField(text("a listener name", nil), func(c *Config) *string { return &c.listenerText.controlPlaneName })},

	{Name: "ssl.protocol", Default: "TLSv1.3", Doc: "Kafka's SSLContext protocol; accepted and checked, the versions used are ssl.enabled.protocols'.",
		bind: brokerField(oneOf("TLS", "TLSv1.2", "TLSv1.3"), func(c *Config) *string { return &c.SSL.Protocol })},
	{Name: "ssl.enabled.protocols", Default: "TLSv1.2,TLSv1.3", Doc: "TLS versions TLS listeners and inter-broker connections accept (TLSv1.2, TLSv1.3; TLSv1 and TLSv1.1 are refused by clients worth having). Go takes a range: the versions between the lowest and highest listed.",
		bind: brokerField(list("TLSv1.2,TLSv1.3"), func(c *Config) *[]string { return &c.SSL.EnabledProtocols })},
	{Name: "ssl.cipher.suites", Doc: "TLS 1.2 cipher suites to allow, by their IANA names (Java's names); empty allows Go's secure defaults. TLS 1.3 suites are accepted but not selectable in Go.",
		bind: brokerField(list("cipher suite names"), func(c *Config) *[]string { return &c.SSL.CipherSuites })},
	{Name: "ssl.client.auth", Default: "none", Doc: "Client certificates on TLS listeners: none, requested (verified when sent) or required (mTLS). The principal is the certificate's subject mapped by ssl.principal.mapping.rules. On SASL_SSL listeners only listener.name.<l>.ssl.client.auth applies (KIP-684).",
		bind: brokerField(oneOf("none", "requested", "required"), func(c *Config) *string { return &c.SSL.ClientAuth })},
	{Name: "ssl.endpoint.identification.algorithm", Default: "https", Doc: "https: a broker connecting to another broker's TLS listener checks that the certificate names the host it dialed; empty: only that it chains to the truststore.",
		bind: brokerField(text("https or empty", func(v string) error {
			if v != "" && !strings.EqualFold(v, "https") {
				return fmt.Errorf("must be https or empty")
			}
			return nil
		}), func(c *Config) *string { return &c.SSL.EndpointIdentification })},
	{Name: "ssl.principal.mapping.rules", Default: "DEFAULT", Doc: "Rules mapping a client certificate's subject (RFC 2253, as Java writes it) to a principal name: RULE:pattern/replacement/[LU],...,DEFAULT, Kafka's syntax. Patterns are Go regular expressions (RE2): Java's lookarounds and backreferences are refused.",
		bind: brokerField(text("rules", func(v string) error {
			_, err := security.ParseMappingRules(v)
			return err
		}), func(c *Config) *string { return &c.SSL.PrincipalMappingRules })},
	{Name: "ssl.keystore.type", Default: "JKS", Doc: "Format of the keystore: JKS, PKCS12 or PEM.",
		bind: brokerField(storeType, func(c *Config) *string { return &c.SSL.Keystore.Type })},
	{Name: "ssl.keystore.location", Doc: "The keystore file: the broker's private key and certificate chain.",
		bind: brokerField(text("a file", nil), func(c *Config) *string { return &c.SSL.Keystore.Location })},
	{Name: "ssl.keystore.password", Doc: "The keystore's password (JKS, PKCS12; not for PEM).",
		bind: brokerField(password, func(c *Config) *string { return &c.SSL.Keystore.Password })},
	{Name: "ssl.key.password", Doc: "The private key's password: a JKS key entry's (the keystore's password when unset), or an encrypted PKCS#8 PEM key's.",
		bind: brokerField(password, func(c *Config) *string { return &c.SSL.Keystore.KeyPassword })},
	{Name: "ssl.keystore.key", Doc: "The private key in PEM (PKCS#8, encrypted under ssl.key.password or not), with ssl.keystore.type=PEM and ssl.keystore.certificate.chain, instead of a keystore file.",
		bind: brokerField(password, func(c *Config) *string { return &c.SSL.Keystore.Key })},
	{Name: "ssl.keystore.certificate.chain", Doc: "The certificate chain in PEM, with ssl.keystore.key.",
		bind: brokerField(password, func(c *Config) *string { return &c.SSL.Keystore.CertificateChain })},
	{Name: "ssl.truststore.type", Default: "JKS", Doc: "Format of the truststore: JKS, PKCS12 or PEM.",
		bind: brokerField(storeType, func(c *Config) *string { return &c.SSL.Truststore.Type })},
	{Name: "ssl.truststore.location", Doc: "The truststore file: the CAs client certificates (and, for inter-broker connections, brokers' certificates) must chain to. Unset: the system's CAs.",
		bind: brokerField(text("a file", nil), func(c *Config) *string { return &c.SSL.Truststore.Location })},
	{Name: "ssl.truststore.password", Doc: "The truststore's password; a JKS truststore without one is read unchecked, as Java does.",
		bind: brokerField(password, func(c *Config) *string { return &c.SSL.Truststore.Password })},
	{Name: "ssl.truststore.certificates", Doc: "Trusted certificates in PEM, with ssl.truststore.type=PEM, instead of a truststore file.",
		bind: brokerField(password, func(c *Config) *string { return &c.SSL.Truststore.Certificates })},
	{Name: "ssl.allow.dn.changes", Default: "false", Doc: "Whether a dynamic keystore update may change the certificate's subject.",
		bind: brokerField(boolean, func(c *Config) *bool { return &c.SSL.AllowDNChanges })},
	{Name: "password.encoder.secret", ZooKeeper: true, Doc: "The secret dynamic password configs (a listener's ssl.keystore.password, ...) are encrypted with when stored in ZooKeeper under /config/brokers/<id>, in Kafka's format; without it they are refused there, as Kafka does.",
		bind: brokerField(password, func(c *Config) *string { return &c.PasswordEncoder.Secret })},
	{Name: "password.encoder.old.secret", ZooKeeper: true, Doc: "The previous password.encoder.secret: stored passwords it encrypted are still read after a change of secret.",
		bind: brokerField(password, func(c *Config) *string { return &c.PasswordEncoderOldSecret })},
	{Name: "password.encoder.cipher.algorithm", Default: "AES/CBC/PKCS5Padding", ZooKeeper: true, Doc: "Cipher of stored dynamic passwords.",
		bind: brokerField(oneOf("AES/CBC/PKCS5Padding", "AES/GCM/NoPadding"), func(c *Config) *string { return &c.PasswordEncoder.Cipher })},
	{Name: "password.encoder.keyfactory.algorithm", ZooKeeper: true, Doc: "Key derivation of stored dynamic passwords: PBKDF2WithHmacSHA512 when unset, or PBKDF2WithHmacSHA1.",
		bind: brokerField(text("PBKDF2WithHmacSHA512 or PBKDF2WithHmacSHA1", func(v string) error {
			if v != "" && v != "PBKDF2WithHmacSHA512" && v != "PBKDF2WithHmacSHA1" {
				return fmt.Errorf("must be PBKDF2WithHmacSHA512 or PBKDF2WithHmacSHA1")
			}
			return nil
		}), func(c *Config) *string { return &c.PasswordEncoder.KeyFactory })},
	{Name: "password.encoder.key.length", Default: "128", ZooKeeper: true, Doc: "Key length, in bits, of stored dynamic passwords' cipher: 128, 192 or 256.",
		bind: brokerField(intIn[int](TypeInt, 8, 256), func(c *Config) *int { return &c.PasswordEncoder.KeyLength })},
	{Name: "password.encoder.iterations", Default: "4096", ZooKeeper: true, Doc: "PBKDF2 iterations of stored dynamic passwords' key.",
		bind: brokerField(intIn[int](TypeInt, 1024, 1_000_000), func(c *Config) *int { return &c.PasswordEncoder.Iterations })},
	{Name: "ssl.allow.san.changes", Default: "false", Doc: "Whether a dynamic keystore update may drop subject alternative names of the certificate.",
		bind: brokerField(boolean, func(c *Config) *bool { return &c.SSL.AllowSANChanges })},
}

// Java plumbing Kafka exposes that has no meaning in Go: accepted, unused.
func init() {
	for k, why := range map[string]string{
		"ssl.provider":                     "Go's crypto/tls is the only provider",
		"ssl.keymanager.algorithm":         "Go's crypto/tls has no key manager factories",
		"ssl.trustmanager.algorithm":       "Go's crypto/tls has no trust manager factories",
		"ssl.secure.random.implementation": "crypto/rand is always used",
		"ssl.engine.factory.class":         "no pluggable SSL engines",
	} {
		ignoredKeys[k] = why
	}
}

var storeType = kind[string]{typ: TypeString, valid: "JKS, PKCS12, PEM", options: []string{"JKS", "PKCS12", "PEM"},
	parse: func(v string) (string, error) {
		switch u := strings.ToUpper(v); u {
		case "JKS", "PKCS12", "PEM":
			return u, nil
		}
		return "", fmt.Errorf("must be JKS, PKCS12 or PEM")
	},
	format: func(s string) string { return s },
}

// password is a secret: DescribeConfigs never shows its value.
var password = kind[string]{typ: TypePassword, valid: "a password",
	parse:  func(v string) (string, error) { return v, nil },
	format: func(s string) string { return s },
}

// list is a comma-separated list.
func list(valid string) kind[[]string] {
	return kind[[]string]{typ: TypeList, valid: valid,
		parse:  func(v string) ([]string, error) { return splitList(v), nil },
		format: func(l []string) string { return strings.Join(l, ",") },
	}
}

// resolveListeners resolves the listener keys (validate calls it).
func (c *Config) resolveListeners() error {
	t := c.listenerText
	l, err := security.ResolveListeners(security.ListenerSpec{
		Listeners: t.listeners, Advertised: t.advertised, ProtocolMap: t.protocolMap,
		InterBrokerName: t.interBrokerName, InterBrokerProtocol: t.interBrokerProtocol,
		InterBrokerProtocolSet: c.explicit["security.inter.broker.protocol"],
		ControlPlaneName:       t.controlPlaneName,
	})
	if err != nil {
		ce := err.(*security.ConfigError)
		v := ""
		if d, ok := brokerByName[ce.Key]; ok {
			v = deref(d.get(c))
		}
		return &Error{Key: ce.Key, Value: v, Reason: ce.Reason}
	}
	c.Listeners, c.AdvertisedListeners = l.Bind, l.Advertised
	c.ListenerProtocols = l.Protocols
	c.InterBrokerListener, c.ControlPlaneListener = l.InterBroker, l.ControlPlane
	return nil
}

// ListenerPrefix is the start of a listener's own keys,
// listener.name.<listener>.<key> (Kafka's per-listener overrides).
const ListenerPrefix = "listener.name."

// setListenerOverride records listener.name.<l>.<key>=v. Keys the table
// defines (ssl.*) are checked now; others (SASL's, for the mechanisms)
// are kept for whoever reads them.
func (c *Config) setListenerOverride(k, v string) error {
	rest := strings.TrimPrefix(k, ListenerPrefix)
	name, key, ok := strings.Cut(rest, ".")
	if !ok || name == "" || key == "" {
		return fmt.Errorf("want %s<listener>.<key>", ListenerPrefix)
	}
	if d, ok := brokerByName[key]; ok {
		if !slices.Contains(listenerKeys, key) {
			return fmt.Errorf("%s cannot be set per listener", key)
		}
		scratch := Config{TopicDefaults: DefaultTopicConfig()}
		if err := d.set(&scratch, v); err != nil {
			return err
		}
	}
	if c.ListenerOverrides == nil {
		c.ListenerOverrides = map[string]map[string]string{}
	}
	name = strings.ToUpper(name)
	if c.ListenerOverrides[name] == nil {
		c.ListenerOverrides[name] = map[string]string{}
	}
	c.ListenerOverrides[name][key] = strings.TrimSpace(v)
	return nil
}

// listenerKeys are the table's keys a listener may override.
var listenerKeys = []string{
	"ssl.protocol", "ssl.enabled.protocols", "ssl.cipher.suites", "ssl.client.auth",
	"ssl.endpoint.identification.algorithm", "ssl.principal.mapping.rules",
	"ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.password", "ssl.key.password",
	"ssl.keystore.key", "ssl.keystore.certificate.chain",
	"ssl.truststore.type", "ssl.truststore.location", "ssl.truststore.password", "ssl.truststore.certificates",
	"ssl.allow.dn.changes", "ssl.allow.san.changes",
	"sasl.enabled.mechanisms", "sasl.jaas.config", "connections.max.reauth.ms",
}

// IsListenerKey reports whether key may be set per listener with
// listener.name.<l>.<key>.
func IsListenerKey(key string) bool { return slices.Contains(listenerKeys, key) }

// SSLFor is a listener's TLS settings: the ssl.* keys with the listener's
// own overrides (listener.name.<l>.ssl.*) over them, then extra over
// those (the dynamic configs of KIP-226; nil for none). As Kafka does
// since KIP-684, a SASL_SSL listener takes ssl.client.auth only from its
// own keys, none otherwise.
func (c *Config) SSLFor(listener string, extra map[string]string) (security.SSLConfig, error) {
	scratch := Config{TopicDefaults: DefaultTopicConfig(), SSL: c.SSL}
	scratch.SSL.EnabledProtocols = slices.Clone(c.SSL.EnabledProtocols)
	scratch.SSL.CipherSuites = slices.Clone(c.SSL.CipherSuites)
	own := maps.Clone(c.ListenerOverrides[listener])
	if own == nil {
		own = map[string]string{}
	}
	maps.Copy(own, extra)
	if c.ListenerProtocols[listener] == security.SASLSSL {
		if _, ok := own["ssl.client.auth"]; !ok {
			scratch.SSL.ClientAuth = security.ClientAuthNone
		}
	}
	for _, k := range slices.Sorted(maps.Keys(own)) {
		d, ok := brokerByName[k]
		if !ok || !IsListenerKey(k) {
			continue
		}
		if err := d.set(&scratch, own[k]); err != nil {
			return security.SSLConfig{}, &Error{Key: security.ConfigPrefix(listener) + k, Value: own[k], Reason: err.Error()}
		}
	}
	return scratch.SSL, nil
}
