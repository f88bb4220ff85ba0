package config

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"samsa/security"
	"samsa/security/sasl"
)

// ZookeeperSecurity is how the broker's ZooKeeper client protects itself:
// TLS to ZooKeeper's secure client port (Kafka's zookeeper.ssl.* keys and
// zookeeper.clientCnxnSocket) and the credentials of the JAAS login file's
// Client section. ZookeeperClient resolves them.
type ZookeeperSecurity struct {
	SSLClientEnable  bool   // zookeeper.ssl.client.enable
	ClientCnxnSocket string // zookeeper.clientCnxnSocket; "" unset
	// The stores as configured (zookeeper.ssl.keystore.*,
	// zookeeper.ssl.truststore.*); an empty Type is taken from the file's
	// extension, as ZooKeeper does.
	KeystoreLocation, KeystorePassword, KeystoreType       string
	TruststoreLocation, TruststorePassword, TruststoreType string

	Protocol               string   // zookeeper.ssl.protocol
	EnabledProtocols       []string // zookeeper.ssl.enabled.protocols; empty: Protocol alone
	CipherSuites           []string // zookeeper.ssl.cipher.suites; empty: Go's defaults
	EndpointIdentification string   // zookeeper.ssl.endpoint.identification.algorithm: HTTPS or ""
	// CRLEnable and OCSPEnable (zookeeper.ssl.crl.enable,
	// zookeeper.ssl.ocsp.enable) ask for revocation checks Go's TLS does
	// not make: refused with TLS on.
	CRLEnable, OCSPEnable bool
	// LoginConfig is java.security.auth.login.config: the JAAS file whose
	// LoginContext section (zookeeper.sasl.clientconfig, "Client") holds
	// the broker's ZooKeeper credentials; SASLClient is
	// zookeeper.sasl.client.
	LoginConfig  string
	LoginContext string
	SASLClient   bool
}

// ZooKeeper's names for the Netty client socket, which TLS needs, and for
// the NIO one, its default (ZooKeeper takes the class's simple name too).
var (
	nettySocket = []string{"org.apache.zookeeper.ClientCnxnSocketNetty", "ClientCnxnSocketNetty"}
	nioSocket   = []string{"org.apache.zookeeper.ClientCnxnSocketNIO", "ClientCnxnSocketNIO"}
)

// DigestLoginModule is the login module of a JAAS Client section whose
// username and password are ZooKeeper digest credentials.
const DigestLoginModule = "org.apache.zookeeper.server.auth.DigestLoginModule"

