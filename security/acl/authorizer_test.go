package acl

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
)

// The tests follow Kafka's AuthorizerTest and BaseAuthorizerTest: ACLs
// are created through the authorizer (into a store in memory) and
// decisions asked of it.

func user(name string) Principal { return Principal{Type: UserType, Name: name} }

func topic(name string) Pattern { return Pattern{ResourceTopic, name, PatternLiteral} }

func prefixed(t ResourceType, name string) Pattern { return Pattern{t, name, PatternPrefix} }

func literal(t ResourceType, name string) Pattern { return Pattern{t, name, PatternLiteral} }

var cluster = Pattern{ResourceCluster, ClusterName, PatternLiteral}

func allow(p Principal, host string, op Operation) Entry {
	return Entry{p.String(), host, op, PermissionAllow}
}

func deny(p Principal, host string, op Operation) Entry {
	return Entry{p.String(), host, op, PermissionDeny}
}

func from(p Principal, host string) Requester {
	return Requester{Principal: p, Host: host, API: "Test"}
}

func newAuthorizer(t *testing.T, cfg Config) (*Authorizer, *memStore) {
	t.Helper()
	s := newMemStore()
	cfg.Store = s
	a := New(cfg)
	if err := a.Load(); err != nil {
		t.Fatal(err)
	}
	return a, s
}

func add(t *testing.T, a *Authorizer, p Pattern, es ...Entry) {
	t.Helper()
	var bs []Binding
	for _, e := range es {
		bs = append(bs, Binding{p, e})
	}
	for i, err := range a.CreateACLs(bs) {
		if err != nil {
			t.Fatalf("create %s: %v", bs[i], err)
		}
	}
}

func remove(t *testing.T, a *Authorizer, p Pattern, es ...Entry) {
	t.Helper()
	var fs []Filter
	for _, e := range es {
		name, principal, host := p.Name, e.Principal, e.Host
		fs = append(fs, Filter{
			Pattern: PatternFilter{p.Type, &name, p.PatternType},
			Entry:   EntryFilter{&principal, &host, e.Operation, e.Permission},
		})
	}
	for _, ds := range a.DeleteACLs(fs) {
		for _, d := range ds {
			if d.Err != nil {
				t.Fatalf("delete %s: %v", d.Binding, d.Err)
			}
		}
	}
}

func check(t *testing.T, a *Authorizer, r Requester, op Operation, t2 ResourceType, name string, want bool) {
	t.Helper()
	if got := a.Authorize(r, Action{Operation: op, Type: t2, Name: name}); got != want {
		t.Errorf("%s from %s: %s on %s:%s allowed=%t, want %t", r.Principal, r.Host, op, t2, name, got, want)
	}
}

var everyOperation = []Operation{OpRead, OpWrite, OpCreate, OpDelete, OpAlter, OpDescribe, OpClusterAction,
	OpDescribeConfigs, OpAlterConfigs, OpIdempotentWrite, OpCreateTokens, OpDescribeTokens}

// TestOperationImplications is Kafka's operation table: what an ALLOW of
// each operation allows, and what a DENY of it denies when ALL is allowed.
func TestOperationImplications(t *testing.T) {
	alice := user("alice")
	r := from(alice, "192.168.3.1")
	everything := append([]Operation{OpAll}, everyOperation...)
	allowImplies := map[Operation][]Operation{
		OpAll:          everyOperation,
		OpRead:         {OpDescribe},
		OpWrite:        {OpDescribe},
		OpDelete:       {OpDescribe},
		OpAlter:        {OpDescribe},
		OpAlterConfigs: {OpDescribeConfigs},
	}
	denyImplies := map[Operation][]Operation{OpAll: everyOperation}
	contains := func(ops []Operation, op Operation) bool {
		for _, o := range ops {
			if o == op {
				return true
			}
		}
		return false
	}
	for _, granted := range everything {
		t.Run("allow "+granted.String(), func(t *testing.T) {
			a, _ := newAuthorizer(t, Config{})
			add(t, a, cluster, allow(alice, Wildcard, granted))
			for _, op := range everyOperation {
				want := op == granted || contains(allowImplies[granted], op)
				check(t, a, r, op, ResourceCluster, ClusterName, want)
			}
		})
		t.Run("deny "+granted.String(), func(t *testing.T) {
			a, _ := newAuthorizer(t, Config{})
			add(t, a, cluster, deny(alice, Wildcard, granted), allow(alice, Wildcard, OpAll))
			for _, op := range everyOperation {
				want := !(op == granted || contains(denyImplies[granted], op))
				check(t, a, r, op, ResourceCluster, ClusterName, want)
			}
		})
	}
}

