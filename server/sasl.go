package server

// SASL: each SASL listener's authenticator (kafkaapi/saslauth over the
// security/sasl mechanisms), and the SCRAM credentials they check, kept
// where Kafka keeps them (ZooKeeper's /config/users, the metadata file of a
// standalone broker) and cached: loaded before any listener serves, and
// in ZooKeeper mode read again for each user a config change notification
// names, so that a user created through any broker, or by kafka-configs.sh
// writing to ZooKeeper, reaches every broker.

import (
	"fmt"
	"time"

	"samsa/config"
	"samsa/kafkaapi/saslauth"
	"samsa/metadata"
	"samsa/metadata/zkstore"
	"samsa/netpoll"
	"samsa/security/sasl"
)

// buildSASL checks every SASL listener's settings and keeps them.
func (s *Server) buildSASL() error {
	if err := s.cfg.ValidateSASL(); err != nil {
		return err
	}
	s.sasl = map[string]config.SASLListener{}
	for _, l := range s.cfg.Listeners {
		if !l.Protocol.SASL() {
			continue
		}
		sl, err := s.cfg.SASLFor(l.Name)
		if err != nil {
			return err
		}
		s.sasl[l.Name] = sl
	}
	return nil
}

// openCredentials opens the SCRAM credential store and loads every user's
// credentials. A credential that does not parse is left out and logged: one
// bad user does not keep the broker from starting.
func (s *Server) openCredentials() error {
	if s.cl != nil {
		s.creds = zkstore.NewUserStore(s.cl.zk, s.cfg.ZookeeperSessionTimeout, s.log.With("component", "scram-credentials"))
	} else {
		local, ok := s.meta.(*metadata.Local)
		if !ok {
			return fmt.Errorf("the metadata store keeps no SCRAM credentials")
		}
		s.creds = local
	}
	all, err := s.creds.UserConfigs()
	if err != nil {
		return fmt.Errorf("loading SCRAM credentials: %w", err)
	}
	if err := s.scram.Replace(all); err != nil {
		s.log.Error("a stored SCRAM credential cannot be read; its user cannot authenticate with it", "err", err)
	}
	if len(s.sasl) > 0 {
		s.log.Info("SCRAM credentials loaded", "users", len(s.scram.Users()))
	}
	return nil
}

// userChanged reads a user's credentials again (a config change
// notification named it).
func (s *Server) userChanged(user string) {
	cfg, err := s.creds.UserConfig(user)
	if err != nil {
		s.log.Error("reading a changed user's SCRAM credentials; keeping the cached ones", "user", user, "err", err)
		return
	}
	if err := s.scram.Update(user, cfg); err != nil {
		s.log.Error("a stored SCRAM credential cannot be read; its user cannot authenticate with it", "user", user, "err", err)
	}
	s.log.Info("SCRAM credentials changed", "user", user, "mechanisms", len(s.scram.Mechanisms(user)))
}

// authenticator is the NewAuthenticator of a SASL listener.
func (s *Server) authenticator(listener string) func(*netpoll.Conn) netpoll.Authenticator {
	sl := s.sasl[listener]
	return saslauth.New(saslauth.Config{
		Mechanisms: sl.Mechanisms,
		NewServer: func(m string) sasl.Server {
			if m == sasl.Plain {
				return sasl.NewPlain(sasl.JAASPlainUsers(sl.JAAS[m]))
			}
			return sasl.NewScram(sasl.Scram(m), s.scram.Lookup)
		},
		SessionLifetime: func(m string) time.Duration { return sl.Reauth[m] },
		APIVersions:     s.api,
		Logger:          s.log,
	})
}
