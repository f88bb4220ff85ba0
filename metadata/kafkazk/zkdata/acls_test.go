package zkdata

import "testing"

// The ACL each znode gets, as Kafka's ZkData.defaultAcls decides it.
func TestDefaultACL(t *testing.T) {
	for _, tc := range []struct {
		path   string
		secure bool
		want   ACLKind
	}{
		{"/brokers/ids/1", false, ACLOpen},
		{"/config/users/alice", false, ACLOpen},
		{"/brokers/ids/1", true, ACLCreatorAllWorldRead},
		{"/brokers/topics/t/partitions/0/state", true, ACLCreatorAllWorldRead},
		{"/controller", true, ACLCreatorAllWorldRead},
		{"/config/topics/t", true, ACLCreatorAllWorldRead},
		{"/config/changes/config_change_0000000001", true, ACLCreatorAllWorldRead},
		{"/kafka-acl/Topic/t", true, ACLCreatorAllWorldRead}, // Kafka leaves ACLs world-readable
		{"/config", true, ACLCreatorAllWorldRead},
		{"/config/users", true, ACLCreatorAll},
		{"/config/users/alice", true, ACLCreatorAll},
		{"/config/brokers", true, ACLCreatorAll},
		{"/config/brokers/1", true, ACLCreatorAll},
		{"/config/brokers/<default>", true, ACLCreatorAll},
		{"/delegation_tokens/tokens/x", true, ACLCreatorAll},
		{"/config/usersX", true, ACLCreatorAll}, // a prefix match, as Kafka's
		{"/consumers", true, ACLOpen},
		{"/consumers/g", true, ACLCreatorAllWorldRead}, // only the root stays open
	} {
		if got := DefaultACL(tc.secure, tc.path); got != tc.want {
			t.Errorf("DefaultACL(%v, %s) = %v, want %v", tc.secure, tc.path, got, tc.want)
		}
	}
}
