// Package connsec is the security settings of the client commands: TLS
// and SASL, from flags (rpk's spellings), $SAMSA_* variables, and a client
// properties file in Kafka's keys (kafka-*.sh --command-config), each over
// the next:
//
//	flag                 variable               properties file
//	-------------------  ---------------------  -----------------------------------------------
//	--tls                SAMSA_TLS              security.protocol=SSL or SASL_SSL
//	--tls-ca FILE        SAMSA_TLS_CA           ssl.truststore.location (.type JKS, PKCS12, PEM;
//	                                            .password), ssl.truststore.certificates
//	--tls-cert FILE      SAMSA_TLS_CERT         ssl.keystore.location (.type, .password),
//	--tls-key FILE       SAMSA_TLS_KEY          ssl.key.password, ssl.keystore.certificate.chain,
//	                                            ssl.keystore.key
//	                                            ssl.endpoint.identification.algorithm (empty: the
//	                                            broker's name is not checked, its chain still is)
//	--sasl-mechanism M   SAMSA_SASL_MECHANISM   security.protocol=SASL_*, sasl.mechanism
//	--user U             SAMSA_USER             sasl.jaas.config: the username option
//	--password P         SAMSA_PASSWORD         sasl.jaas.config: the password option
//	--command-config F   SAMSA_COMMAND_CONFIG
//
// Giving a CA, a certificate or a key turns TLS on; giving a mechanism
// turns SASL on, and it needs a user and a password. Mechanisms: PLAIN,
// SCRAM-SHA-256, SCRAM-SHA-512. The TLS of the properties file is read by
// package security, as the broker reads its own keystores.
//
// Locks: none; Flags are filled by the flag parser, Settings are values.
package connsec

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"samsa/config"
	"samsa/security"
	"samsa/security/sasl"
)

// The security variables.
const (
	TLSEnv           = "SAMSA_TLS"
	TLSCAEnv         = "SAMSA_TLS_CA"
	TLSCertEnv       = "SAMSA_TLS_CERT"
	TLSKeyEnv        = "SAMSA_TLS_KEY"
	SASLMechanismEnv = "SAMSA_SASL_MECHANISM"
	UserEnv          = "SAMSA_USER"
	PasswordEnv      = "SAMSA_PASSWORD"
	CommandConfigEnv = "SAMSA_COMMAND_CONFIG"
)

// UsageError is a setting that cannot be used: the user's mistake.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usageErrorf(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// Flags are the security flags as given.
type Flags struct {
	tls                   bool
	tlsCA, tlsCert, tlsKy string
	mechanism, user, pass string
	commandConfig         string
}

// AddTo registers the flags on fs and returns their names.
func (f *Flags) AddTo(fs *pflag.FlagSet) []string {
	fs.BoolVar(&f.tls, "tls", false, "connect with TLS (default $"+TLSEnv+")")
	fs.StringVar(&f.tlsCA, "tls-ca", "", "PEM `FILE` of the CAs the brokers' certificates chain to; turns TLS on (default $"+TLSCAEnv+", else the system's)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM `FILE` of the client certificate, for brokers that require one (mTLS); turns TLS on (default $"+TLSCertEnv+")")
	fs.StringVar(&f.tlsKy, "tls-key", "", "PEM `FILE` of the client certificate's key (default $"+TLSKeyEnv+")")
	fs.StringVar(&f.mechanism, "sasl-mechanism", "", "authenticate with SASL `MECHANISM`: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (default $"+SASLMechanismEnv+")")
	fs.StringVar(&f.user, "user", "", "SASL user `NAME` (default $"+UserEnv+")")
	fs.StringVar(&f.pass, "password", "", "SASL `PASSWORD` (default $"+PasswordEnv+")")
	fs.StringVar(&f.commandConfig, "command-config", "", "a client properties `FILE` in Kafka's keys: security.protocol, ssl.truststore.*, ssl.keystore.*, sasl.mechanism, sasl.jaas.config (default $"+CommandConfigEnv+"); flags and variables win over it")
	return []string{"tls", "tls-ca", "tls-cert", "tls-key", "sasl-mechanism", "user", "password", "command-config"}
}

// Settings are what a client connects with: TLS (nil: none) and a SASL
// mechanism ("": none).
type Settings struct {
	TLS  *tls.Config
	SASL string // the mechanism's name, "" for none
	user string
	pass string
}

// Opts are the kgo options of s.
func (s Settings) Opts() ([]kgo.Opt, error) {
	var out []kgo.Opt
	if s.TLS != nil {
		out = append(out, kgo.DialTLSConfig(s.TLS))
	}
	switch s.SASL {
	case "":
	case sasl.Plain:
		out = append(out, kgo.SASL(plain.Auth{User: s.user, Pass: s.pass}.AsMechanism()))
	case sasl.ScramSHA256:
		out = append(out, kgo.SASL(scram.Auth{User: s.user, Pass: s.pass}.AsSha256Mechanism()))
	case sasl.ScramSHA512:
		out = append(out, kgo.SASL(scram.Auth{User: s.user, Pass: s.pass}.AsSha512Mechanism()))
	default:
		return nil, usageErrorf("SASL mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", s.SASL)
	}
	return out, nil
}

