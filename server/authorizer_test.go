package server

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

const aclAuthorizer = "kafka.security.authorizer.AclAuthorizer"

// counted returns the samples of a counter family, keyed by their labels'
// values joined with ",".
func counted(t *testing.T, tb *testBroker, name string) map[string]float64 {
	t.Helper()
	mfs, err := tb.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			key := ""
			for i, l := range m.GetLabel() {
				if i > 0 {
					key += ","
				}
				key += l.GetValue()
			}
			out[key] = m.GetCounter().GetValue()
		}
	}
	return out
}

// TestStandaloneAuthorizer: a standalone broker with the AclAuthorizer
// keeps the ACLs created with kadm in its metadata file across a restart,
// and decides with them once the principal is no longer a super user;
// the decisions are counted.
func TestStandaloneAuthorizer(t *testing.T) {
	props := map[string]string{"authorizer.class.name": aclAuthorizer, "super.users": "User:ANONYMOUS"}
	tb := startTestBroker(t, props)
	mustCreate(tb, "open", 1, nil)
	mustCreate(tb, "closed", 1, nil)
	acls := kadm.NewACLs().Allow("User:ANONYMOUS").AllowHosts().Topics("open").Operations(kadm.OpWrite, kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral)
	res, err := tb.adm.CreateACLs(tb.ctx(), acls)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("create %v: %v", r, r.Err)
		}
	}

	// The same data directory, the principal no longer super.
	delete(props, "super.users")
	tb.restart()
	if err := tb.cl.ProduceSync(tb.ctx(), &kgo.Record{Topic: "open", Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatalf("produce with Write allowed: %v", err)
	}
	noRetry := tb.client(kgo.RecordRetries(0), kgo.DisableIdempotentWrite())
	defer noRetry.Close()
	err = noRetry.ProduceSync(tb.ctx(), &kgo.Record{Topic: "closed", Value: []byte("v")}).FirstErr()
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("produce without an ACL: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	described, err := tb.adm.DescribeACLs(tb.ctx(), kadm.NewACLs().AnyResource().Allow().AllowHosts().Deny().DenyHosts().Operations().ResourcePatternType(kadm.ACLPatternAny))
	if err != nil || len(described) != 1 || !errors.Is(described[0].Err, kerr.ClusterAuthorizationFailed) {
		t.Errorf("describe ACLs without Describe on the cluster: %v %+v", err, described)
	}
	// Labels in name order: operation, resource_type, result. The refused
	// producer was refused at Metadata: no Describe on the topic.
	got := counted(t, tb, "samsa_authorizer_decisions_total")
	if got["Write,Topic,allowed"] < 1 || got["Describe,Topic,denied"] < 1 || got["Describe,Cluster,denied"] != 1 {
		t.Errorf("decisions counted %v", got)
	}
}
