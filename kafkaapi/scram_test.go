package kafkaapi

// DescribeUserScramCredentials and AlterUserScramCredentials (KIP-554),
// as Kafka's DescribeUserScramCredentialsRequestTest and
// AlterUserScramCredentialsRequestTest drive them: results per user,
// Kafka's errors and messages, authorization on the cluster, the
// controller's alone in ZooKeeper mode, and what the SASL listeners' cache
// sees.

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/security"
	"samsa/security/acl"
	"samsa/security/sasl"
)

// upsertion is what a client sends for user's password: it salts and
// hashes, the broker derives the keys.
func upsertion(t *testing.T, user string, m *sasl.ScramMechanism, password string, iterations int32) kmsg.AlterUserSCRAMCredentialsRequestUpsertion {
	t.Helper()
	u := kmsg.NewAlterUserSCRAMCredentialsRequestUpsertion()
	u.Name, u.Mechanism, u.Iterations = user, m.Type, iterations
	u.Salt = []byte("salt-of-" + user)
	var err error
	if u.SaltedPassword, err = m.SaltedPassword(password, u.Salt, max(int(iterations), 1)); err != nil {
		t.Fatal(err)
	}
	return u
}

func deletion(user string, mech int8) kmsg.AlterUserSCRAMCredentialsRequestDeletion {
	d := kmsg.NewAlterUserSCRAMCredentialsRequestDeletion()
	d.Name, d.Mechanism = user, mech
	return d
}

// alterSCRAM sends the alterations and returns each user's code and
// message.
func alterSCRAM(b *testBroker, up []kmsg.AlterUserSCRAMCredentialsRequestUpsertion, del []kmsg.AlterUserSCRAMCredentialsRequestDeletion) map[string]string {
	b.t.Helper()
	req := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	req.Upsertions, req.Deletions = up, del
	resp := do[*kmsg.AlterUserSCRAMCredentialsResponse](b, 0, req)
	out := map[string]string{}
	for _, r := range resp.Results {
		if _, dup := out[r.User]; dup {
			b.t.Fatalf("two results for user %q", r.User)
		}
		out[r.User] = codeText(r.ErrorCode, r.ErrorMessage)
	}
	return out
}

func codeText(code int16, msg *string) string {
	if code == 0 {
		return "NONE"
	}
	s := kerr.ErrorForCode(code).(*kerr.Error).Message
	if msg != nil {
		s += ": " + *msg
	}
	return s
}

// describeSCRAM describes users (none: all) and returns each result as
// "user code [mech:iterations...]", in the order answered.
func describeSCRAM(b *testBroker, users ...string) (top string, results []string) {
	b.t.Helper()
	req := kmsg.NewPtrDescribeUserSCRAMCredentialsRequest()
	for _, u := range users {
		ru := kmsg.NewDescribeUserSCRAMCredentialsRequestUser()
		ru.Name = u
		req.Users = append(req.Users, ru)
	}
	resp := do[*kmsg.DescribeUserSCRAMCredentialsResponse](b, 0, req)
	for _, r := range resp.Results {
		s := r.User + " " + codeText(r.ErrorCode, r.ErrorMessage)
		for _, ci := range r.CredentialInfos {
			s += " " + sasl.ScramByType(ci.Mechanism).Name + ":" + strconv.Itoa(int(ci.Iterations))
		}
		results = append(results, s)
	}
	return codeText(resp.ErrorCode, resp.ErrorMessage), results
}