// TestTopicACLs: principals and hosts select the entries that apply; a
// DENY from one host leaves the others alone.
func TestTopicACLs(t *testing.T) {
	alice, rob, batman := user("alice"), user("rob"), user("batman")
	const h1, h2 = "192.168.1.1", "192.168.1.2"
	a, _ := newAuthorizer(t, Config{})
	add(t, a, topic("t"),
		allow(alice, h1, OpRead), allow(alice, h2, OpRead), deny(alice, h1, OpRead),
		allow(alice, h1, OpWrite), allow(alice, Wildcard, OpDescribe),
		allow(rob, Wildcard, OpRead), allow(batman, Wildcard, OpWrite))
	for _, c := range []struct {
		p    Principal
		host string
		op   Operation
		want bool
	}{
		{alice, h2, OpRead, true},
		{alice, h1, OpRead, false}, // the DENY from h1
		{alice, h1, OpWrite, true},
		{alice, h2, OpWrite, false}, // no ALLOW from h2
		{alice, h1, OpDescribe, true},
		{alice, h2, OpDescribe, true},
		{alice, h1, OpAlter, false},
		{rob, h1, OpDescribe, true}, // Read implies Describe
		{batman, h1, OpDescribe, true},
		{rob, h1, OpRead, true},
		{rob, h1, OpWrite, false},
		{batman, h2, OpWrite, true},
		{user("nobody"), h1, OpDescribe, false},
		{Principal{Type: "Group", Name: "alice"}, h2, OpRead, false}, // the principal type counts
	} {
		check(t, a, from(c.p, c.host), c.op, ResourceTopic, "t", c.want)
	}
	check(t, a, from(alice, h2), OpRead, ResourceTopic, "other", false)
	check(t, a, from(alice, h2), OpRead, ResourceGroup, "t", false)
}

// TestDenyWins: a DENY beats an ALLOW wherever they come from (a literal,
// the wildcard, a prefix), and for any principal or host match.
func TestDenyWins(t *testing.T) {
	alice := user("alice")
	const host = "192.168.2.1"
	for _, c := range []struct {
		name       string
		allowOn    Pattern
		allowEntry Entry
		denyOn     Pattern
		denyEntry  Entry
	}{
		{"literal", topic("t"), allow(WildcardPrincipal, Wildcard, OpAll), topic("t"), deny(alice, host, OpAll)},
		{"wildcard deny", topic("t"), allow(alice, host, OpRead), topic("*"), deny(alice, host, OpRead)},
		{"prefix deny", topic("*"), allow(alice, Wildcard, OpRead), prefixed(ResourceTopic, "t"), deny(WildcardPrincipal, host, OpRead)},
		{"deny of ALL", prefixed(ResourceTopic, "t"), allow(alice, host, OpRead), topic("t"), deny(alice, Wildcard, OpAll)},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, _ := newAuthorizer(t, Config{AllowIfNoACL: true})
			add(t, a, c.allowOn, c.allowEntry)
			check(t, a, from(alice, host), OpRead, ResourceTopic, "t", true)
			add(t, a, c.denyOn, c.denyEntry)
			check(t, a, from(alice, host), OpRead, ResourceTopic, "t", false)
		})
	}
}

