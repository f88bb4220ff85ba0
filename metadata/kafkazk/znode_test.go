package kafkazk

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestPlainZnodes: the plain znode calls other layouts build on (zkstore's
// ACLs) keep ZooKeeper's meanings: conditional writes on the version,
// -2 as a version no znode has, sequential names under the chroot.
func TestPlainZnodes(t *testing.T) {
	e := sharedEnv(t)
	c := e.client()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Create(ctx, "/kafka-acl-changes", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, "/kafka-acl/Topic/t", []byte("v0")); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, "/kafka-acl/Topic/t", []byte("other")); !errors.Is(err, ErrExists) {
		t.Errorf("create over an existing znode: %v", err)
	}
	if _, err := c.SetIfVersion(ctx, "/kafka-acl/Topic/t", []byte("v1"), 3); !errors.Is(err, ErrBadVersion) {
		t.Errorf("set at a wrong version: %v", err)
	}
	st, err := c.SetIfVersion(ctx, "/kafka-acl/Topic/t", []byte("v1"), 0)
	if err != nil || st.Version != 1 {
		t.Fatalf("set: %+v %v", st, err)
	}
	if data, zst := e.get("/kafka-acl/Topic/t"); string(data) != "v1" || zst.Version != 1 {
		t.Errorf("znode holds %q at version %d", data, zst.Version)
	}
	if _, err := c.SetIfVersion(ctx, "/kafka-acl/Topic/none", []byte("x"), 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("set of a missing znode: %v", err)
	}
	if err := c.DeleteIfVersion(ctx, "/kafka-acl/Topic/t", -2); !errors.Is(err, ErrBadVersion) {
		t.Errorf("delete at version -2 of an existing znode: %v", err)
	}
	if err := c.DeleteIfVersion(ctx, "/kafka-acl/Topic/t", 1); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteIfVersion(ctx, "/kafka-acl/Topic/t", -2); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete of a missing znode: %v", err)
	}
	for want := range []int{0, 1} {
		name, err := c.CreateSequential(ctx, "/kafka-acl-changes/acl_changes_", []byte("TOPIC:t"))
		if err != nil {
			t.Fatal(err)
		}
		if exp := []string{"acl_changes_0000000000", "acl_changes_0000000001"}[want]; name != exp {
			t.Errorf("sequential znode %q, want %q", name, exp)
		}
	}
	kids, err := c.Children(ctx, "/kafka-acl-changes")
	if err != nil || len(kids) != 2 {
		t.Errorf("children %v %v", kids, err)
	}
	data, st, err := c.Get(ctx, "/kafka-acl-changes/acl_changes_0000000001")
	if err != nil || string(data) != "TOPIC:t" || st.Ctime == 0 || time.Since(time.UnixMilli(st.Ctime)) > time.Minute {
		t.Errorf("get: %q %+v %v", data, st, err)
	}
}