// TestSCRAMCredentials: users created, described, changed and deleted,
// the credentials authenticating in the SASL listeners' cache as they are
// written.
func TestSCRAMCredentials(t *testing.T) {
	b := newTestBroker(t, nil)
	if top, rs := describeSCRAM(b); top != "NONE" || len(rs) != 0 {
		t.Fatalf("no users: %s %v", top, rs)
	}
	got := alterSCRAM(b, []kmsg.AlterUserSCRAMCredentialsRequestUpsertion{
		upsertion(t, "alice", sasl.SHA256, "alice-pw", 4096),
		upsertion(t, "alice", sasl.SHA512, "alice-pw", 8192),
		upsertion(t, "bob", sasl.SHA256, "bob-pw", 16384),
	}, nil)
	if got["alice"] != "NONE" || got["bob"] != "NONE" || len(got) != 2 {
		t.Fatalf("created: %v", got)
	}
	_, rs := describeSCRAM(b)
	if want := []string{"alice NONE SCRAM-SHA-256:4096 SCRAM-SHA-512:8192", "bob NONE SCRAM-SHA-256:16384"}; !slices.Equal(rs, want) {
		t.Fatalf("described %q; want %q", rs, want)
	}
	_, rs = describeSCRAM(b, "bob", "nobody", "", "alice", "alice")
	want := []string{
		"bob NONE SCRAM-SHA-256:16384",
		"nobody RESOURCE_NOT_FOUND: Attempt to describe a user credential that does not exist: nobody",
		" RESOURCE_NOT_FOUND: Username must not be empty",
		"alice DUPLICATE_RESOURCE: Cannot describe SCRAM credentials for the same user twice in a single request: alice",
	}
	if !slices.Equal(rs, want) {
		t.Fatalf("described by name:\n%q\nwant\n%q", rs, want)
	}

	// The cache the SASL listeners read has them, and they authenticate.
	cache := b.h.SCRAM()
	for _, m := range sasl.ScramMechanisms {
		srv := sasl.NewScram(m, cache.Lookup)
		if err := scramExchange(srv, m, "alice", "alice-pw"); err != nil {
			t.Fatalf("alice over %s: %v", m.Name, err)
		}
	}

	got = alterSCRAM(b, []kmsg.AlterUserSCRAMCredentialsRequestUpsertion{
		upsertion(t, "", sasl.SHA256, "x", 4096),
		upsertion(t, "few", sasl.SHA256, "x", 4095),
		upsertion(t, "many", sasl.SHA512, "x", 16385),
		upsertion(t, "twice", sasl.SHA256, "x", 4096),
		upsertion(t, "twice", sasl.SHA256, "y", 4096),
		upsertion(t, "bob", sasl.SHA256, "bob-pw", 4096), // with a deletion that fails: bob unchanged
	}, []kmsg.AlterUserSCRAMCredentialsRequestDeletion{
		deletion("unknown-mech", 0), deletion("unknown-mech2", 3), deletion("bob", sasl.SHA512.Type), deletion("alice", sasl.SHA512.Type),
	})
	wantAlter := map[string]string{
		"":              "UNACCEPTABLE_CREDENTIAL: Username must not be empty",
		"few":           "UNACCEPTABLE_CREDENTIAL: Too few iterations",
		"many":          "UNACCEPTABLE_CREDENTIAL: Too many iterations",
		"unknown-mech":  "UNSUPPORTED_SASL_MECHANISM: Unknown SCRAM mechanism",
		"unknown-mech2": "UNSUPPORTED_SASL_MECHANISM: Unknown SCRAM mechanism",
		"twice":         "DUPLICATE_RESOURCE: A user credential cannot be altered twice in the same request",
		"bob":           "RESOURCE_NOT_FOUND: Attempt to delete a user credential that does not exist",
		"alice":         "NONE",
	}
	for u, w := range wantAlter {
		if got[u] != w {
			t.Errorf("%q: %s; want %s", u, got[u], w)
		}
	}
	if len(got) != len(wantAlter) {
		t.Errorf("results %v", got)
	}
	if _, rs = describeSCRAM(b); !slices.Equal(rs, []string{"alice NONE SCRAM-SHA-256:4096", "bob NONE SCRAM-SHA-256:16384"}) {
		t.Fatalf("after the refusals and alice's deletion: %q", rs)
	}
	if _, ok := cache.Lookup(sasl.SHA512, "alice"); ok {
		t.Fatal("alice's deleted credential is still in the cache")
	}
	// A new password replaces the old one.
	alterSCRAM(b, []kmsg.AlterUserSCRAMCredentialsRequestUpsertion{upsertion(t, "alice", sasl.SHA256, "new-pw", 4096)}, nil)
	if err := scramExchange(sasl.NewScram(sasl.SHA256, cache.Lookup), sasl.SHA256, "alice", "alice-pw"); err == nil {
		t.Fatal("alice's old password still authenticates")
	}
	if err := scramExchange(sasl.NewScram(sasl.SHA256, cache.Lookup), sasl.SHA256, "alice", "new-pw"); err != nil {
		t.Fatalf("alice's new password: %v", err)
	}
	alterSCRAM(b, nil, []kmsg.AlterUserSCRAMCredentialsRequestDeletion{deletion("alice", sasl.SHA256.Type)})
	if _, rs = describeSCRAM(b); !slices.Equal(rs, []string{"bob NONE SCRAM-SHA-256:16384"}) {
		t.Fatalf("after deleting alice: %q", rs)
	}
}

