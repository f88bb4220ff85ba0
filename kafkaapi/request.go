package kafkaapi

// The surface for the handlers of other packages (kafkaapi/adminapi,
// kafkaapi/groupapi, kafkaapi/txnapi).

import (
	"context"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/admin"
	"samsa/config"
	"samsa/coordinator/group"
	"samsa/coordinator/txn"
	"samsa/metadata"
	"samsa/netpoll"
	"samsa/replica"
	"samsa/security/acl"
	"samsa/security/sasl"
)

// Register serves key at versions min to max with serve on every Handler,
// and ApiVersions advertises them. It is for init functions, one api_NN
// file per key as here: the registry is not locked, and a key registered
// twice panics.
func Register(key, min, max int16, serve func(r *Request, req kmsg.Request) *netpoll.Response) {
	register(key, min, max, func(rc *reqCtx, req kmsg.Request) *netpoll.Response {
		return serve(&Request{rc}, req)
	})
}

// Request is one request being served by a registered handler, valid
// until the handler returns.
type Request struct{ rc *reqCtx }

// Handler is the Handler serving the request, for its dependencies.
func (r *Request) Handler() *Handler { return r.rc.h }

// Version is the request's version, within the registered range.
func (r *Request) Version() int16 { return r.rc.version }

// Context ends when the request's connection or the broker closes.
func (r *Request) Context() context.Context { return r.rc.conn.Context() }

// ClientID is the client id of the request's header.
func (r *Request) ClientID() string { return r.rc.clientID }

// ClientHost is the client's address as Kafka shows it: "/" and the IP.
func (r *Request) ClientHost() string { return clientHost(r.rc) }

// Respond encodes resp at the request's version as its answer, and counts
// its error codes.
func (r *Request) Respond(resp kmsg.Response) *netpoll.Response { return r.rc.respond(resp) }

// CloseUnparsable closes the connection instead of answering, as Kafka
// does on a request its parser refuses (an InvalidRequestException).
func (r *Request) CloseUnparsable(why string) *netpoll.Response {
	rc := r.rc
	rc.h.log.Debug("closing connection: request not served", "reason", why, "key", rc.key, "version", rc.version, "remote", rc.conn.RemoteAddr())
	rc.h.metrics.unknownRequests.Inc()
	rc.conn.Close()
	return nil
}

// Authorize reports whether the principal may do the action
// (AuthHelper.authorize), logging the decision; true without an authorizer.
func (r *Request) Authorize(a acl.Action) bool { return r.rc.authorizeAction(a) }

// AuthorizeResource is Authorize of op on the resource of type t named
// name.
func (r *Request) AuthorizeResource(op acl.Operation, t acl.ResourceType, name string) bool {
	return r.rc.authorize(op, t, name)
}

// AuthorizeCluster is Authorize of op on the cluster.
func (r *Request) AuthorizeCluster(op acl.Operation) bool { return r.rc.authorizeCluster(op) }

// AuthorizedOperations is the KIP-430 bitfield of what the principal may
// do on the resource (AuthHelper.authorizedOperations).
func (r *Request) AuthorizedOperations(t acl.ResourceType, name string) int32 {
	return r.rc.authorizedOperations(t, name)
}

// Allowed are the names of the resources a request may act on; nil (no
// authorizer) is every name.
type Allowed map[string]bool

// Has reports whether name is allowed.
func (a Allowed) Has(name string) bool { return a == nil || a[name] }

// FilterAuthorized returns the names the principal may do op on, asking
// once per distinct name (AuthHelper.filterByAuthorized); quiet logs a
// denial at trace level only.
func (r *Request) FilterAuthorized(op acl.Operation, t acl.ResourceType, names []string, quiet bool) Allowed {
	return Allowed(r.rc.filterAuthorized(op, t, names, quiet))
}

// ActiveController is the controller to serve a request that only the
// active controller answers, or the error code: CLUSTER_AUTHORIZATION_FAILED
// without op on the cluster or on a standalone broker, NOT_CONTROLLER on a
// broker that is not the controller.
func (r *Request) ActiveController(op acl.Operation) (Controller, int16) {
	return r.rc.activeController(op)
}

// The Handler's dependencies, for registered handlers: those Deps gave
// New (Authorizer, BrokerConfigs and Cluster nil when absent), and Admin,
// the one admin.Manager every topic change goes through (invariant 6).

func (h *Handler) Admin() *admin.Manager        { return h.admin }
func (h *Handler) Config() *config.Config       { return h.cfg }
func (h *Handler) Store() metadata.Store        { return h.meta }
func (h *Handler) Cache() *metadata.Cache       { return h.cache }
func (h *Handler) Groups() *group.Coordinator   { return h.groups }
func (h *Handler) Txns() *txn.Coordinator       { return h.txns }
func (h *Handler) Replicas() *replica.Manager   { return h.rm }
func (h *Handler) Logger() *slog.Logger         { return h.log }
func (h *Handler) Authorizer() *acl.Authorizer  { return h.authz }
func (h *Handler) BrokerConfigs() BrokerConfigs { return h.brokerConfigs }
func (h *Handler) Cluster() Cluster             { return h.cluster }

// Credentials is the SCRAM credential store and SCRAM their cache; nil
// without.
func (h *Handler) Credentials() sasl.CredentialStore { return h.creds }
func (h *Handler) SCRAM() *sasl.CredentialCache      { return h.scram }