// TestSuperUsers: super.users may do anything, whatever the ACLs; the
// principal type and name must both match.
func TestSuperUsers(t *testing.T) {
	supers, err := ParseSuperUsers(" User:superuser1 ; User:superuser2;User:ANONYMOUS")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := newAuthorizer(t, Config{SuperUsers: supers})
	for _, p := range []Pattern{topic("*"), cluster, literal(ResourceGroup, "*"), literal(ResourceTransactionalID, "*")} {
		add(t, a, p, deny(WildcardPrincipal, Wildcard, OpAll))
	}
	for _, p := range []Principal{user("superuser1"), user("superuser2"), Anonymous} {
		check(t, a, from(p, "192.0.4.4"), OpRead, ResourceTopic, "t", true)
		check(t, a, from(p, "192.0.4.4"), OpClusterAction, ResourceCluster, ClusterName, true)
		if !a.AuthorizeByResourceType(from(p, "192.0.4.4"), OpWrite, ResourceTopic) {
			t.Errorf("%s: super user refused Write on some topic", p)
		}
	}
	check(t, a, from(Principal{Type: "Group", Name: "superuser1"}, "192.0.4.4"), OpRead, ResourceTopic, "t", false)
	check(t, a, from(user("superuser3"), "192.0.4.4"), OpRead, ResourceTopic, "t", false)
	for _, bad := range []string{"superuser1", "User:a;", ";"} {
		if _, err := ParseSuperUsers(bad); err == nil {
			t.Errorf("super.users=%q accepted", bad)
		}
	}
}

// TestWildcards: User:* and host "*" match every principal and host; a
// literal "*" resource applies to every resource of its type.
func TestWildcards(t *testing.T) {
	alice, bob := user("alice"), user("bob")
	a, _ := newAuthorizer(t, Config{})
	check(t, a, from(alice, "192.168.3.1"), OpRead, ResourceTopic, "t", false)
	add(t, a, topic("*"), allow(alice, "192.168.3.1", OpRead))
	check(t, a, from(alice, "192.168.3.1"), OpRead, ResourceTopic, "t", true)
	check(t, a, from(alice, "192.168.3.2"), OpRead, ResourceTopic, "t", false)
	check(t, a, from(bob, "192.168.3.1"), OpRead, ResourceTopic, "t", false)
	add(t, a, topic("u"), allow(WildcardPrincipal, Wildcard, OpWrite))
	check(t, a, from(bob, "10.0.0.1"), OpWrite, ResourceTopic, "u", true)
	check(t, a, from(bob, "10.0.0.1"), OpWrite, ResourceTopic, "t", false)
	// A DENY of Write on every topic beats the ALLOW on u.
	add(t, a, topic("*"), deny(bob, "10.0.0.1", OpWrite))
	check(t, a, from(bob, "10.0.0.1"), OpWrite, ResourceTopic, "u", false)
	check(t, a, from(alice, "10.0.0.1"), OpWrite, ResourceTopic, "u", true)
}

// TestNoACLFound: a resource that no ACL applies to is refused, or allowed
// to everyone with allow.everyone.if.no.acl.found; one ACL for somebody
// else is enough to refuse everyone else.
func TestNoACLFound(t *testing.T) {
	alice, bob := user("alice"), user("bob")
	for _, allowIfNone := range []bool{false, true} {
		a, _ := newAuthorizer(t, Config{AllowIfNoACL: allowIfNone})
		check(t, a, from(alice, "1.2.3.4"), OpRead, ResourceTopic, "t", allowIfNone)
		check(t, a, from(alice, "1.2.3.4"), OpClusterAction, ResourceCluster, ClusterName, allowIfNone)
		add(t, a, topic("t"), allow(bob, Wildcard, OpRead))
		check(t, a, from(alice, "1.2.3.4"), OpRead, ResourceTopic, "t", false)
		check(t, a, from(alice, "1.2.3.4"), OpRead, ResourceTopic, "other", allowIfNone)
		add(t, a, prefixed(ResourceTopic, "o"), allow(bob, Wildcard, OpRead))
		check(t, a, from(alice, "1.2.3.4"), OpRead, ResourceTopic, "other", false)
	}
	var none *Authorizer
	if !none.Authorize(from(alice, "1.2.3.4"), Action{Operation: OpAlter, Type: ResourceCluster, Name: ClusterName}) {
		t.Error("no authorizer refused")
	}
}

