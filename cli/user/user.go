// Package user is samsa user: create, delete and list SCRAM users through
// the Kafka admin APIs (AlterUserScramCredentials,
// DescribeUserScramCredentials, KIP-554), as rpk security user and
// kafka-configs.sh --entity-type users --add-config 'SCRAM-SHA-256=[...]'
// do. One file per subcommand; this one holds the command group and what
// they share.
//
// The password travels salted and hashed, never in the clear: the client
// salts it and runs the iterations, the broker derives the stored keys.
// The user's password is --new-password (--password is the SASL password
// of the user running the command), or the first line of standard input.
package user

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"samsa/cli/command"
)

// NewCommand returns samsa user and its subcommands.
func NewCommand(cf *command.ClientFlags) *cobra.Command {
	c := command.Group("user", "Create, delete and list SCRAM users",
		`SCRAM user administration through the Kafka admin APIs, like rpk security
user and kafka-configs.sh --entity-type users. Brokers authenticate
SCRAM-SHA-256 and SCRAM-SHA-512 clients of their SASL listeners against
these credentials, kept where Kafka keeps them (ZooKeeper's /config/users, or
a standalone broker's metadata file). Changing them needs Alter on the
cluster (Describe to list) unless the principal is in super.users.`)
	cf.Persistent(c)
	c.AddCommand(createCommand(cf), deleteCommand(cf), listCommand(cf))
	return c
}

// mechanisms parses --mechanism: SCRAM-SHA-256, SCRAM-SHA-512, any case.
func mechanisms(names []string) ([]kadm.ScramMechanism, error) {
	var out []kadm.ScramMechanism
	for _, n := range names {
		switch strings.ToUpper(strings.TrimSpace(n)) {
		case "SCRAM-SHA-256":
			out = append(out, kadm.ScramSha256)
		case "SCRAM-SHA-512":
			out = append(out, kadm.ScramSha512)
		default:
			return nil, command.UsageErrorf("--mechanism %q: want SCRAM-SHA-256 or SCRAM-SHA-512", n)
		}
	}
	return out, nil
}

// readPassword is the first line of in, for a password not on the
// command line (where the shell's history would keep it).
func readPassword(in io.Reader) (string, error) {
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", command.UsageErrorf("no password: give --new-password, or the password on standard input")
	}
	return pw, nil
}

// report prints each user's outcome and returns an error if one failed.
func report(s *command.Session, results kadm.AlteredUserSCRAMs, what string) error {
	tw := command.NewTable(s.Out())
	fmt.Fprintln(tw, "USER\tSTATUS")
	failed := 0
	for _, r := range results.Sorted() {
		status := "OK"
		if r.Err != nil {
			status, failed = command.ErrText(r.Err, r.ErrMessage), failed+1
		}
		fmt.Fprintf(tw, "%s\t%s\n", r.User, status)
	}
	tw.Flush()
	if failed > 0 {
		return fmt.Errorf("%d users not %s", failed, what)
	}
	return nil
}
