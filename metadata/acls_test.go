package metadata

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"samsa/security/acl"
)

// TestLocalACLs: the standalone store keeps ACLs durably with versions
// that count writes, refuses writes at a stale version as ZooKeeper
// would, and writes the entries in Kafka's ACL JSON.
func TestLocalACLs(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	topic := acl.Pattern{Type: acl.ResourceTopic, Name: "orders", PatternType: acl.PatternLiteral}
	group := acl.Pattern{Type: acl.ResourceGroup, Name: "app-", PatternType: acl.PatternPrefix}
	read := acl.Entry{Principal: "User:alice", Host: "*", Operation: acl.OpRead, Permission: acl.PermissionAllow}
	deny := acl.Entry{Principal: "User:*", Host: "10.0.0.1", Operation: acl.OpAll, Permission: acl.PermissionDeny}

	if v, err := s.ReadACLs(topic); err != nil || v.Exists() {
		t.Fatalf("no ACLs read as %+v, %v", v, err)
	}
	if v, err := s.CreateACLs(topic, []acl.Entry{read}); err != nil || v != 0 {
		t.Fatalf("create: %d, %v", v, err)
	}
	if _, err := s.CreateACLs(topic, []acl.Entry{deny}); !errors.Is(err, acl.ErrConflict) {
		t.Fatalf("second create: %v", err)
	}
	if _, err := s.SetACLs(topic, []acl.Entry{read, deny}, 1); !errors.Is(err, acl.ErrConflict) {
		t.Fatalf("set at a stale version: %v", err)
	}
	if v, err := s.SetACLs(topic, []acl.Entry{read, deny}, 0); err != nil || v != 1 {
		t.Fatalf("set: %d, %v", v, err)
	}
	if _, err := s.SetACLs(group, []acl.Entry{read}, 0); !errors.Is(err, acl.ErrConflict) {
		t.Fatalf("set of a pattern with no ACLs: %v", err)
	}
	if _, err := s.CreateACLs(group, []acl.Entry{read}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteACLs(group, 3); !errors.Is(err, acl.ErrConflict) {
		t.Fatalf("delete at a stale version: %v", err)
	}
	if err := s.DeleteACLs(group, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteACLs(group, acl.Absent); err != nil {
		t.Fatalf("delete of nothing: %v", err)
	}

	data, err := os.ReadFile(filepath.Join(dir, LocalFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"resource_type": "Topic"`, `"pattern_type": "LITERAL"`, `"principal": "User:alice"`, `"permissionType": "Allow"`, `"operation": "Read"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the metadata file lacks %s:\n%s", want, data)
		}
	}
	r, err := OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	all, err := r.LoadACLs()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[topic].Version != 1 || !slices.Equal(all[topic].Entries, []acl.Entry{read, deny}) {
		t.Fatalf("after reopen: %+v", all)
	}
}
