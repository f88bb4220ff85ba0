package connsec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"samsa/internal/testcerts"
)

// parseFlags registers the flags and parses args.
func parseFlags(t *testing.T, args ...string) (*Flags, *pflag.FlagSet) {
	t.Helper()
	f := &Flags{}
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	f.AddTo(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f, fs
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestResolveSecurity: flags over $SAMSA_* over the properties file, what
// turns TLS and SASL on, and the settings refused as usage errors.
func TestResolveSecurity(t *testing.T) {
	ca := testcerts.NewCA(t, "cli CA")
	caFile := writeFile(t, "ca.pem", string(ca.CertPEM()))
	client := ca.Client(t, "cli")
	certFile, keyFile := writeFile(t, "c.pem", string(client.CertPEM())), writeFile(t, "k.pem", string(client.KeyPEM(t)))
	trust := testcerts.Write(t, t.TempDir(), "trust.p12", ca.PKCS12Trust(t, "trustpw"))
	props := writeFile(t, "client.properties", `security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \
    username="file-user" password="file-pw";
ssl.truststore.type=PKCS12
ssl.truststore.location=`+trust+`
ssl.truststore.password=trustpw
`)
	for _, tc := range []struct {
		name       string
		args       []string
		env        map[string]string
		tls        bool
		mech       string
		user, pass string
		usage      string // a usage error saying this
	}{
		{name: "nothing", args: nil},
		{name: "--tls", args: []string{"--tls"}, tls: true},
		{name: "a CA turns TLS on", args: []string{"--tls-ca", caFile}, tls: true},
		{name: "a client certificate", args: []string{"--tls-cert", certFile, "--tls-key", keyFile}, tls: true},
		{name: "SAMSA_TLS", env: map[string]string{TLSEnv: "true"}, tls: true},
		{name: "flags", args: []string{"--sasl-mechanism", "plain", "--user", "u", "--password", "p"}, mech: "PLAIN", user: "u", pass: "p"},
		{name: "variables", env: map[string]string{SASLMechanismEnv: "SCRAM-SHA-256", UserEnv: "eu", PasswordEnv: "ep", TLSCAEnv: caFile},
			tls: true, mech: "SCRAM-SHA-256", user: "eu", pass: "ep"},
		{name: "flags over variables", args: []string{"--user", "fu"}, env: map[string]string{SASLMechanismEnv: "PLAIN", UserEnv: "eu", PasswordEnv: "ep"},
			mech: "PLAIN", user: "fu", pass: "ep"},
		{name: "the properties file", args: []string{"--command-config", props}, tls: true, mech: "SCRAM-SHA-512", user: "file-user", pass: "file-pw"},
		{name: "its variable", env: map[string]string{CommandConfigEnv: props}, tls: true, mech: "SCRAM-SHA-512", user: "file-user", pass: "file-pw"},
		{name: "flags over the file", args: []string{"--command-config", props, "--sasl-mechanism", "PLAIN", "--password", "x", "--tls=false"},
			mech: "PLAIN", user: "file-user", pass: "x"},

		{name: "user without mechanism", args: []string{"--user", "u", "--password", "p"}, usage: "need --sasl-mechanism"},
		{name: "mechanism without password", args: []string{"--sasl-mechanism", "PLAIN", "--user", "u"}, usage: "needs a user and a password"},
		{name: "unknown mechanism", args: []string{"--sasl-mechanism", "GSSAPI", "--user", "u", "--password", "p"}, usage: `"GSSAPI"`},
		{name: "SASL file without mechanism", args: []string{"--command-config", writeFile(t, "p", "security.protocol=SASL_PLAINTEXT\n")}, usage: `"GSSAPI"`},
		{name: "bad protocol", args: []string{"--command-config", writeFile(t, "p", "security.protocol=TLS\n")}, usage: "security.protocol"},
		{name: "cert without key", args: []string{"--tls-cert", certFile}, usage: "--tls-cert and --tls-key go together"},
		{name: "bad SAMSA_TLS", env: map[string]string{TLSEnv: "yes please"}, usage: TLSEnv},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, e := range []string{TLSEnv, TLSCAEnv, TLSCertEnv, TLSKeyEnv, SASLMechanismEnv, UserEnv, PasswordEnv, CommandConfigEnv} {
				t.Setenv(e, tc.env[e])
			}
			f, fs := parseFlags(t, tc.args...)
			sec, err := f.Resolve(fs)
			if tc.usage != "" {
				var ue *UsageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.usage) {
					t.Fatalf("err = %v; want a usage error saying %q", err, tc.usage)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (sec.TLS != nil) != tc.tls || sec.SASL != tc.mech || sec.user != tc.user || sec.pass != tc.pass {
				t.Fatalf("TLS %v, SASL %q as %q/%q; want TLS %v, %q as %q/%q", sec.TLS != nil, sec.SASL, sec.user, sec.pass, tc.tls, tc.mech, tc.user, tc.pass)
			}
		})
	}
}