// TestPrefixed: KIP-290 prefixed patterns apply to every name they begin,
// the name itself included, among many unrelated prefixes.
func TestPrefixed(t *testing.T) {
	alice := user("alice")
	r := from(alice, "192.168.0.1")
	a, _ := newAuthorizer(t, Config{})
	for _, p := range []Pattern{topic("a_other"), prefixed(ResourceTopic, "a_other"), prefixed(ResourceTopic, "foo-1"),
		prefixed(ResourceTopic, "foo-2-zzz"), prefixed(ResourceTopic, "fooo-"), prefixed(ResourceTopic, "fo-"),
		prefixed(ResourceTopic, "fon-"), prefixed(ResourceTopic, "z_other"), topic("z_other")} {
		add(t, a, p, deny(alice, Wildcard, OpRead))
	}
	add(t, a, prefixed(ResourceTopic, "foo"), allow(alice, Wildcard, OpRead))
	check(t, a, r, OpRead, ResourceTopic, "foo-bar", true)
	check(t, a, r, OpRead, ResourceTopic, "foo", true)
	check(t, a, r, OpRead, ResourceTopic, "fo", false)
	check(t, a, r, OpRead, ResourceTopic, "foo-1x", false) // under the DENY prefix foo-1
	check(t, a, r, OpRead, ResourceTopic, "fooo-x", false)
	check(t, a, r, OpRead, ResourceGroup, "foo-bar", false)

	b, _ := newAuthorizer(t, Config{})
	add(t, b, topic("f"), allow(alice, Wildcard, OpRead))
	check(t, b, r, OpRead, ResourceTopic, "f", true)
	check(t, b, r, OpRead, ResourceTopic, "foo", false) // a literal is not a prefix
	add(t, b, prefixed(ResourceTopic, "_"), allow(alice, Wildcard, OpRead))
	check(t, b, r, OpRead, ResourceTopic, "_foo", true)
	check(t, b, r, OpRead, ResourceTopic, "_", true)
	check(t, b, r, OpRead, ResourceTopic, "foo_", false)
	// A prefixed "*" is a prefix like any other, not a wildcard.
	add(t, b, prefixed(ResourceTopic, "*"), allow(alice, Wildcard, OpWrite))
	check(t, b, r, OpWrite, ResourceTopic, "x", false)
	check(t, b, r, OpWrite, ResourceTopic, "*x", true)
	// Removing the last prefixed ACL of a length stops matching it.
	remove(t, b, prefixed(ResourceTopic, "_"), allow(alice, Wildcard, OpRead))
	check(t, b, r, OpRead, ResourceTopic, "_foo", false)
}

