package adminapi

// AlterUserScramCredentials (key 51), version 0 (KIP-554).
//
// Creates, replaces and deletes users' SCRAM credentials as Kafka's
// ZkAdminManager.alterUserScramCredentials does, one result per user: an
// upsertion carries the salt and salted password (the client hashes; the
// password never travels) and the broker derives the stored and server
// keys. A user with any bad alteration is not changed at all: an empty
// name or a number of iterations outside 4096-16384 is
// UNACCEPTABLE_CREDENTIAL, an unknown mechanism UNSUPPORTED_SASL_MECHANISM,
// the same mechanism twice DUPLICATE_RESOURCE, the deletion of a
// credential that does not exist RESOURCE_NOT_FOUND. Each user's change is
// written where credentials are stored (with the change notification that
// makes every broker read it, in ZooKeeper mode) and put in this broker's
// cache at once. Only the active controller serves it in ZooKeeper mode
// (NOT_CONTROLLER, as Kafka); it needs Alter on the cluster
// (CLUSTER_AUTHORIZATION_FAILED); both refusals go to every user named.

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
	"samsa/security/sasl"
)

func init() { kafkaapi.Register(51, 0, 0, serveAlterUserSCRAM) }

// maxScramIterations is the most iterations AlterUserScramCredentials
// accepts (Kafka's maxIterations).
const maxScramIterations = 16384

var errNoSuchCredential = errors.New("Attempt to delete a user credential that does not exist")

func serveAlterUserSCRAM(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.AlterUserSCRAMCredentialsRequest)
	resp := kmsg.NewPtrAlterUserSCRAMCredentialsResponse()
	add := func(user string, code int16, msg string) {
		r := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
		r.User, r.ErrorCode = user, code
		if code != 0 {
			r.ErrorMessage = &msg
		}
		resp.Results = append(resp.Results, r)
	}
	h := rc.Handler()
	refuse := func(e *kerr.Error) *netpoll.Response {
		users := map[string]bool{}
		for _, d := range req.Deletions {
			users[d.Name] = true
		}
		for _, u := range req.Upsertions {
			users[u.Name] = true
		}
		for _, u := range sortedKeys(users) {
			add(u, e.Code, e.Description)
		}
		return rc.Respond(resp)
	}
	if cl := h.Cluster(); cl != nil && cl.Controller() == nil {
		return refuse(kerr.NotController)
	}
	if !rc.AuthorizeCluster(acl.OpAlter) {
		return refuse(kerr.ClusterAuthorizationFailed)
	}

	// Users with an alteration that cannot be made at all.
	illegal := map[string]*kerr.Error{}
	why := map[string]string{}
	for _, d := range req.Deletions {
		switch {
		case d.Name == "":
			illegal[d.Name], why[d.Name] = kerr.UnacceptableCredential, "Username must not be empty"
		case sasl.ScramByType(d.Mechanism) == nil:
			illegal[d.Name], why[d.Name] = kerr.UnsupportedSaslMechanism, "Unknown SCRAM mechanism"
		}
	}
	for _, u := range req.Upsertions {
		m := sasl.ScramByType(u.Mechanism)
		switch {
		case u.Name == "":
			illegal[u.Name], why[u.Name] = kerr.UnacceptableCredential, "Username must not be empty"
		case m == nil:
			illegal[u.Name], why[u.Name] = kerr.UnsupportedSaslMechanism, "Unknown SCRAM mechanism"
		case u.Iterations < int32(m.MinIterations):
			illegal[u.Name], why[u.Name] = kerr.UnacceptableCredential, "Too few iterations"
		case u.Iterations > maxScramIterations:
			illegal[u.Name], why[u.Name] = kerr.UnacceptableCredential, "Too many iterations"
		}
	}
	for _, u := range sortedKeys(illegal) {
		add(u, illegal[u].Code, why[u])
	}

	// The same credential altered twice.
	type pair struct {
		user string
		mech int8
	}
	seen := map[pair]int{}
	for _, d := range req.Deletions {
		if illegal[d.Name] == nil {
			seen[pair{d.Name, d.Mechanism}]++
		}
	}
	for _, u := range req.Upsertions {
		if illegal[u.Name] == nil {
			seen[pair{u.Name, u.Mechanism}]++
		}
	}
	dup := map[string]bool{}
	valid := map[string]bool{}
	for p, n := range seen {
		valid[p.user] = true
		if n > 1 {
			dup[p.user] = true
		}
	}
	for _, u := range sortedKeys(dup) {
		add(u, kerr.DuplicateResource.Code, "A user credential cannot be altered twice in the same request")
		delete(valid, u)
	}

	store := h.Credentials()
	for _, user := range sortedKeys(valid) {
		if store == nil {
			add(user, kerr.UnknownServerError.Code, "the broker keeps no SCRAM credentials")
			continue
		}
		var final map[string]string
		err := store.UpdateUserConfig(user, func(cur map[string]string) (map[string]string, error) {
			next := map[string]string{}
			for k, v := range cur {
				next[k] = v
			}
			for _, d := range req.Deletions {
				if d.Name != user {
					continue
				}
				name := sasl.ScramByType(d.Mechanism).Name
				if _, ok := next[name]; !ok {
					return nil, errNoSuchCredential
				}
				delete(next, name)
			}
			for _, u := range req.Upsertions {
				if u.Name != user {
					continue
				}
				m := sasl.ScramByType(u.Mechanism)
				next[m.Name] = m.CredentialFromSalted(u.Salt, u.SaltedPassword, int(u.Iterations)).String()
			}
			final = next
			return next, nil
		})
		switch {
		case errors.Is(err, errNoSuchCredential):
			add(user, kerr.ResourceNotFound.Code, err.Error())
		case err != nil:
			h.Logger().Info("Error encountered while altering user SCRAM credentials", "user", user, "err", err)
			add(user, kerr.UnknownServerError.Code, kerr.UnknownServerError.Description)
		default:
			if c := h.SCRAM(); c != nil {
				if err := c.Update(user, final); err != nil {
					h.Logger().Error("a SCRAM credential just written does not read back", "user", user, "err", err)
				}
			}
			add(user, 0, "")
		}
	}
	return rc.Respond(resp)
}
