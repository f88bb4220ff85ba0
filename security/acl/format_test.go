package acl

import (
	"errors"
	"net"
	"slices"
	"testing"
)

// TestNames: both of Kafka's spellings of each enumeration, written and
// read (SecurityUtils' Pascal case, the enums' names).
func TestNames(t *testing.T) {
	for _, c := range []struct {
		pascal, enum string
		got          [2]string
	}{
		{"Topic", "TOPIC", [2]string{ResourceTopic.String(), ResourceTopic.EnumName()}},
		{"TransactionalId", "TRANSACTIONAL_ID", [2]string{ResourceTransactionalID.String(), ResourceTransactionalID.EnumName()}},
		{"DelegationToken", "DELEGATION_TOKEN", [2]string{ResourceDelegationToken.String(), ResourceDelegationToken.EnumName()}},
		{"IdempotentWrite", "IDEMPOTENT_WRITE", [2]string{OpIdempotentWrite.String(), OpIdempotentWrite.EnumName()}},
		{"DescribeConfigs", "DESCRIBE_CONFIGS", [2]string{OpDescribeConfigs.String(), OpDescribeConfigs.EnumName()}},
		{"Allow", "ALLOW", [2]string{PermissionAllow.String(), PermissionAllow.EnumName()}},
	} {
		if c.got != [2]string{c.pascal, c.enum} {
			t.Errorf("names %v, want %s and %s", c.got, c.pascal, c.enum)
		}
	}
	if PatternPrefix.String() != "PREFIXED" || PatternLiteral.String() != "LITERAL" {
		t.Errorf("pattern names %s %s", PatternPrefix, PatternLiteral)
	}
	for s, want := range map[string]ResourceType{"Topic": ResourceTopic, "TOPIC": ResourceTopic, "topic": ResourceTopic,
		"TransactionalId": ResourceTransactionalID, "TRANSACTIONALID": ResourceTransactionalID, "transactional_id": ResourceTransactionalID} {
		if got, err := ParseResourceType(s); err != nil || got != want {
			t.Errorf("ParseResourceType(%q) = %v, %v", s, got, err)
		}
	}
	for s, want := range map[string]Operation{"Read": OpRead, "READ": OpRead, "IdempotentWrite": OpIdempotentWrite,
		"IDEMPOTENT_WRITE": OpIdempotentWrite, "all": OpAll, "ClusterAction": OpClusterAction} {
		if got, err := ParseOperation(s); err != nil || got != want {
			t.Errorf("ParseOperation(%q) = %v, %v", s, got, err)
		}
	}
	for _, bad := range []string{"", "Reed", "UNKNOWN", "Read "} {
		if _, err := ParseOperation(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseOperation(%q) accepted", bad)
		}
	}
	if p, err := ParsePatternType("prefixed"); err != nil || p != PatternPrefix {
		t.Errorf("ParsePatternType(prefixed) = %v, %v", p, err)
	}
	if p, err := ParsePermission("Deny"); err != nil || p != PermissionDeny {
		t.Errorf("ParsePermission(Deny) = %v, %v", p, err)
	}
}

// TestPrincipal: "type:name" split at the first colon, as Kafka does.
func TestPrincipal(t *testing.T) {
	for s, want := range map[string]Principal{"User:alice": {Type: "User", Name: "alice"}, "User:a:b": {Type: "User", Name: "a:b"},
		"User:": {Type: "User", Name: ""}, "Group:ops": {Type: "Group", Name: "ops"}, "User:*": WildcardPrincipal} {
		p, err := ParsePrincipal(s)
		if err != nil || p != want || p.String() != s {
			t.Errorf("ParsePrincipal(%q) = %v, %v", s, p, err)
		}
	}
	for _, bad := range []string{"", "alice"} {
		if _, err := ParsePrincipal(bad); err == nil {
			t.Errorf("ParsePrincipal(%q) accepted", bad)
		}
	}
	if Anonymous.String() != "User:ANONYMOUS" {
		t.Errorf("anonymous is %s", Anonymous)
	}
}

// TestHostOf: the host string is Java's getHostAddress, which Kafka
// compares ACL hosts with.
func TestHostOf(t *testing.T) {
	for _, c := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(192, 168, 1, 1), Port: 9092}, "192.168.1.1"},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:10.0.0.7"), Port: 1}, "10.0.0.7"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 1}, "0:0:0:0:0:0:0:1"},
		{&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 1, Zone: "eth0"}, "fe80:0:0:0:0:0:0:1%eth0"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8::ab:ff00:42:8329"), Port: 1}, "2001:db8:0:0:ab:ff00:42:8329"},
		{pipe{}, "pipe"},
		{nil, ""},
	} {
		if got := HostOf(c.addr); got != c.want {
			t.Errorf("HostOf(%v) = %q, want %q", c.addr, got, c.want)
		}
	}
}

