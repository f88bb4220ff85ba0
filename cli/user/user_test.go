package user

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"samsa/cli/command"
	"samsa/internal/clitest"
)

func newCLI(brokers string) clitest.CLI {
	return clitest.CLI{Brokers: brokers, New: func() *cobra.Command { return NewCommand(command.NewClientFlags()) }}
}

// Usage errors exit 2 before any connection is made.
func TestUsageErrors(t *testing.T) {
	c := newCLI("127.0.0.1:1")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"user", "create"}, "want USER"},
		{[]string{"user", "create", "a", "b"}, "want USER"},
		{[]string{"user", "create", "alice", "--new-password", "x", "--mechanism", "PLAIN"}, `--mechanism "PLAIN"`},
		{[]string{"user", "create", "alice", "--new-password", "x", "--iterations", "100"}, "--iterations 100"},
		{[]string{"user", "create", "alice"}, "no password"},
		{[]string{"user", "delete"}, "no USER named"},
		{[]string{"user", "delete", "alice", "--mechanism", "md5"}, `--mechanism "md5"`},
	} {
		clitest.CheckUsageError(t, c, tc.args, tc.want)
	}
}

// TestUserRoundTrip: users created (password flag or standard input) are
// listed with their mechanisms and iterations, authenticate with their
// password, and are deleted by mechanism or whole.
func TestUserRoundTrip(t *testing.T) {
	cl, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "admin", "admin-pw"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	addr := cl.ListenAddrs()[0]
	c := newCLI(addr)
	auth := []string{"--sasl-mechanism", "SCRAM-SHA-512", "--user", "admin", "--password", "admin-pw"}
	run := func(stdin string, args ...string) string {
		t.Helper()
		return c.OK(t, stdin, append(args, auth...)...)
	}
	out := run("", "user", "create", "alice", "--new-password", "alice-pw", "--mechanism", "SCRAM-SHA-256,SCRAM-SHA-512", "--iterations", "8192")
	if !clitest.HasRow(out, "alice", "OK") {
		t.Fatalf("create:\n%s", out)
	}
	run("bob-pw\n", "user", "create", "bob")
	list := run("", "user", "list")
	for _, row := range [][]string{{"alice", "SCRAM-SHA-256", "8192"}, {"alice", "SCRAM-SHA-512", "8192"}, {"bob", "SCRAM-SHA-256", "4096"}} {
		if !clitest.HasRow(list, row...) {
			t.Fatalf("list lacks %v:\n%s", row, list)
		}
	}
	if one := run("", "user", "list", "bob"); len(clitest.Rows(one)) != 2 {
		t.Fatalf("list bob:\n%s", one)
	}
	// bob only: kfake's server-first message says 4096 iterations whatever
	// the credential has (the itests authenticate others against Samsa).
	if err := ping(addr, scram.Auth{User: "bob", Pass: "bob-pw"}.AsSha256Mechanism()); err != nil {
		t.Fatalf("bob cannot authenticate: %v", err)
	}
	if err := ping(addr, scram.Auth{User: "bob", Pass: "wrong"}.AsSha256Mechanism()); err == nil {
		t.Fatal("bob authenticates with a wrong password")
	}
	run("", "user", "delete", "alice", "--mechanism", "SCRAM-SHA-256")
	if l := run("", "user", "list"); clitest.HasRow(l, "alice", "SCRAM-SHA-256", "8192") || !clitest.HasRow(l, "alice", "SCRAM-SHA-512", "8192") {
		t.Fatalf("after deleting alice's SCRAM-SHA-256:\n%s", l)
	}
	run("", "user", "delete", "alice", "bob")
	if l := run("", "user", "list"); strings.Contains(l, "alice") || strings.Contains(l, "bob") {
		t.Fatalf("after deleting alice and bob:\n%s", l)
	}
	if _, errOut, code := c.Run(t, "", append([]string{"user", "delete", "carol"}, auth...)...); code != 1 || !strings.Contains(errOut, "carol") {
		t.Fatalf("deleting a user that does not exist: exit %d, %s", code, errOut)
	}
}

// ping connects to addr authenticating with m.
func ping(addr string, m sasl.Mechanism) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.SASL(m))
	if err != nil {
		return err
	}
	defer cl.Close()
	return cl.Ping(ctx)
}
