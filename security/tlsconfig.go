package security

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// ssl.client.auth values.
const (
	ClientAuthNone      = "none"
	ClientAuthRequested = "requested"
	ClientAuthRequired  = "required"
)

// SSLConfig is a listener's TLS settings, Kafka's ssl.* keys after the
// listener's own overrides (listener.name.<l>.ssl.*) have been applied.
type SSLConfig struct {
	Protocol         string   // ssl.protocol: checked, not used (Go negotiates within EnabledProtocols)
	EnabledProtocols []string // ssl.enabled.protocols: TLSv1.2, TLSv1.3 (TLSv1, TLSv1.1)
	CipherSuites     []string // ssl.cipher.suites: IANA names; empty: Go's defaults
	ClientAuth       string   // ssl.client.auth: none, requested or required
	// EndpointIdentification is ssl.endpoint.identification.algorithm:
	// "https" checks the host name of the peer's certificate when this
	// broker connects to another; "" does not.
	EndpointIdentification string
	PrincipalMappingRules  string // ssl.principal.mapping.rules
	Keystore               StoreConfig
	Truststore             StoreConfig
	// AllowDNChanges and AllowSANChanges (ssl.allow.dn.changes,
	// ssl.allow.san.changes) let a dynamic keystore update change the
	// certificate's subject or drop subject alternative names.
	AllowDNChanges  bool
	AllowSANChanges bool
}

var tlsVersions = map[string]uint16{
	"TLSv1":   tls.VersionTLS10,
	"TLSv1.1": tls.VersionTLS11,
	"TLSv1.2": tls.VersionTLS12,
	"TLSv1.3": tls.VersionTLS13,
}

// versions is the range of ssl.enabled.protocols. Java enables exactly
// the listed versions; Go takes a range, so a list with a gap enables
// the versions between as well.
func (c *SSLConfig) versions() (lo, hi uint16, err error) {
	for _, p := range c.EnabledProtocols {
		v, ok := tlsVersions[p]
		if !ok {
			return 0, 0, fmt.Errorf("ssl.enabled.protocols: unsupported protocol %q: want TLSv1.2 or TLSv1.3", p)
		}
		if lo == 0 || v < lo {
			lo = v
		}
		hi = max(hi, v)
	}
	if lo == 0 {
		lo, hi = tls.VersionTLS12, tls.VersionTLS13
	}
	return lo, hi, nil
}

// cipherSuites maps ssl.cipher.suites (IANA names, which Java uses too) to
// Go's ids. TLS 1.3 suites are accepted and, as Go does not let them be
// chosen, leave TLS 1.3 on its defaults.
func (c *SSLConfig) cipherSuites() ([]uint16, error) {
	if len(c.CipherSuites) == 0 {
		return nil, nil
	}
	known := map[string]*tls.CipherSuite{}
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		known[s.Name] = s
	}
	var ids []uint16
	for _, name := range c.CipherSuites {
		s, ok := known[name]
		if !ok {
			return nil, fmt.Errorf("ssl.cipher.suites: unsupported cipher suite %q", name)
		}
		ids = append(ids, s.ID)
	}
	return ids, nil
}

// Check validates everything but the stores: protocols, suites, client
// auth, the mapping rules.
func (c *SSLConfig) Check() error {
	if _, _, err := c.versions(); err != nil {
		return err
	}
	if _, err := c.cipherSuites(); err != nil {
		return err
	}
	switch c.ClientAuth {
	case "", ClientAuthNone, ClientAuthRequested, ClientAuthRequired:
	default:
		return fmt.Errorf("ssl.client.auth: %q is not none, requested or required", c.ClientAuth)
	}
	switch c.EndpointIdentification {
	case "", "https", "HTTPS":
	default:
		return fmt.Errorf("ssl.endpoint.identification.algorithm: %q is not https or empty", c.EndpointIdentification)
	}
	if _, err := ParseMappingRules(c.mappingRules()); err != nil {
		return fmt.Errorf("ssl.principal.mapping.rules: %w", err)
	}
	return nil
}

func (c *SSLConfig) mappingRules() string {
	if c.PrincipalMappingRules == "" {
		return DefaultMappingRules
	}
	return c.PrincipalMappingRules
}

// base is the tls.Config common to both ends.
func (c *SSLConfig) base() (*tls.Config, error) {
	lo, hi, err := c.versions()
	if err != nil {
		return nil, err
	}
	suites, err := c.cipherSuites()
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: lo, MaxVersion: hi, CipherSuites: suites}, nil
}

