package sasl

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestParseJAASFile: login configuration files as Kafka's documentation
// writes them for a broker (KafkaServer for its listeners, Client for
// ZooKeeper), and the ways they go wrong.
func TestParseJAASFile(t *testing.T) {
	doc := `
// The broker's listeners.
KafkaServer {
    org.apache.kafka.common.security.plain.PlainLoginModule required
    username="admin"
    password="admin-secret"
    user_admin="admin-secret";
};

/* ZooKeeper */
Client {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    username="kafka"
    password="kafka-secret";
};
Empty { };
`
	got, err := ParseJAASFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	if names := slices.Sorted(maps.Keys(got)); !slices.Equal(names, []string{"Client", "Empty", "KafkaServer"}) {
		t.Fatalf("sections %v", names)
	}
	if cr, ok := JAASCredentials(got["Client"], "org.apache.zookeeper.server.auth.DigestLoginModule"); !ok || cr != (Credentials{"kafka", "kafka-secret"}) {
		t.Fatalf("Client credentials %+v, %v", cr, ok)
	}
	if len(got["Empty"]) != 0 || got["Empty"] == nil {
		t.Fatalf("Empty = %#v, want an empty section", got["Empty"])
	}
	if s, err := ParseJAASFile("  // nothing\n"); err != nil || len(s) != 0 {
		t.Fatalf("a file of comments: %v, %v", s, err)
	}

	for _, tc := range []struct{ in, err string }{
		{"Client { m required; }", "expected ';' after the section Client"},
		{"Client m required; };", "expected '{' after Client"},
		{"Client { m required k=v }; ", `option name expected, found "}"`},
		{"Client { m required;", "section Client not closed"},
		{"Client { m bogus; };", "Invalid login module control flag 'bogus'"},
		{"Client { }; Client { };", "multiple entries for Client"},
		{"{ m required; };", `login configuration name expected, found "{"`},
	} {
		_, err := ParseJAASFile(tc.in)
		if !errors.Is(err, ErrJAAS) || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: %v, want ErrJAAS with %q", tc.in, err, tc.err)
		}
	}
}
