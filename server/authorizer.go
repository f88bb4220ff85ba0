package server

// The authorizer (authorizer.class.name): Kafka's AclAuthorizer over the
// ACLs where Kafka keeps them. Standalone, the metadata file holds them; in
// ZooKeeper mode the /kafka-acl* znodes do, and every broker follows their
// change notifications, as Kafka's brokers do, so an ACL created through
// any broker (or by kafka-acls.sh writing to ZooKeeper) reaches all of
// them.

import (
	"fmt"

	"samsa/kafkaapi"
	"samsa/metadata"
	"samsa/metadata/zkstore"
	"samsa/security/acl"
)

// startAuthorizer returns the authorizer the configuration asks for, its
// ACLs loaded, or nil for none. In ZooKeeper mode it follows the change
// notifications first and loads the ACLs then, as Kafka's does, so that no
// change falls between the two; s.stopACLs stops following them.
func (s *Server) startAuthorizer(m *kafkaapi.Metrics) (*acl.Authorizer, error) {
	if s.cfg.AuthorizerClassName == "" {
		return nil, nil
	}
	supers, err := acl.ParseSuperUsers(s.cfg.SuperUsers)
	if err != nil {
		return nil, err
	}
	var store acl.Store
	var zs *zkstore.ACLStore
	if s.cl != nil {
		zs = zkstore.NewACLStore(s.cl.zk, s.cfg.ZookeeperSessionTimeout, s.log.With("component", "acl-changes"))
		if err := zs.CreatePaths(); err != nil {
			return nil, fmt.Errorf("authorizer: %w", err)
		}
		store = zs
	} else {
		local, ok := s.meta.(*metadata.Local)
		if !ok {
			return nil, fmt.Errorf("authorizer: the metadata store keeps no ACLs")
		}
		store = local
	}
	a := acl.New(acl.Config{
		SuperUsers:   supers,
		AllowIfNoACL: s.cfg.AllowEveryoneIfNoACLFound,
		Store:        store,
		Logger:       s.log,
		Decided:      m.AuthorizerDecided,
	})
	if zs != nil {
		s.stopACLs = zs.Watch(a.Refresh)
	}
	if err := a.Load(); err != nil {
		if s.stopACLs != nil {
			s.stopACLs()
		}
		return nil, fmt.Errorf("authorizer: %w", err)
	}
	s.log.Info("authorizer started", "authorizer.class.name", s.cfg.AuthorizerClassName, "acls", len(a.ACLs(acl.MatchAll)),
		"super.users", s.cfg.SuperUsers, "allow.everyone.if.no.acl.found", s.cfg.AllowEveryoneIfNoACLFound)
	return a, nil
}