// TestAuthorizeByResourceType follows Kafka's BaseAuthorizerTest: may the
// requester do op on at least one resource of the type?
func TestAuthorizeByResourceType(t *testing.T) {
	u1, u2 := user("user1"), user("user2")
	const h1, h2 = "192.168.1.1", "192.168.1.2"
	byType := func(t *testing.T, a *Authorizer, r Requester, op Operation, rt ResourceType, want bool) {
		t.Helper()
		if got := a.AuthorizeByResourceType(r, op, rt); got != want {
			t.Errorf("%s from %s: %s on some %s = %t, want %t", r.Principal, r.Host, op, rt, got, want)
		}
	}
	t.Run("allow then deny", func(t *testing.T) {
		a, _ := newAuthorizer(t, Config{})
		r := from(u1, h1)
		byType(t, a, r, OpRead, ResourceTopic, false)
		add(t, a, topic("sb1"), allow(u1, h1, OpRead))
		byType(t, a, r, OpRead, ResourceTopic, true)
		add(t, a, topic("sb1"), deny(u1, h1, OpRead))
		byType(t, a, r, OpRead, ResourceTopic, false)
		remove(t, a, topic("sb1"), deny(u1, h1, OpRead))
		byType(t, a, r, OpRead, ResourceTopic, true)
		remove(t, a, topic("sb1"), allow(u1, h1, OpRead))
		byType(t, a, r, OpRead, ResourceTopic, false)
	})
	t.Run("unrelated deny", func(t *testing.T) {
		a, _ := newAuthorizer(t, Config{})
		add(t, a, topic("sb1"), deny(u1, h1, OpRead), deny(u2, h1, OpRead), deny(u1, h2, OpWrite), deny(u2, h2, OpRead), allow(u1, h2, OpRead))
		add(t, a, topic("sb2"), deny(u1, h2, OpRead))
		add(t, a, prefixed(ResourceGroup, "s"), deny(u1, h2, OpRead))
		byType(t, a, from(u1, h1), OpRead, ResourceTopic, false)
		byType(t, a, from(u1, h1), OpRead, ResourceGroup, false)
		byType(t, a, from(u1, h1), OpRead, ResourceTransactionalID, false)
		byType(t, a, from(u1, h2), OpRead, ResourceTopic, true)
	})
	t.Run("prefixed deny dominates", func(t *testing.T) {
		a, _ := newAuthorizer(t, Config{})
		r := from(u1, h1)
		add(t, a, prefixed(ResourceGroup, "abcde"), allow(u1, h1, OpRead))
		byType(t, a, r, OpRead, ResourceGroup, true)
		add(t, a, prefixed(ResourceGroup, "abcd"), deny(u1, h1, OpRead))
		byType(t, a, r, OpRead, ResourceGroup, false)
		add(t, a, prefixed(ResourceGroup, "abc"), allow(u1, h1, OpRead))
		byType(t, a, r, OpRead, ResourceGroup, true)
		add(t, a, prefixed(ResourceGroup, "a"), deny(u1, h1, OpRead))
		byType(t, a, r, OpRead, ResourceGroup, false)
		add(t, a, prefixed(ResourceGroup, "ab"), allow(u1, h1, OpRead))
		byType(t, a, r, OpRead, ResourceGroup, false)
	})
	t.Run("wildcard deny dominates", func(t *testing.T) {
		a, _ := newAuthorizer(t, Config{AllowIfNoACL: false})
		r := from(u1, h1)
		add(t, a, prefixed(ResourceGroup, "hello"), allow(u1, h1, OpWrite))
		byType(t, a, r, OpWrite, ResourceGroup, true)
		add(t, a, literal(ResourceGroup, "*"), deny(u1, h1, OpWrite))
		byType(t, a, r, OpWrite, ResourceGroup, false)
		add(t, a, literal(ResourceGroup, "*"), allow(u1, h1, OpWrite))
		add(t, a, literal(ResourceGroup, "aloha"), allow(u1, h1, OpWrite))
		byType(t, a, r, OpWrite, ResourceGroup, false)
	})
	t.Run("ALL", func(t *testing.T) {
		a, _ := newAuthorizer(t, Config{})
		r := from(u1, h1)
		add(t, a, topic("sb1"), deny(u1, h1, OpWrite), allow(u1, h1, OpAll))
		byType(t, a, r, OpRead, ResourceTopic, true)
		byType(t, a, r, OpWrite, ResourceTopic, false)
		add(t, a, topic("sb1"), deny(u1, h1, OpAll))
		byType(t, a, r, OpRead, ResourceTopic, false)
	})
	t.Run("hosts and principals", func(t *testing.T) {
		a, _ := newAuthorizer(t, Config{})
		add(t, a, topic("sb1"), allow(u1, h1, OpRead))
		byType(t, a, from(u1, h1), OpRead, ResourceTopic, true)
		add(t, a, topic("sb1"), deny(u1, Wildcard, OpRead))
		byType(t, a, from(u1, h1), OpRead, ResourceTopic, false)
		add(t, a, topic("sb2"), allow(WildcardPrincipal, Wildcard, OpRead))
		byType(t, a, from(u2, h2), OpRead, ResourceTopic, true)
		byType(t, a, from(u1, h1), OpRead, ResourceTopic, true) // sb2 is not denied to u1
		add(t, a, topic("sb2"), deny(WildcardPrincipal, h2, OpRead))
		byType(t, a, from(u2, h2), OpRead, ResourceTopic, false)
	})
	t.Run("allow everyone", func(t *testing.T) {
		a, _ := newAuthorizer(t, Config{AllowIfNoACL: true})
		byType(t, a, from(u1, h1), OpWrite, ResourceTopic, true)
		add(t, a, topic("*"), deny(u1, Wildcard, OpWrite))
		byType(t, a, from(u1, h1), OpWrite, ResourceTopic, false)
		byType(t, a, from(u2, h1), OpWrite, ResourceTopic, true)
	})
}