// scramExchange runs a client against a server to the end.
func scramExchange(srv sasl.Server, m *sasl.ScramMechanism, user, password string) error {
	cl, err := sasl.NewClient(m.Name, sasl.Credentials{Username: user, Password: password})
	if err != nil {
		return err
	}
	var challenge []byte
	for {
		tok, done, err := cl.Step(challenge)
		if err != nil || done && tok == nil {
			return err
		}
		if challenge, err = srv.Step(tok); err != nil {
			return err
		}
	}
}

// TestSCRAMCredentialsAuthorization: Describe and Alter on the cluster,
// CLUSTER_AUTHORIZATION_FAILED without (at the top for Describe, for
// every user for Alter); in ZooKeeper mode only the active controller
// alters (NOT_CONTROLLER), as Kafka.
func TestSCRAMCredentialsAuthorization(t *testing.T) {
	b := newTestBroker(t, authzProps)
	b.as(alice)
	if top, _ := describeSCRAM(b); !strings.HasPrefix(top, "CLUSTER_AUTHORIZATION_FAILED") {
		t.Fatalf("describe without Describe on the cluster: %s", top)
	}
	got := alterSCRAM(b, []kmsg.AlterUserSCRAMCredentialsRequestUpsertion{upsertion(t, "carol", sasl.SHA256, "x", 4096)},
		[]kmsg.AlterUserSCRAMCredentialsRequestDeletion{deletion("dave", 1)})
	if !strings.HasPrefix(got["carol"], "CLUSTER_AUTHORIZATION_FAILED") || !strings.HasPrefix(got["dave"], "CLUSTER_AUTHORIZATION_FAILED") {
		t.Fatalf("alter without Alter on the cluster: %v", got)
	}
	b.grant(acl.ResourceCluster, acl.ClusterName, acl.OpDescribe)
	if top, _ := describeSCRAM(b); top != "NONE" {
		t.Fatalf("describe with Describe on the cluster: %s", top)
	}
	if got := alterSCRAM(b, []kmsg.AlterUserSCRAMCredentialsRequestUpsertion{upsertion(t, "carol", sasl.SHA256, "x", 4096)}, nil); !strings.HasPrefix(got["carol"], "CLUSTER_AUTHORIZATION_FAILED") {
		t.Fatalf("Describe does not imply Alter: %v", got)
	}
	b.as(security.User("admin"))
	if got := alterSCRAM(b, []kmsg.AlterUserSCRAMCredentialsRequestUpsertion{upsertion(t, "carol", sasl.SHA256, "x", 4096)}, nil); got["carol"] != "NONE" {
		t.Fatalf("a super user: %v", got)
	}

	cl := &fakeCluster{epoch: 100, controllerID: 1}
	nc := newClusterBroker(t, cl, nil)
	if got := alterSCRAM(nc, []kmsg.AlterUserSCRAMCredentialsRequestUpsertion{upsertion(t, "carol", sasl.SHA256, "x", 4096)}, nil); !strings.HasPrefix(got["carol"], "NOT_CONTROLLER") {
		t.Fatalf("a broker that is not the controller: %v", got)
	}
}
