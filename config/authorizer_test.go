package config

import "testing"

// TestAuthorizerKeys: authorizer.class.name takes Kafka's AclAuthorizer
// names or nothing; super.users takes principals separated by semicolons.
func TestAuthorizerKeys(t *testing.T) {
	for _, c := range []struct {
		key, value string
		ok         bool
	}{
		{"authorizer.class.name", "kafka.security.authorizer.AclAuthorizer", true},
		{"authorizer.class.name", "kafka.security.auth.SimpleAclAuthorizer", true},
		{"authorizer.class.name", "", true},
		{"authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer", false},
		{"super.users", "User:admin; User:ANONYMOUS", true},
		{"super.users", "User:admin;", false},
		{"super.users", "admin", false},
		{"allow.everyone.if.no.acl.found", "true", true},
		{"allow.everyone.if.no.acl.found", "yes", false},
	} {
		_, err := New(map[string]string{c.key: c.value}, []string{c.key})
		if (err == nil) != c.ok {
			t.Errorf("%s=%q: err %v, want ok=%t", c.key, c.value, err, c.ok)
		}
	}
	c, err := New(map[string]string{"authorizer.class.name": " kafka.security.authorizer.AclAuthorizer ", "allow.everyone.if.no.acl.found": " true"},
		[]string{"authorizer.class.name", "allow.everyone.if.no.acl.found"})
	if err != nil || c.AuthorizerClassName != "kafka.security.authorizer.AclAuthorizer" || !c.AllowEveryoneIfNoACLFound {
		t.Errorf("values with spaces: %v %+v", err, c)
	}
}
