package zkstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"samsa/metadata/kafkazk"
	"samsa/security/acl"
)

// fakeZK is a tree of znodes in memory with ZooKeeper's versions,
// sequential names and creation times: what the ACL store needs of
// kafkazk.Client, without a server (the real one is in the cluster
// integration tests).
type fakeZK struct {
	mu      sync.Mutex
	nodes   map[string]*fakeNode
	now     time.Time // the creation time of new znodes
	watched map[string]func([]string)
}

type fakeNode struct {
	data    []byte
	version int32
	ctime   time.Time
	seq     int64 // next sequential child
}

func newFakeZK() *fakeZK {
	return &fakeZK{nodes: map[string]*fakeNode{"/": {}}, now: time.Unix(1700000000, 0), watched: map[string]func([]string){}}
}

func parentOf(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

func (z *fakeZK) Get(_ context.Context, path string) ([]byte, kafkazk.Stat, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	n, ok := z.nodes[path]
	if !ok {
		return nil, kafkazk.Stat{}, fmt.Errorf("%w: %s", kafkazk.ErrNotFound, path)
	}
	return slices.Clone(n.data), kafkazk.Stat{Version: n.version, Ctime: n.ctime.UnixMilli()}, nil
}

func (z *fakeZK) Children(_ context.Context, path string) ([]string, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if _, ok := z.nodes[path]; !ok {
		return nil, fmt.Errorf("%w: %s", kafkazk.ErrNotFound, path)
	}
	var kids []string
	for p := range z.nodes {
		if p != "/" && parentOf(p) == path {
			kids = append(kids, p[len(path)+1:])
		}
	}
	slices.Sort(kids)
	return kids, nil
}

func (z *fakeZK) create(path string, data []byte) error {
	if _, ok := z.nodes[path]; ok {
		return fmt.Errorf("%w: %s", kafkazk.ErrExists, path)
	}
	if par := parentOf(path); z.nodes[par] == nil {
		if err := z.create(par, nil); err != nil {
			return err
		}
	}
	z.nodes[path] = &fakeNode{data: slices.Clone(data), ctime: z.now}
	return nil
}

func (z *fakeZK) Create(_ context.Context, path string, data []byte) error {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.create(path, data)
}

func (z *fakeZK) CreateSequential(_ context.Context, prefix string, data []byte) (string, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	par := z.nodes[parentOf(prefix)]
	if par == nil {
		return "", fmt.Errorf("%w: %s", kafkazk.ErrNotFound, parentOf(prefix))
	}
	name := fmt.Sprintf("%s%010d", prefix, par.seq)
	par.seq++
	if err := z.create(name, data); err != nil {
		return "", err
	}
	return name[len(parentOf(prefix))+1:], nil
}

func (z *fakeZK) SetIfVersion(_ context.Context, path string, data []byte, version int32) (kafkazk.Stat, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	n, ok := z.nodes[path]
	switch {
	case !ok:
		return kafkazk.Stat{}, fmt.Errorf("%w: %s", kafkazk.ErrNotFound, path)
	case version != -1 && version != n.version:
		return kafkazk.Stat{}, fmt.Errorf("%w: %s", kafkazk.ErrBadVersion, path)
	}
	n.data, n.version = slices.Clone(data), n.version+1
	return kafkazk.Stat{Version: n.version, Ctime: n.ctime.UnixMilli()}, nil
}

func (z *fakeZK) DeleteIfVersion(_ context.Context, path string, version int32) error {
	z.mu.Lock()
	defer z.mu.Unlock()
	n, ok := z.nodes[path]
	switch {
	case !ok:
		return fmt.Errorf("%w: %s", kafkazk.ErrNotFound, path)
	case version != -1 && version != n.version:
		return fmt.Errorf("%w: %s", kafkazk.ErrBadVersion, path)
	}
	delete(z.nodes, path)
	return nil
}

func (z *fakeZK) WatchChildren(path string, fn func([]string)) *kafkazk.Watcher {
	z.mu.Lock()
	z.watched[path] = fn
	z.mu.Unlock()
	return kafkazk.NewWatcher(func(stop <-chan struct{}) { <-stop })
}

// put writes a znode as another writer (Kafka) would.
func (z *fakeZK) put(path, data string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if n, ok := z.nodes[path]; ok {
		n.data, n.version = []byte(data), n.version+1
		return
	}
	if err := z.create(path, []byte(data)); err != nil {
		panic(err)
	}
}

func (z *fakeZK) data(t *testing.T, path string) string {
	t.Helper()
	d, _, err := z.Get(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return string(d)
}

func entry(principal string, op acl.Operation, perm acl.Permission) acl.Entry {
	return acl.Entry{Principal: principal, Host: "*", Operation: op, Permission: perm}
}

// TestACLLayout: an authorizer over the store writes Kafka's paths, JSON
// and change notifications, byte for byte.
func TestACLLayout(t *testing.T) {
	z := newFakeZK()
	s := newACLStore(z, time.Second, nil)
	if err := s.CreatePaths(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/kafka-acl/Topic", "/kafka-acl/TransactionalId", "/kafka-acl/DelegationToken", "/kafka-acl/User",
		"/kafka-acl-extended/prefixed/Group", "/kafka-acl-extended/prefixed/Cluster", "/kafka-acl-changes", "/kafka-acl-extended-changes"} {
		if _, _, err := z.Get(context.Background(), p); err != nil {
			t.Errorf("%s not created: %v", p, err)
		}
	}
	a := acl.New(acl.Config{Store: s})
	if err := a.Load(); err != nil {
		t.Fatal(err)
	}
	topic := acl.Pattern{Type: acl.ResourceTopic, Name: "some-topic", PatternType: acl.PatternLiteral}
	txn := acl.Pattern{Type: acl.ResourceTransactionalID, Name: "tx-", PatternType: acl.PatternPrefix}
	errs := a.CreateACLs([]acl.Binding{
		{Pattern: topic, Entry: entry("User:alice", acl.OpRead, acl.PermissionAllow)},
		{Pattern: txn, Entry: entry("User:bob", acl.OpWrite, acl.PermissionDeny)},
	})
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	for path, want := range map[string]string{
		"/kafka-acl/Topic/some-topic":                        `{"version":1,"acls":[{"principal":"User:alice","permissionType":"Allow","operation":"Read","host":"*"}]}`,
		"/kafka-acl-extended/prefixed/TransactionalId/tx-":   `{"version":1,"acls":[{"principal":"User:bob","permissionType":"Deny","operation":"Write","host":"*"}]}`,
		"/kafka-acl-changes/acl_changes_0000000000":          `TOPIC:some-topic`,
		"/kafka-acl-extended-changes/acl_changes_0000000000": `{"version":1,"resourceType":"TRANSACTIONAL_ID","name":"tx-","patternType":"PREFIXED"}`,
	} {
		if got := z.data(t, path); got != want {
			t.Errorf("%s holds %s, want %s", path, got, want)
		}
	}
	// A second ACL on the topic is a conditional write of the whole set.
	errs = a.CreateACLs([]acl.Binding{{Pattern: topic, Entry: entry("User:*", acl.OpDescribe, acl.PermissionAllow)}})
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	if _, st, _ := z.Get(context.Background(), "/kafka-acl/Topic/some-topic"); st.Version != 1 {
		t.Errorf("znode version %d after the second write, want 1", st.Version)
	}
	// Deleting the last one removes the znode.
	res := a.DeleteACLs([]acl.Filter{acl.MatchAll})
	if len(res[0]) != 3 {
		t.Fatalf("deleted %v", res[0])
	}
	for _, p := range []string{"/kafka-acl/Topic/some-topic", "/kafka-acl-extended/prefixed/TransactionalId/tx-"} {
		if _, _, err := z.Get(context.Background(), p); !errors.Is(err, kafkazk.ErrNotFound) {
			t.Errorf("%s still there: %v", p, err)
		}
	}
	kids, _ := z.Children(context.Background(), "/kafka-acl-changes")
	if len(kids) != 3 {
		t.Errorf("literal change notifications %v, want one per change", kids)
	}
}

// TestACLsKafkaWrote: znodes as Kafka's tools and brokers write them
// (spaces, the upper-case operation names Kafka reads, the type names of
// older and newer Kafka in notifications) are read.
func TestACLsKafkaWrote(t *testing.T) {
	z := newFakeZK()
	s := newACLStore(z, time.Second, nil)
	if err := s.CreatePaths(); err != nil {
		t.Fatal(err)
	}
	z.put("/kafka-acl/Topic/topic-1", `{"version": 1, "acls": [ { "host":"host1", "permissionType": "Allow","operation": "Read","principal": "User:alice"}]}`)
	z.put("/kafka-acl/Cluster/kafka-cluster", `{"version": 1, "acls": [ { "host":"*", "permissionType": "Allow","operation": "IDEMPOTENTWRITE","principal": "User:*"}]}`)
	z.put("/kafka-acl-extended/prefixed/Group/group-1", `{"version": 1, "acls": [ { "host":"host1", "permissionType": "Deny","operation": "READ","principal": "User:alice"}]}`)
	z.put("/kafka-acl/Widget/w", `{"version":1,"acls":[]}`) // an unknown type: skipped
	all, err := s.LoadACLs()
	if err != nil {
		t.Fatal(err)
	}
	want := map[acl.Pattern]acl.Entry{
		{Type: acl.ResourceTopic, Name: "topic-1", PatternType: acl.PatternLiteral}:         {Principal: "User:alice", Host: "host1", Operation: acl.OpRead, Permission: acl.PermissionAllow},
		{Type: acl.ResourceCluster, Name: "kafka-cluster", PatternType: acl.PatternLiteral}: {Principal: "User:*", Host: "*", Operation: acl.OpIdempotentWrite, Permission: acl.PermissionAllow},
		{Type: acl.ResourceGroup, Name: "group-1", PatternType: acl.PatternPrefix}:          {Principal: "User:alice", Host: "host1", Operation: acl.OpRead, Permission: acl.PermissionDeny},
	}
	if len(all) != len(want) {
		t.Fatalf("loaded %v", all)
	}
	for p, e := range want {
		if v := all[p]; len(v.Entries) != 1 || v.Entries[0] != e || v.Version != 0 {
			t.Errorf("%s: %+v", p, v)
		}
	}
	for _, c := range []struct {
		root, data string
		want       acl.Pattern
	}{
		{aclChangesPath, "TOPIC:topic-1", acl.Pattern{Type: acl.ResourceTopic, Name: "topic-1", PatternType: acl.PatternLiteral}},
		{aclChangesPath, "Topic:a:b", acl.Pattern{Type: acl.ResourceTopic, Name: "a:b", PatternType: acl.PatternLiteral}},
		{aclChangesPath, "TRANSACTIONAL_ID:t", acl.Pattern{Type: acl.ResourceTransactionalID, Name: "t", PatternType: acl.PatternLiteral}},
		{extendedChangesPath, `{"version":1,"resourceType":"GROUP","name":"group-1","patternType":"PREFIXED"}`, acl.Pattern{Type: acl.ResourceGroup, Name: "group-1", PatternType: acl.PatternPrefix}},
	} {
		got, err := decodeChange(c.root, []byte(c.data))
		if err != nil || got != c.want {
			t.Errorf("notification %s read as %v, %v", c.data, got, err)
		}
		if back, err := decodeChange(c.root, encodeChange(got)); err != nil || back != got {
			t.Errorf("%v re-encoded reads as %v, %v", got, back, err)
		}
	}
	for _, c := range []struct{ root, data string }{
		{aclChangesPath, "TOPIC"}, {aclChangesPath, "WIDGET:x"}, {extendedChangesPath, "{"},
		{extendedChangesPath, `{"version":2,"resourceType":"GROUP","name":"g","patternType":"PREFIXED"}`},
		{extendedChangesPath, `{"version":1,"resourceType":"GROUP","name":"g","patternType":"MATCH"}`},
	} {
		if p, err := decodeChange(c.root, []byte(c.data)); err == nil {
			t.Errorf("notification %s read as %v", c.data, p)
		}
	}
	// A znode that is not ACL JSON stops the load, naming it.
	z.put("/kafka-acl/Group/broken", `{"version":1,"acls":[{"principal":"alice"}]}`)
	if _, err := s.LoadACLs(); !errors.Is(err, kafkazk.ErrCorrupt) || !strings.Contains(err.Error(), "/kafka-acl/Group/broken") {
		t.Errorf("corrupt znode: %v", err)
	}
}

// TestACLConditionalWrites: the store maps znode versions to the
// authorizer's conflicts.
func TestACLConditionalWrites(t *testing.T) {
	z := newFakeZK()
	s := newACLStore(z, time.Second, nil)
	p := acl.Pattern{Type: acl.ResourceGroup, Name: "g", PatternType: acl.PatternLiteral}
	es := []acl.Entry{entry("User:a", acl.OpRead, acl.PermissionAllow)}
	if v, err := s.ReadACLs(p); err != nil || v.Exists() {
		t.Fatalf("absent: %+v %v", v, err)
	}
	if _, err := s.CreateACLs(p, es); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateACLs(p, es); !errors.Is(err, acl.ErrConflict) {
		t.Errorf("create over existing: %v", err)
	}
	if _, err := s.SetACLs(p, es, 4); !errors.Is(err, acl.ErrConflict) {
		t.Errorf("stale set: %v", err)
	}
	if v, err := s.SetACLs(p, es, 0); err != nil || v != 1 {
		t.Errorf("set: %d %v", v, err)
	}
	if err := s.DeleteACLs(p, acl.Absent); !errors.Is(err, acl.ErrConflict) {
		t.Errorf("delete at Absent of existing ACLs: %v", err)
	}
	if err := s.DeleteACLs(p, 1); err != nil {
		t.Error(err)
	}
	if err := s.DeleteACLs(p, 1); err != nil {
		t.Errorf("delete of nothing: %v", err)
	}
	if _, err := s.SetACLs(p, es, 1); !errors.Is(err, acl.ErrConflict) {
		t.Errorf("set of a deleted znode: %v", err)
	}
}

// TestACLChangeNotifications: each notification newer than the last
// processed refreshes its pattern once, in order, a garbage one is passed
// over, and those older than 15 minutes are purged.
func TestACLChangeNotifications(t *testing.T) {
	z := newFakeZK()
	s := newACLStore(z, time.Second, nil)
	if err := s.CreatePaths(); err != nil {
		t.Fatal(err)
	}
	now := z.now
	s.now = func() time.Time { return now }
	var got []string
	refresh := func(p acl.Pattern) error {
		got = append(got, p.String())
		return nil
	}
	stop := s.Watch(refresh)
	defer stop()
	ctx := context.Background()
	z.CreateSequential(ctx, "/kafka-acl-changes/acl_changes_", []byte("TOPIC:a"))
	z.CreateSequential(ctx, "/kafka-acl-changes/acl_changes_", []byte("garbage"))
	z.CreateSequential(ctx, "/kafka-acl-changes/acl_changes_", []byte("GROUP:g"))
	z.watched[aclChangesPath](nil)
	if want := []string{"Topic:LITERAL:a", "Group:LITERAL:g"}; !slices.Equal(got, want) {
		t.Fatalf("refreshed %v, want %v", got, want)
	}
	got = nil
	z.watched[aclChangesPath](nil)
	if len(got) != 0 {
		t.Errorf("old notifications refreshed again: %v", got)
	}
	z.now = now.Add(10 * time.Minute)
	z.CreateSequential(ctx, "/kafka-acl-changes/acl_changes_", []byte("TOPIC:b"))
	z.CreateSequential(ctx, "/kafka-acl-extended-changes/acl_changes_", encodeChange(acl.Pattern{Type: acl.ResourceTopic, Name: "p", PatternType: acl.PatternPrefix}))
	now = now.Add(16 * time.Minute)
	z.watched[aclChangesPath](nil)
	z.watched[extendedChangesPath](nil)
	if want := []string{"Topic:LITERAL:b", "Topic:PREFIXED:p"}; !slices.Equal(got, want) {
		t.Errorf("refreshed %v, want %v", got, want)
	}
	kids, _ := z.Children(ctx, aclChangesPath)
	if want := []string{"acl_changes_0000000003"}; !slices.Equal(kids, want) {
		t.Errorf("after the purge %v, want %v: the three older than 15 minutes go", kids, want)
	}
	// A restarted broker processes every notification still there.
	got = nil
	fresh := newACLStore(z, time.Second, nil)
	fresh.processChanges(aclChangesPath, refresh)
	if want := []string{"Topic:LITERAL:b"}; !slices.Equal(got, want) {
		t.Errorf("a new listener refreshed %v, want %v", got, want)
	}
}

// FuzzDecodeChange feeds bytes to the reader of an ACL change notification
// of either path. Invariants:
//   - decodeChange never panics, whatever the bytes;
//   - a pattern it accepts has a known type and a storable pattern type
//     (LITERAL under /kafka-acl-changes), and its notification, written by
//     encodeChange under the path it belongs to, reads back the same.
func FuzzDecodeChange(f *testing.F) {
	for _, seed := range []string{"TOPIC:t", "Topic:a:b", "TRANSACTIONAL_ID:x", ":", "TOPIC",
		`{"version":1,"resourceType":"GROUP","name":"app-","patternType":"PREFIXED"}`,
		`{"version":1,"resourceType":"Topic","name":"t","patternType":"LITERAL"}`, `{"version":2}`} {
		f.Add(false, []byte(seed))
		f.Add(true, []byte(seed))
	}
	f.Fuzz(func(t *testing.T, extended bool, data []byte) {
		root := aclChangesPath
		if extended {
			root = extendedChangesPath
		}
		p, err := decodeChange(root, data)
		if err != nil {
			return
		}
		if !p.Type.Known() || !p.PatternType.Specific() || (!extended && p.PatternType != acl.PatternLiteral) {
			t.Fatalf("%q: accepted %+v", data, p)
		}
		back, err := decodeChange(changesPath(p.PatternType), encodeChange(p))
		if err != nil || back != p {
			t.Fatalf("%q: decoded %+v, re-read %+v (%v)", data, p, back, err)
		}
	})
}