// TestAuthorizedOperations: KIP-430's bitfield holds exactly the allowed
// operations Kafka defines on the type.
func TestAuthorizedOperations(t *testing.T) {
	alice := user("alice")
	a, _ := newAuthorizer(t, Config{})
	add(t, a, topic("t"), allow(alice, Wildcard, OpRead), allow(alice, Wildcard, OpAlterConfigs))
	got := a.AuthorizedOperations(from(alice, "h"), ResourceTopic, "t")
	want := int32(1<<OpRead | 1<<OpDescribe | 1<<OpDescribeConfigs | 1<<OpAlterConfigs)
	if got != want {
		t.Errorf("topic operations %b, want %b", got, want)
	}
	var none *Authorizer
	if got := none.AuthorizedOperations(from(alice, "h"), ResourceGroup, "g"); got != 1<<OpRead|1<<OpDelete|1<<OpDescribe {
		t.Errorf("group operations without an authorizer %b", got)
	}
	if got := none.AuthorizedOperations(from(alice, "h"), ResourceCluster, ClusterName); got != 1<<5|1<<7|1<<8|1<<9|1<<10|1<<11|1<<12 {
		t.Errorf("cluster operations without an authorizer %b", got)
	}
}

// TestDecisionLog: decisions are logged in Kafka's words, allowed at
// DEBUG, denied at INFO, quiet checks below DEBUG and not counted.
func TestDecisionLog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	counts := map[string]int{}
	a, _ := newAuthorizer(t, Config{Logger: log, Decided: func(act Action, ok bool) {
		counts[fmt.Sprintf("%s/%s/%t", act.Type, act.Operation, ok)]++
	}})
	bob := user("bob")
	add(t, a, topic("orders"), allow(bob, Wildcard, OpRead))
	buf.Reset()
	r := Requester{Principal: bob, Host: "10.0.0.1", API: "Fetch"}
	a.Authorize(r, Action{Operation: OpRead, Type: ResourceTopic, Name: "orders", RefCount: 2})
	a.Authorize(r, Action{Operation: OpWrite, Type: ResourceTopic, Name: "orders"})
	a.Authorize(r, Action{Operation: OpWrite, Type: ResourceTopic, Name: "orders", QuietDenied: true})
	out := buf.String()
	for _, want := range []string{
		`level=DEBUG msg="Principal = User:bob is Allowed Operation = Read from host = 10.0.0.1 on resource = Topic:LITERAL:orders for request = Fetch with resourceRefCount = 2"`,
		`level=INFO msg="Principal = User:bob is Denied Operation = Write from host = 10.0.0.1 on resource = Topic:LITERAL:orders for request = Fetch with resourceRefCount = 1"`,
		"logger=kafka.authorizer.logger",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "is Denied"); n != 1 {
		t.Errorf("%d denials logged, want 1 (the quiet one below DEBUG):\n%s", n, out)
	}
	if counts["Topic/Read/true"] != 1 || counts["Topic/Write/false"] != 1 { // the quiet one is not counted
		t.Errorf("counted %v", counts)
	}
}