// zookeeperDefs are the ZooKeeper client's security keys, part of the one
// table.
var zookeeperDefs = []*Def{
	{Name: "zookeeper.ssl.client.enable", Default: "false", ZooKeeper: true, Doc: "Whether the broker connects to ZooKeeper over TLS (ZooKeeper's secureClientPort); zookeeper.clientCnxnSocket must then be org.apache.zookeeper.ClientCnxnSocketNetty.",
		bind: brokerField(boolean, func(c *Config) *bool { return &c.ZK.SSLClientEnable })},
	{Name: "zookeeper.clientCnxnSocket", ZooKeeper: true, Doc: "ZooKeeper's client socket class: org.apache.zookeeper.ClientCnxnSocketNetty (required for TLS) or org.apache.zookeeper.ClientCnxnSocketNIO. Samsa's client is Go's: the value is checked, not loaded.",
		bind: brokerField(text("org.apache.zookeeper.ClientCnxnSocketNetty or org.apache.zookeeper.ClientCnxnSocketNIO", func(v string) error {
			if v != "" && !slices.Contains(nettySocket, v) && !slices.Contains(nioSocket, v) {
				return fmt.Errorf("Couldn't instantiate %s: the ZooKeeper client sockets are %s and %s", v, nettySocket[0], nioSocket[0])
			}
			return nil
		}), func(c *Config) *string { return &c.ZK.ClientCnxnSocket })},
	{Name: "zookeeper.ssl.keystore.location", ZooKeeper: true, Doc: "Keystore holding the broker's client certificate towards ZooKeeper, which ZooKeeper's x509 authentication provider makes the session's identity (mTLS).",
		bind: brokerField(text("a file", nil), func(c *Config) *string { return &c.ZK.KeystoreLocation })},
	{Name: "zookeeper.ssl.keystore.password", ZooKeeper: true, Doc: "Password of zookeeper.ssl.keystore.location, and of the key in it (ZooKeeper knows no separate key password); for PEM, the password of an encrypted key.",
		bind: brokerField(password, func(c *Config) *string { return &c.ZK.KeystorePassword })},
	{Name: "zookeeper.ssl.keystore.type", ZooKeeper: true, Doc: "Type of zookeeper.ssl.keystore.location: JKS, PKCS12 or PEM; unset, from the file name's extension (.jks, .p12 or .pfx, .pem), as ZooKeeper does.",
		bind: brokerField(zkStoreType, func(c *Config) *string { return &c.ZK.KeystoreType })},
	{Name: "zookeeper.ssl.truststore.location", ZooKeeper: true, Doc: "Truststore holding the CAs ZooKeeper's certificate must chain to; unset, the system's CAs.",
		bind: brokerField(text("a file", nil), func(c *Config) *string { return &c.ZK.TruststoreLocation })},
	{Name: "zookeeper.ssl.truststore.password", ZooKeeper: true, Doc: "Password of zookeeper.ssl.truststore.location (not for PEM).",
		bind: brokerField(password, func(c *Config) *string { return &c.ZK.TruststorePassword })},
	{Name: "zookeeper.ssl.truststore.type", ZooKeeper: true, Doc: "Type of zookeeper.ssl.truststore.location: JKS, PKCS12 or PEM; unset, from the file name's extension.",
		bind: brokerField(zkStoreType, func(c *Config) *string { return &c.ZK.TruststoreType })},
	{Name: "zookeeper.ssl.protocol", Default: "TLSv1.2", ZooKeeper: true, Doc: "TLS protocol towards ZooKeeper, and the only version enabled when zookeeper.ssl.enabled.protocols is unset (TLS: both TLSv1.2 and TLSv1.3).",
		bind: brokerField(oneOf("TLSv1.2", "TLSv1.3", "TLS"), func(c *Config) *string { return &c.ZK.Protocol })},
	{Name: "zookeeper.ssl.enabled.protocols", ZooKeeper: true, Doc: "TLS versions towards ZooKeeper (TLSv1.2, TLSv1.3); unset, zookeeper.ssl.protocol's. Go takes a range: the versions between the lowest and highest listed.",
		bind: brokerField(list("TLSv1.2,TLSv1.3"), func(c *Config) *[]string { return &c.ZK.EnabledProtocols })},
	{Name: "zookeeper.ssl.cipher.suites", ZooKeeper: true, Doc: "TLS 1.2 cipher suites towards ZooKeeper, by their IANA (Java) names; unset, Go's secure defaults.",
		bind: brokerField(list("cipher suite names"), func(c *Config) *[]string { return &c.ZK.CipherSuites })},
	{Name: "zookeeper.ssl.endpoint.identification.algorithm", Default: "HTTPS", ZooKeeper: true, Doc: "HTTPS (any case): ZooKeeper's certificate must name the host zookeeper.connect names; empty: only its chain is checked.",
		bind: brokerField(text("HTTPS or empty", func(v string) error {
			if v != "" && !strings.EqualFold(v, "https") {
				return fmt.Errorf("must be HTTPS or empty")
			}
			return nil
		}), func(c *Config) *string { return &c.ZK.EndpointIdentification })},
	{Name: "zookeeper.ssl.crl.enable", Default: "false", ZooKeeper: true, Doc: "Certificate revocation lists towards ZooKeeper: Go's TLS checks none, so true is refused when zookeeper.ssl.client.enable is true.",
		bind: brokerField(boolean, func(c *Config) *bool { return &c.ZK.CRLEnable })},
	{Name: "zookeeper.ssl.ocsp.enable", Default: "false", ZooKeeper: true, Doc: "OCSP towards ZooKeeper: Go's TLS does not check revocation, so true is refused when zookeeper.ssl.client.enable is true.",
		bind: brokerField(boolean, func(c *Config) *bool { return &c.ZK.OCSPEnable })},
	{Name: "java.security.auth.login.config", ZooKeeper: true, Doc: "Samsa's key, named after the JVM system property Kafka reads (-Djava.security.auth.login.config in KAFKA_OPTS): a JAAS login file. Its zookeeper.sasl.clientconfig section (Client), with org.apache.zookeeper.server.auth.DigestLoginModule's username and password, gives the credentials the broker authenticates to ZooKeeper with, as a ZooKeeper digest identity (addauth digest user:password), not SASL: Samsa's ZooKeeper client speaks no SASL.",
		bind: brokerField(text("a file", nil), func(c *Config) *string { return &c.ZK.LoginConfig })},
	{Name: "zookeeper.sasl.clientconfig", Default: "Client", ZooKeeper: true, Doc: "The section of java.security.auth.login.config holding the ZooKeeper credentials (ZooKeeper's system property of that name).",
		bind: brokerField(text("a JAAS section name", nil), func(c *Config) *string { return &c.ZK.LoginContext })},
	{Name: "zookeeper.sasl.client", Default: "true", ZooKeeper: true, Doc: "Whether the broker authenticates to ZooKeeper with the JAAS file's credentials (ZooKeeper's system property of that name); false with a Client section present is an error, as in Kafka.",
		bind: brokerField(boolean, func(c *Config) *bool { return &c.ZK.SASLClient })},
}