// flagOrEnv is a flag's value if given, else the variable's.
func flagOrEnv(v, env string) string {
	if v != "" {
		return v
	}
	return os.Getenv(env)
}

// Resolve reads the security settings: flags over variables over the
// properties file. A setting that cannot be used is a *UsageError; a file
// that cannot be read, a plain error. fs is where the flags were parsed.
func (f *Flags) Resolve(fs *pflag.FlagSet) (Settings, error) {
	var props map[string]string
	if file := flagOrEnv(f.commandConfig, CommandConfigEnv); file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return Settings{}, fmt.Errorf("--command-config: %w", err)
		}
		if props, _, err = config.ParseProperties(data); err != nil {
			return Settings{}, fmt.Errorf("--command-config %s: %w", file, err)
		}
	}
	proto := security.Plaintext
	if p, ok := props["security.protocol"]; ok {
		var err error
		if proto, err = security.ParseProtocol(p); err != nil {
			return Settings{}, usageErrorf("--command-config: security.protocol: %v", err)
		}
	}
	var sec Settings
	useTLS := proto.TLS()
	if fs != nil && fs.Changed("tls") {
		useTLS = f.tls
	} else if v := os.Getenv(TLSEnv); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return sec, usageErrorf("$%s=%q: want true or false", TLSEnv, v)
		}
		useTLS = b
	}
	ca, cert, key := flagOrEnv(f.tlsCA, TLSCAEnv), flagOrEnv(f.tlsCert, TLSCertEnv), flagOrEnv(f.tlsKy, TLSKeyEnv)
	if ca != "" || cert != "" || key != "" {
		useTLS = true
	}
	if useTLS {
		cfg, err := clientTLS(props, ca, cert, key)
		if err != nil {
			return sec, err
		}
		sec.TLS = cfg
	}
	mech := flagOrEnv(f.mechanism, SASLMechanismEnv)
	if mech == "" && proto.SASL() {
		mech = props["sasl.mechanism"]
		if mech == "" {
			mech = "GSSAPI" // Kafka's default, refused below by name
		}
	}
	sec.user, sec.pass = flagOrEnv(f.user, UserEnv), flagOrEnv(f.pass, PasswordEnv)
	if mech == "" {
		if sec.user != "" || sec.pass != "" {
			return sec, usageErrorf("--user and --password need --sasl-mechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)")
		}
		return sec, nil
	}
	mech = strings.ToUpper(mech)
	if !sasl.IsSupported(mech) {
		return sec, usageErrorf("SASL mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", mech)
	}
	sec.SASL = mech
	if jaas := props["sasl.jaas.config"]; jaas != "" && (sec.user == "" || sec.pass == "") {
		es, err := sasl.ParseJAAS(jaas)
		if err != nil {
			return sec, usageErrorf("--command-config: sasl.jaas.config: %v", err)
		}
		for _, e := range es {
			if sec.user == "" {
				sec.user = e.Options["username"]
			}
			if sec.pass == "" {
				sec.pass = e.Options["password"]
			}
		}
	}
	if sec.user == "" || sec.pass == "" {
		return sec, usageErrorf("SASL %s needs a user and a password: --user and --password, $%s and $%s, or sasl.jaas.config in --command-config", mech, UserEnv, PasswordEnv)
	}
	return sec, nil
}

// clientTLS is the TLS of a client: Kafka's ssl.* keys of the properties
// file, then the PEM files of the flags over them.
func clientTLS(props map[string]string, ca, cert, key string) (*tls.Config, error) {
	ssl := security.SSLConfig{
		EnabledProtocols:       []string{"TLSv1.2", "TLSv1.3"},
		EndpointIdentification: "https",
		Truststore: security.StoreConfig{Type: "JKS", Location: props["ssl.truststore.location"], Password: props["ssl.truststore.password"],
			Certificates: props["ssl.truststore.certificates"]},
		Keystore: security.StoreConfig{Type: "JKS", Location: props["ssl.keystore.location"], Password: props["ssl.keystore.password"],
			KeyPassword: props["ssl.key.password"], Key: props["ssl.keystore.key"], CertificateChain: props["ssl.keystore.certificate.chain"]},
	}
	if t, ok := props["ssl.truststore.type"]; ok {
		ssl.Truststore.Type = strings.ToUpper(t)
	} else if ssl.Truststore.Certificates != "" {
		ssl.Truststore.Type = "PEM"
	}
	if t, ok := props["ssl.keystore.type"]; ok {
		ssl.Keystore.Type = strings.ToUpper(t)
	} else if ssl.Keystore.Key != "" {
		ssl.Keystore.Type = "PEM"
	}
	if v, ok := props["ssl.endpoint.identification.algorithm"]; ok {
		ssl.EndpointIdentification = v
	}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca %s: no PEM certificate in it", ca)
		}
		ssl.Truststore = security.StoreConfig{Type: "PEM", Certificates: string(pem)}
	}
	cfg, err := security.ClientTLS(ssl)
	if err != nil {
		return nil, fmt.Errorf("--command-config: %w", err)
	}
	if (cert == "") != (key == "") {
		return nil, usageErrorf("--tls-cert and --tls-key go together")
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert, --tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}