// TestCreateDescribeDelete follows Kafka's testAclsFilter and the
// add/remove tests: ACLs are sets per pattern; filters select by exact
// values, ANY, or MATCH; a delete reports each binding under the first
// filter that selects it; the last entry removed removes the pattern.
func TestCreateDescribeDelete(t *testing.T) {
	alice := user("alice")
	a, s := newAuthorizer(t, Config{})
	r1, r2, pre := topic("foo-1"), topic("bar-1"), prefixed(ResourceTopic, "bar-")
	acl1 := Binding{r1, allow(alice, Wildcard, OpRead)}
	acl2 := Binding{r1, allow(alice, "192.168.0.1", OpWrite)}
	acl3 := Binding{r2, allow(alice, Wildcard, OpDescribe)}
	acl4 := Binding{pre, allow(WildcardPrincipal, Wildcard, OpRead)}
	for _, err := range a.CreateACLs([]Binding{acl1, acl2, acl3, acl4, acl1}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(s.notified) != 3 {
		t.Errorf("notified %v, want one per pattern", s.notified)
	}
	wantBindings := func(what string, got []Binding, want ...Binding) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s:\n got %v\nwant %v", what, got, want)
		}
	}
	wantBindings("all", a.ACLs(MatchAll), acl3, acl1, acl2, acl4)
	name := func(s string) *string { return &s }
	anyEntry := EntryFilter{Operation: OpAny, Permission: PermissionAny}
	wantBindings("r1", a.ACLs(Filter{PatternFilter{ResourceTopic, name("foo-1"), PatternLiteral}, anyEntry}), acl1, acl2)
	wantBindings("prefix", a.ACLs(Filter{PatternFilter{ResourceTopic, name("bar-"), PatternPrefix}, anyEntry}), acl4)
	match := Filter{PatternFilter{ResourceAny, name("bar-1"), PatternMatch}, anyEntry}
	wantBindings("match", a.ACLs(match), acl3, acl4)
	wantBindings("any pattern type", a.ACLs(Filter{PatternFilter{ResourceTopic, name("bar-"), PatternAny}, anyEntry}), acl4)
	wantBindings("principal", a.ACLs(Filter{MatchAll.Pattern, EntryFilter{name("User:*"), nil, OpAny, PermissionAny}}), acl4)
	wantBindings("operation", a.ACLs(Filter{MatchAll.Pattern, EntryFilter{nil, nil, OpWrite, PermissionAny}}), acl2)

	// Re-creating an existing ACL changes nothing and notifies nobody.
	for _, err := range a.CreateACLs([]Binding{acl1}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.notified); n != 3 {
		t.Errorf("re-creating an ACL notified (%d notifications)", n)
	}

	exactly := func(b Binding) Filter {
		n, p, h := b.Pattern.Name, b.Entry.Principal, b.Entry.Host
		return Filter{PatternFilter{b.Pattern.Type, &n, b.Pattern.PatternType}, EntryFilter{&p, &h, b.Entry.Operation, b.Entry.Permission}}
	}
	res := a.DeleteACLs([]Filter{match, exactly(acl1), {PatternFilter{ResourceTopic, name("bar-1"), PatternLiteral}, anyEntry},
		{PatternFilter{ResourceTopic, name("baz"), PatternAny}, anyEntry}})
	got := func(ds []Deleted) []Binding {
		var bs []Binding
		for _, d := range ds {
			if d.Err != nil {
				t.Errorf("%s: %v", d.Binding, d.Err)
			}
			bs = append(bs, d.Binding)
		}
		return bs
	}
	wantBindings("deleted by MATCH", got(res[0]), acl3, acl4)
	wantBindings("deleted exactly", got(res[1]), acl1)
	wantBindings("deleted by the third (the first took them)", got(res[2]))
	wantBindings("deleted by the fourth", got(res[3]))
	wantBindings("left", a.ACLs(MatchAll), acl2)
	if _, ok := s.acls[r2]; ok {
		t.Error("a pattern without ACLs is still stored")
	}
	if _, ok := s.acls[pre]; ok {
		t.Error("a prefixed pattern without ACLs is still stored")
	}
}

// TestDeleteReachesUncachedACLs: a filter naming one pattern exactly
// deletes ACLs another broker stored that this one has not heard of.
func TestDeleteReachesUncachedACLs(t *testing.T) {
	alice := user("alice")
	a, s := newAuthorizer(t, Config{})
	s.put(topic("t"), allow(alice, Wildcard, OpRead))
	s.put(topic("u"), allow(alice, Wildcard, OpRead))
	n := "t"
	res := a.DeleteACLs([]Filter{{PatternFilter{ResourceTopic, &n, PatternAny}, MatchAll.Entry}, MatchAll})
	if len(res[0]) != 1 || res[0][0].Binding.Pattern != topic("t") {
		t.Errorf("deleted %v", res[0])
	}
	if len(res[1]) != 0 {
		t.Errorf("the match-all filter deleted %v: it reaches only cached patterns", res[1])
	}
	if _, ok := s.acls[topic("u")]; !ok {
		t.Error("an uncached pattern no filter named was deleted")
	}
	// A filter naming a pattern that has no ACLs writes nothing.
	before, none := s.writes, "none"
	a.DeleteACLs([]Filter{{PatternFilter{ResourceGroup, &none, PatternAny}, MatchAll.Entry}})
	if s.writes != before {
		t.Errorf("%d store writes to delete nothing", s.writes-before)
	}
}

// TestConflictRetries: a write that finds the pattern changed by another
// broker reads it again and merges, so neither broker's ACLs are lost;
// a pattern that keeps changing fails after the retries.
func TestConflictRetries(t *testing.T) {
	synctest.Test(t, testConflictRetries) // the backoffs between retries on the fake clock
}