func certPool(certs []*x509.Certificate) *x509.CertPool {
	if certs == nil {
		return nil // the system's roots
	}
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// ServerTLS is one listener's server-side TLS: the tls.Config its
// connections handshake with, and the principal a handshake yields. Reload
// replaces the keystore and truststore while connections come in
// (KIP-226): connections accepted after it get the new certificate,
// those before keep theirs. Safe for concurrent use.
type ServerTLS struct {
	listener string
	state    atomic.Pointer[serverState]
	config   *tls.Config // hands every handshake the current state's config
}

type serverState struct {
	ssl       SSLConfig
	tls       *tls.Config
	cert      *tls.Certificate
	hasTrust  bool
	mapper    *PrincipalMapper
	clientReq bool // a client certificate is asked for
}

// NewServerTLS loads a listener's keystore and truststore and builds its
// server config. A TLS listener needs a keystore.
func NewServerTLS(listener string, c SSLConfig) (*ServerTLS, error) {
	st, err := newServerState(listener, c)
	if err != nil {
		return nil, err
	}
	s := &ServerTLS{listener: listener}
	s.state.Store(st)
	s.config = &tls.Config{
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return s.state.Load().tls, nil },
	}
	return s, nil
}

func newServerState(listener string, c SSLConfig) (*serverState, error) {
	if err := c.Check(); err != nil {
		return nil, fmt.Errorf("listener %s: %w", listener, err)
	}
	cert, err := LoadKeystore(c.Keystore)
	if err != nil {
		return nil, fmt.Errorf("listener %s: %w", listener, err)
	}
	if cert == nil {
		return nil, fmt.Errorf("listener %s: %w: a TLS listener needs a keystore: set ssl.keystore.location (or ssl.keystore.key and ssl.keystore.certificate.chain)", listener, ErrKeystore)
	}
	trusted, err := LoadTruststore(c.Truststore)
	if err != nil {
		return nil, fmt.Errorf("listener %s: %w", listener, err)
	}
	mapper, err := ParseMappingRules(c.mappingRules())
	if err != nil {
		return nil, fmt.Errorf("listener %s: ssl.principal.mapping.rules: %w", listener, err)
	}
	cfg, err := c.base()
	if err != nil {
		return nil, fmt.Errorf("listener %s: %w", listener, err)
	}
	cfg.Certificates = []tls.Certificate{*cert}
	cfg.ClientCAs = certPool(trusted)
	switch c.ClientAuth {
	case ClientAuthRequired:
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	case ClientAuthRequested:
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		cfg.ClientAuth = tls.NoClientCert
	}
	// Full-size records from the first byte: a broker streams large
	// responses, and Go's small first records would cost syscalls.
	cfg.DynamicRecordSizingDisabled = true
	return &serverState{ssl: c, tls: cfg, cert: cert, hasTrust: trusted != nil, mapper: mapper,
		clientReq: cfg.ClientAuth != tls.NoClientCert}, nil
}

// Config returns the config to serve the listener's connections with
// (tls.Server); it always hands out the current keystore.
func (s *ServerTLS) Config() *tls.Config { return s.config }

// SSL returns the settings in force.
func (s *ServerTLS) SSL() SSLConfig { return s.state.Load().ssl }

// Certificate returns the certificate served now.
func (s *ServerTLS) Certificate() *x509.Certificate { return s.state.Load().cert.Leaf }

// Reload validates new settings and puts them in force for the
// connections accepted from now on, as Kafka's SslFactory.reconfigure: the
// stores must load, a keystore cannot be added to or removed from a
// listener, nor a truststore added, and the new certificate must keep the
// old one's subject and subject alternative names unless
// ssl.allow.dn.changes / ssl.allow.san.changes say otherwise. On error
// nothing changes.
func (s *ServerTLS) Reload(c SSLConfig) error {
	next, err := s.prepare(c)
	if err != nil {
		return err
	}
	s.state.Store(next)
	return nil
}

// Validate makes Reload's checks and changes nothing.
func (s *ServerTLS) Validate(c SSLConfig) error {
	_, err := s.prepare(c)
	return err
}