// zkStoreType is ZooKeeper's store type: as ssl.keystore.type, or unset.
var zkStoreType = kind[string]{typ: TypeString, valid: "JKS, PKCS12, PEM or unset", options: []string{"JKS", "PKCS12", "PEM"},
	parse: func(v string) (string, error) {
		if v == "" {
			return "", nil
		}
		return storeType.parse(v)
	},
	format: func(s string) string { return s },
}

// validateZookeeper makes the cross-key checks of the ZooKeeper client's
// security (validate calls it); the files are read by ZookeeperClient.
func (c *Config) validateZookeeper() error {
	z := c.ZK
	if z.SSLClientEnable && !slices.Contains(nettySocket, z.ClientCnxnSocket) {
		return &Error{Key: "zookeeper.clientCnxnSocket", Value: z.ClientCnxnSocket,
			Reason: "zookeeper.ssl.client.enable is true: TLS to ZooKeeper needs zookeeper.clientCnxnSocket=" + nettySocket[0]}
	}
	if z.SSLClientEnable {
		for key, on := range map[string]bool{"zookeeper.ssl.crl.enable": z.CRLEnable, "zookeeper.ssl.ocsp.enable": z.OCSPEnable} {
			if on {
				return &Error{Key: key, Value: "true", Reason: "Go's TLS does not check certificate revocation: Samsa cannot honour it"}
			}
		}
	}
	ssl := c.zookeeperSSL()
	if err := ssl.Check(); err != nil {
		key, value := "zookeeper.ssl.enabled.protocols", strings.Join(ssl.EnabledProtocols, ",")
		if strings.HasPrefix(err.Error(), "ssl.cipher.suites") {
			key, value = "zookeeper.ssl.cipher.suites", strings.Join(z.CipherSuites, ",")
		}
		return &Error{Key: key, Value: value, Reason: err.Error()}
	}
	return nil
}

// zookeeperSSL is the TLS settings towards ZooKeeper but the stores.
func (c *Config) zookeeperSSL() security.SSLConfig {
	z := c.ZK
	protocols := z.EnabledProtocols
	switch {
	case len(protocols) > 0:
	case z.Protocol == "TLS":
		protocols = []string{"TLSv1.2", "TLSv1.3"}
	default:
		// ZooKeeper enables zookeeper.ssl.protocol alone (Kafka's doc of
		// zookeeper.ssl.enabled.protocols).
		protocols = []string{z.Protocol}
	}
	return security.SSLConfig{
		Protocol: z.Protocol, EnabledProtocols: protocols, CipherSuites: z.CipherSuites,
		EndpointIdentification: strings.ToLower(z.EndpointIdentification),
	}
}

// ZookeeperClient is the broker's ZooKeeper client security, resolved:
// what kafkazk.Config takes.
type ZookeeperClient struct {
	TLS        *tls.Config // nil: plaintext
	Digest     string      // "user:password" of the JAAS Client section; "" none
	SecureACLs bool        // zookeeper.set.acl
}

// ZookeeperClient loads the TLS stores and reads the JAAS file, with
// Kafka's check at the ZooKeeper client's creation: zookeeper.set.acl
// needs an identity, the JAAS credentials or a TLS client certificate
// (zookeeper.ssl.client.enable, zookeeper.clientCnxnSocket and
// zookeeper.ssl.keystore.location all set).
func (c *Config) ZookeeperClient() (ZookeeperClient, error) {
	zc := ZookeeperClient{SecureACLs: c.ZookeeperSetACL}
	var err error
	if zc.Digest, err = c.zookeeperDigest(); err != nil {
		return zc, err
	}
	if c.ZK.SSLClientEnable {
		if zc.TLS, err = c.zookeeperTLS(); err != nil {
			return zc, err
		}
	}
	tlsAuth := c.ZK.SSLClientEnable && c.ZK.ClientCnxnSocket != "" && c.ZK.KeystoreLocation != ""
	if zc.SecureACLs && zc.Digest == "" && !tlsAuth {
		return zc, &Error{Key: "zookeeper.set.acl", Value: "true", Reason: fmt.Sprintf(
			"zookeeper.set.acl is true, but ZooKeeper client TLS configuration identifying at least zookeeper.ssl.client.enable, zookeeper.clientCnxnSocket, and zookeeper.ssl.keystore.location was not present and the verification of the JAAS login file failed [java.security.auth.login.config=%s, zookeeper.sasl.client=%t, zookeeper.sasl.clientconfig=%s]: the broker needs an identity to own its znodes",
			nullText(c.ZK.LoginConfig), c.ZK.SASLClient, c.ZK.LoginContext)}
	}
	return zc, nil
}