func testConflictRetries(t *testing.T) {
	alice, bob := user("alice"), user("bob")
	a, s := newAuthorizer(t, Config{})
	add(t, a, topic("t"), allow(alice, Wildcard, OpRead))
	// Another broker adds bob's ACL just before this one writes.
	once := true
	s.before = func(p Pattern) {
		if once {
			once = false
			cur, _ := s.ReadACLs(p)
			s.put(p, append(cur.Entries, allow(bob, Wildcard, OpWrite))...)
		}
	}
	add(t, a, topic("t"), allow(alice, Wildcard, OpDescribe))
	v, _ := s.ReadACLs(topic("t"))
	if len(v.Entries) != 3 || v.Version != 2 {
		t.Fatalf("stored %v at version %d, want alice's two and bob's at version 2", v.Entries, v.Version)
	}
	check(t, a, from(bob, "h"), OpWrite, ResourceTopic, "t", true)

	// A creation racing another broker's creation of the same pattern.
	once = true
	add(t, a, topic("new"), allow(alice, Wildcard, OpRead))
	if v, _ := s.ReadACLs(topic("new")); len(v.Entries) != 2 {
		t.Errorf("stored %v, want both brokers' ACLs", v.Entries)
	}

	// Always changed underneath: give up after the retries.
	s.before = func(p Pattern) {
		cur, _ := s.ReadACLs(p)
		s.put(p, cur.Entries...)
	}
	errs := a.CreateACLs([]Binding{{topic("t"), allow(alice, Wildcard, OpAlter)}})
	if errs[0] == nil || !strings.Contains(errs[0].Error(), "maximum of 10 times") {
		t.Errorf("a pattern that never settles: %v", errs[0])
	}
}

// TestRefresh: a change notification makes the broker read the pattern
// again; an unchanged cache elsewhere.
func TestRefresh(t *testing.T) {
	alice := user("alice")
	a, s := newAuthorizer(t, Config{})
	s.put(prefixed(ResourceGroup, "g"), allow(alice, Wildcard, OpRead))
	check(t, a, from(alice, "h"), OpRead, ResourceGroup, "g1", false)
	if err := a.Refresh(prefixed(ResourceGroup, "g")); err != nil {
		t.Fatal(err)
	}
	check(t, a, from(alice, "h"), OpRead, ResourceGroup, "g1", true)
	delete(s.acls, prefixed(ResourceGroup, "g"))
	if err := a.Refresh(prefixed(ResourceGroup, "g")); err != nil {
		t.Fatal(err)
	}
	check(t, a, from(alice, "h"), OpRead, ResourceGroup, "g1", false)

	// Load takes everything at start.
	s.put(topic("t"), allow(alice, Wildcard, OpWrite))
	b := New(Config{Store: s})
	if err := b.Load(); err != nil {
		t.Fatal(err)
	}
	check(t, b, from(alice, "h"), OpWrite, ResourceTopic, "t", true)
}

// TestValidate: what CreateAcls refuses with INVALID_REQUEST.
func TestValidate(t *testing.T) {
	ok := Binding{topic("t"), allow(user("a"), Wildcard, OpRead)}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		edit func(b *Binding)
	}{
		{"cluster name", func(b *Binding) { b.Pattern = Pattern{ResourceCluster, "c", PatternLiteral} }},
		{"empty name", func(b *Binding) { b.Pattern.Name = "" }},
		{"slash", func(b *Binding) { b.Pattern.Name = "a/b" }},
		{"any type", func(b *Binding) { b.Pattern.Type = ResourceAny }},
		{"unknown type", func(b *Binding) { b.Pattern.Type = 42 }},
		{"match", func(b *Binding) { b.Pattern.PatternType = PatternMatch }},
		{"any operation", func(b *Binding) { b.Entry.Operation = OpAny }},
		{"unknown permission", func(b *Binding) { b.Entry.Permission = PermissionUnknown }},
		{"principal", func(b *Binding) { b.Entry.Principal = "alice" }},
	} {
		b := ok
		c.edit(&b)
		if err := b.Validate(); err == nil {
			t.Errorf("%s: %v accepted", c.name, b)
		}
		if errs := New(Config{Store: newMemStore()}).CreateACLs([]Binding{b}); errs[0] == nil {
			t.Errorf("%s: created", c.name)
		}
	}
}
