package command

import (
	"context"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kfake"

	"samsa/cli/command/internal/connsec"
	"samsa/internal/testcerts"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSecureSession: a command's session reaches a cluster that wants
// TLS and SCRAM with the settings of each source, and is refused with a
// wrong password.
func TestSecureSession(t *testing.T) {
	ca := testcerts.NewCA(t, "cli CA")
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "admin", "admin-pw"),
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{ca.Server(t, "kfake").TLS()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	caFile := writeFile(t, "ca.pem", string(ca.CertPEM()))
	props := writeFile(t, "client.properties", "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-256\n"+
		`sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="admin-pw";`+
		"\nssl.truststore.type=PEM\nssl.truststore.location="+caFile+"\n")
	run := func(args ...string) error {
		cf := NewClientFlags()
		var brokers int
		cmd := &cobra.Command{Use: "x", RunE: cf.RunE(func(s *Session, _ []string) error {
			adm, ctx, done, err := s.AdminCall()
			if err != nil {
				return err
			}
			defer done()
			bs, err := adm.ListBrokers(ctx)
			brokers = len(bs)
			return err
		})}
		cf.AddTo(cmd.Flags())
		cmd.SetArgs(append([]string{"--brokers", addr, "--timeout", "5s"}, args...))
		cmd.SetOut(new(strings.Builder))
		cmd.SetErr(new(strings.Builder))
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		err := cmd.ExecuteContext(context.Background())
		if err == nil && brokers != 1 {
			return errors.New("no broker listed")
		}
		return err
	}
	for _, e := range []string{connsec.TLSEnv, connsec.TLSCAEnv, connsec.TLSCertEnv, connsec.TLSKeyEnv, connsec.SASLMechanismEnv, connsec.UserEnv, connsec.PasswordEnv, connsec.CommandConfigEnv} {
		t.Setenv(e, "")
	}
	if err := run("--tls-ca", caFile, "--sasl-mechanism", "SCRAM-SHA-256", "--user", "admin", "--password", "admin-pw"); err != nil {
		t.Fatalf("flags: %v", err)
	}
	if err := run("--command-config", props); err != nil {
		t.Fatalf("properties file: %v", err)
	}
	t.Setenv(connsec.TLSCAEnv, caFile)
	t.Setenv(connsec.SASLMechanismEnv, "SCRAM-SHA-256")
	t.Setenv(connsec.UserEnv, "admin")
	t.Setenv(connsec.PasswordEnv, "admin-pw")
	if err := run(); err != nil {
		t.Fatalf("variables: %v", err)
	}
	// kfake closes the connection where a broker answers
	// SASL_AUTHENTICATION_FAILED (the itests see that answer).
	if err := run("--password", "wrong"); err == nil {
		t.Fatal("a wrong password was let in")
	}
}

// TestUsageErrorOfSettings: a security setting that cannot be used is a
// usage error of the command (exit 2), before any connection.
func TestUsageErrorOfSettings(t *testing.T) {
	t.Setenv(connsec.SASLMechanismEnv, "")
	cf := NewClientFlags()
	cmd := &cobra.Command{Use: "x", RunE: cf.RunE(func(*Session, []string) error { return errors.New("ran") })}
	cf.AddTo(cmd.Flags())
	cmd.SetArgs([]string{"--user", "u", "--password", "p"})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	var ue UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--sasl-mechanism") {
		t.Fatalf("err = %v; want a usage error", err)
	}
}
