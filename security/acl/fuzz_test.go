package acl

import (
	"slices"
	"testing"
)

// FuzzDecodeACLs feeds bytes to the reader of a pattern's ACL znode
// (/kafka-acl/<Type>/<name>). Invariants:
//   - DecodeACLs never panics, whatever the bytes;
//   - ACLs it accepts are whole (a principal type:name, a known operation
//     and permission) and encode to bytes that decode to the same ACLs.
func FuzzDecodeACLs(f *testing.F) {
	for _, seed := range []string{
		`{"version":1,"acls":[{"principal":"User:alice","permissionType":"Allow","operation":"Read","host":"*"}]}`,
		`{"version": 1, "acls": [{"host": "host1","permissionType": "Deny","operation": "READ", "principal": "User:alice"}]}`,
		`{"version":1,"acls":[{"principal":"User:*","permissionType":"Allow","operation":"IdempotentWrite","host":"0:0:0:0:0:0:0:1"}]}`,
		`{"version":1,"acls":[]}`,
		`{"version":2,"acls":[]}`,
		`{"version":1,"acls":[{"principal":"alice","permissionType":"Allow","operation":"Read","host":"*"}]}`,
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := DecodeACLs(data)
		if err != nil {
			return
		}
		for _, e := range es {
			if _, err := ParsePrincipal(e.Principal); err != nil || !e.Operation.Known() || !e.Permission.Known() {
				t.Fatalf("%q: accepted %+v", data, e)
			}
		}
		back, err := DecodeACLs(EncodeACLs(es))
		if err != nil || !slices.Equal(back, es) {
			t.Fatalf("%q: decoded %v, re-read %v (%v)", data, es, back, err)
		}
	})
}