func nullText(s string) string {
	if s == "" {
		return "null"
	}
	return s
}

// zookeeperDigest reads the credentials of the JAAS file's client
// section: "" when no file is configured or it has no such section.
func (c *Config) zookeeperDigest() (string, error) {
	z := c.ZK
	if z.LoginConfig == "" {
		return "", nil
	}
	fail := func(reason string) error {
		return &Error{Key: "java.security.auth.login.config", Value: z.LoginConfig, Reason: reason}
	}
	data, err := os.ReadFile(z.LoginConfig)
	if err != nil {
		return "", fail(fmt.Sprintf("Exception while loading Zookeeper JAAS login context: %v", err))
	}
	sections, err := sasl.ParseJAASFile(string(data))
	if err != nil {
		return "", fail(fmt.Sprintf("Exception while loading Zookeeper JAAS login context: %v", err))
	}
	entries, ok := sections[z.LoginContext]
	if !ok {
		return "", nil
	}
	if !z.SASLClient {
		return "", fail(fmt.Sprintf("JAAS configuration is present, but zookeeper.sasl.client is false, which disables authentication to ZooKeeper: remove the %s section or set zookeeper.sasl.client=true", z.LoginContext))
	}
	for _, e := range entries {
		if e.Module != DigestLoginModule {
			return "", fail(fmt.Sprintf("section %s: login module %s: Samsa authenticates to ZooKeeper with digest credentials only (%s with username and password)", z.LoginContext, e.Module, DigestLoginModule))
		}
	}
	cr, ok := sasl.JAASCredentials(entries, DigestLoginModule)
	if !ok || cr.Username == "" {
		return "", fail(fmt.Sprintf("section %s: %s needs username and password options", z.LoginContext, DigestLoginModule))
	}
	if strings.Contains(cr.Username, ":") {
		return "", fail(fmt.Sprintf("section %s: a digest username cannot contain ':'", z.LoginContext))
	}
	return cr.Username + ":" + cr.Password, nil
}

// zookeeperTLS builds the client TLS config towards ZooKeeper with the
// security package's loaders, the stores' types and passwords mapped as
// ZooKeeper reads them.
func (c *Config) zookeeperTLS() (*tls.Config, error) {
	z := c.ZK
	ssl := c.zookeeperSSL()
	var err error
	if ssl.Keystore, err = zkStore("zookeeper.ssl.keystore", z.KeystoreLocation, z.KeystorePassword, z.KeystoreType, true); err != nil {
		return nil, err
	}
	if ssl.Truststore, err = zkStore("zookeeper.ssl.truststore", z.TruststoreLocation, z.TruststorePassword, z.TruststoreType, false); err != nil {
		return nil, err
	}
	// Loaded once here to name the key of a store that fails.
	if _, err := security.LoadKeystore(ssl.Keystore); err != nil {
		return nil, &Error{Key: "zookeeper.ssl.keystore.location", Value: z.KeystoreLocation, Reason: err.Error()}
	}
	if _, err := security.LoadTruststore(ssl.Truststore); err != nil {
		return nil, &Error{Key: "zookeeper.ssl.truststore.location", Value: z.TruststoreLocation, Reason: err.Error()}
	}
	cfg, err := security.ClientTLS(ssl)
	if err != nil {
		return nil, &Error{Key: "zookeeper.ssl.client.enable", Value: "true", Reason: err.Error()}
	}
	return cfg, nil
}

// zkStore maps a ZooKeeper store's keys to the security package's: the
// type from the extension when unset; for a PEM keystore the password
// decrypts the key; a JKS key's password is the store's, as ZooKeeper
// has no other.
func zkStore(prefix, location, password, typ string, keystore bool) (security.StoreConfig, error) {
	if location == "" {
		if password != "" {
			return security.StoreConfig{}, &Error{Key: prefix + ".password", Value: "[hidden]", Reason: prefix + ".location is not set"}
		}
		return security.StoreConfig{}, nil
	}
	if typ == "" {
		switch strings.ToLower(filepath.Ext(location)) {
		case ".jks":
			typ = security.StoreJKS
		case ".p12", ".pfx":
			typ = security.StorePKCS12
		case ".pem":
			typ = security.StorePEM
		default:
			return security.StoreConfig{}, &Error{Key: prefix + ".type", Value: "",
				Reason: fmt.Sprintf("Unable to auto-detect store file type from file name: %s: set %s.type (JKS, PKCS12 or PEM)", location, prefix)}
		}
	}
	sc := security.StoreConfig{Type: typ, Location: location, Password: password}
	switch {
	case typ == security.StorePEM && keystore:
		sc.Password, sc.KeyPassword = "", password
	case typ == security.StorePEM:
		sc.Password = ""
	case typ == security.StoreJKS && keystore:
		sc.KeyPassword = password
	}
	return sc, nil
}