type pipe struct{}

func (pipe) Network() string { return "pipe" }
func (pipe) String() string  { return "pipe" }

// TestACLJSON: the znode JSON of Kafka's AclEntryTest and ZkData's
// examples reads, and what is written reads back the same.
func TestACLJSON(t *testing.T) {
	alice, bob := user("alice"), user("bob")
	want := normalize([]Entry{deny(alice, "host1", OpRead), allow(bob, Wildcard, OpRead), deny(bob, "host1", OpRead)})
	kafka := []byte(`{"version": 1, "acls": [{"host": "host1","permissionType": "Deny","operation": "READ", "principal": "User:alice"  },
    {  "host":  "*" ,  "permissionType": "Allow",  "operation":  "Read", "principal": "User:bob"  },
    {  "host": "host1",  "permissionType": "Deny",  "operation":   "Read" ,  "principal": "User:bob"}]}`)
	got, err := DecodeACLs(kafka)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("Kafka's JSON read as %v, %v; want %v", got, err, want)
	}
	enc := EncodeACLs(want)
	if back, err := DecodeACLs(enc); err != nil || !slices.Equal(back, want) {
		t.Errorf("round trip of %s: %v, %v", enc, back, err)
	}
	one := EncodeACLs([]Entry{allow(alice, Wildcard, OpIdempotentWrite)})
	if string(one) != `{"version":1,"acls":[{"principal":"User:alice","permissionType":"Allow","operation":"IdempotentWrite","host":"*"}]}` {
		t.Errorf("encoded %s", one)
	}
	if got, err := DecodeACLs(nil); err != nil || got != nil {
		t.Errorf("no bytes: %v, %v", got, err)
	}
	for _, bad := range []string{
		`{"acls":[]}`,
		`{"version":2,"acls":[]}`,
		`{"version":1,"acls":[{"principal":"User:a","permissionType":"Allow","operation":"Read"}]}`,
		`{"version":1,"acls":[{"principal":"a","permissionType":"Allow","operation":"Read","host":"*"}]}`,
		`{"version":1,"acls":[{"principal":"User:a","permissionType":"Maybe","operation":"Read","host":"*"}]}`,
		`{"version":1,"acls":[{"principal":"User:a","permissionType":"Allow","operation":"Any","host":"*"}]}`,
		`{"version":1,"acls":[{"principal":"User:a","permissionType":"Allow","operation":"Fly","host":"*"}]}`,
		`{"version":1,"acls":`,
	} {
		if got, err := DecodeACLs([]byte(bad)); err == nil {
			t.Errorf("%s read as %v", bad, got)
		}
	}
}

// TestPatternFilter is ResourcePatternFilter.matches over the pattern
// types.
func TestPatternFilter(t *testing.T) {
	n := func(s string) *string { return &s }
	for _, c := range []struct {
		f    PatternFilter
		p    Pattern
		want bool
	}{
		{PatternFilter{ResourceAny, nil, PatternAny}, prefixed(ResourceGroup, "g"), true},
		{PatternFilter{ResourceTopic, nil, PatternAny}, prefixed(ResourceGroup, "g"), false},
		{PatternFilter{ResourceTopic, n("t"), PatternLiteral}, topic("t"), true},
		{PatternFilter{ResourceTopic, n("t"), PatternLiteral}, prefixed(ResourceTopic, "t"), false},
		{PatternFilter{ResourceTopic, n("t"), PatternAny}, prefixed(ResourceTopic, "t"), true},
		{PatternFilter{ResourceTopic, n("tt"), PatternAny}, prefixed(ResourceTopic, "t"), false},
		{PatternFilter{ResourceTopic, n("tt"), PatternMatch}, prefixed(ResourceTopic, "t"), true},
		{PatternFilter{ResourceTopic, n("tt"), PatternMatch}, topic("*"), true},
		{PatternFilter{ResourceTopic, n("tt"), PatternMatch}, topic("tt"), true},
		{PatternFilter{ResourceTopic, n("tt"), PatternMatch}, topic("t"), false},
		{PatternFilter{ResourceTopic, n("t"), PatternMatch}, prefixed(ResourceTopic, "tt"), false},
		{PatternFilter{ResourceTopic, n("*"), PatternLiteral}, topic("t"), false},
		{PatternFilter{ResourceUnknown, nil, PatternAny}, topic("t"), false},
	} {
		if got := c.f.Matches(c.p); got != c.want {
			name := "<any>"
			if c.f.Name != nil {
				name = *c.f.Name
			}
			t.Errorf("filter %s:%s:%s on %s = %t, want %t", c.f.Type, c.f.PatternType, name, c.p, got, c.want)
		}
	}
}