func (s *ServerTLS) prepare(c SSLConfig) (*serverState, error) {
	cur := s.state.Load()
	next, err := newServerState(s.listener, c)
	if err != nil {
		return nil, fmt.Errorf("Validation of dynamic config update of SSLFactory failed: %w", err)
	}
	if !cur.hasTrust && next.hasTrust {
		return nil, errors.New("Validation of dynamic config update of SSLFactory failed: Cannot add SSL truststore to an existing listener for which no truststore was configured.")
	}
	if err := compatible(cur.cert.Leaf, next.cert.Leaf, c.AllowDNChanges, c.AllowSANChanges); err != nil {
		return nil, fmt.Errorf("Validation of dynamic config update of SSLFactory failed: %w", err)
	}
	return next, nil
}

// compatible is Kafka's CertificateEntries.ensureCompatible for the one
// entry a broker serves.
func compatible(old, next *x509.Certificate, allowDN, allowSAN bool) error {
	if !allowDN && !bytes.Equal(old.RawSubject, next.RawSubject) {
		o, _ := DistinguishedName(old.RawSubject)
		n, _ := DistinguishedName(next.RawSubject)
		if !strings.EqualFold(o, n) {
			return fmt.Errorf("Keystore DistinguishedName does not match:  existing={DN=%s}, new={DN=%s}", o, n)
		}
	}
	if !allowSAN {
		have := sans(next)
		for _, n := range sans(old) {
			if !slices.Contains(have, n) {
				return fmt.Errorf("Keystore SubjectAltNames do not match:  existing={SAN=%v}, new={SAN=%v}", sans(old), have)
			}
		}
	}
	return nil
}

func sans(c *x509.Certificate) []string {
	var out []string
	for _, d := range c.DNSNames {
		out = append(out, "DNS:"+d)
	}
	for _, ip := range c.IPAddresses {
		out = append(out, "IP:"+ip.String())
	}
	for _, e := range c.EmailAddresses {
		out = append(out, "email:"+e)
	}
	for _, u := range c.URIs {
		out = append(out, "URI:"+u.String())
	}
	return out
}

// Principal is the principal of a connection after its handshake, as
// Kafka's DefaultKafkaPrincipalBuilder makes it for SSL: User:<the client
// certificate's subject, mapped by ssl.principal.mapping.rules>, or
// ANONYMOUS when the client sent no certificate. An error (no rule maps
// the subject) fails the client's authentication.
func (s *ServerTLS) Principal(cs *tls.ConnectionState) (Principal, error) {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return Anonymous, nil
	}
	dn, err := DistinguishedName(cs.PeerCertificates[0].RawSubject)
	if err != nil {
		return Principal{}, err
	}
	name, err := s.state.Load().mapper.Name(dn)
	if err != nil {
		return Principal{}, err
	}
	return User(name), nil
}

// ClientTLS builds the config this broker connects to another broker's TLS
// listener with: the keystore (presented when the peer asks, for mTLS),
// the truststore the peer's certificate must chain to, and with
// ssl.endpoint.identification.algorithm=https a check of the peer's host
// name (the dialer sets ServerName to the host it dials).
func ClientTLS(c SSLConfig) (*tls.Config, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	cfg, err := c.base()
	if err != nil {
		return nil, err
	}
	cert, err := LoadKeystore(c.Keystore)
	if err != nil {
		return nil, err
	}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	trusted, err := LoadTruststore(c.Truststore)
	if err != nil {
		return nil, err
	}
	cfg.RootCAs = certPool(trusted)
	if c.EndpointIdentification == "" {
		// Verify the chain, not the name: crypto/tls checks both or neither.
		roots := cfg.RootCAs
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("security: the broker sent no certificate")
			}
			opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
			for _, ic := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(ic)
			}
			_, err := cs.PeerCertificates[0].Verify(opts)
			return err
		}
	}
	return cfg, nil
}

// Dialer returns a dial function for connections to other brokers: plain
// TCP when cfg is nil, else TLS with the handshake done before it returns,
// bounded by ctx and timeout.
func Dialer(cfg *tls.Config, timeout time.Duration) func(ctx context.Context, addr string) (net.Conn, error) {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		d := net.Dialer{Timeout: timeout}
		if cfg == nil {
			return d.DialContext(ctx, "tcp", addr)
		}
		c := cfg.Clone()
		if c.ServerName == "" {
			if host, _, err := net.SplitHostPort(addr); err == nil {
				c.ServerName = host
			}
		}
		td := tls.Dialer{NetDialer: &d, Config: c}
		return td.DialContext(ctx, "tcp", addr)
	}
}
