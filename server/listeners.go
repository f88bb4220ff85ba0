package server

// The broker's listeners: each bound with its security (TLS listeners
// load their keystores before anything is bound), and the TLS this broker
// dials other brokers' inter-broker and control plane listeners with.

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"samsa/config"
	"samsa/kclient"
	"samsa/security"
)

// boundListener is a listener and the socket it is bound to.
type boundListener struct {
	config.Listener
	ln net.Listener
}

// buildSecurity loads every TLS listener's keystore and truststore, and
// the client TLS of the inter-broker and control plane listeners. A SASL
// listener is refused: SASL is not served yet.
func (s *Server) buildSecurity() error {
	s.tls = map[string]*security.ServerTLS{}
	for _, l := range s.cfg.Listeners {
		if l.Protocol.SASL() {
			return fmt.Errorf("listener %s: %s is not served yet (SASL comes later)", l.Name, l.Protocol)
		}
		if !l.Protocol.TLS() {
			continue
		}
		ssl, err := s.cfg.SSLFor(l.Name, nil)
		if err != nil {
			return err
		}
		st, err := security.NewServerTLS(l.Name, ssl)
		if err != nil {
			return err
		}
		s.tls[l.Name] = st
	}
	var err error
	if s.interDial, err = s.dialerFor(s.cfg.InterBrokerListener, &s.interTLS); err != nil {
		return err
	}
	s.controlDial = s.interDial
	if s.cfg.ControlPlaneListener != "" {
		if s.controlDial, err = s.dialerFor(s.cfg.ControlPlaneListener, &s.controlTLS); err != nil {
			return err
		}
	}
	s.dynamic = &dynamicConfigs{s: s, cur: map[string]string{}}
	return nil
}

// dialerFor is how this broker connects to other brokers' listener of
// that name: with that listener's ssl.* keys as a client when it is TLS
// (kept in p, which a dynamic keystore update replaces), plain TCP
// otherwise (nil).
func (s *Server) dialerFor(listener string, p *clientTLS) (kclient.DialFunc, error) {
	proto := s.cfg.ListenerProtocols[listener]
	if proto.SASL() {
		return nil, fmt.Errorf("listener %s: %s between brokers is not served yet (SASL comes later)", listener, proto)
	}
	if !proto.TLS() {
		return nil, nil
	}
	ssl, err := s.cfg.SSLFor(listener, nil)
	if err != nil {
		return nil, err
	}
	cfg, err := security.ClientTLS(ssl)
	if err != nil {
		return nil, fmt.Errorf("listener %s, as a client of other brokers: %w", listener, err)
	}
	p.Store(cfg)
	return func(ctx context.Context, addr string) (net.Conn, error) {
		return security.Dialer(p.Load(), 10*time.Second)(ctx, addr)
	}, nil
}

// closeListeners closes the bound listeners before netpoll owns them.
func (s *Server) closeListeners() {
	for _, b := range s.lns {
		b.ln.Close()
	}
}

// boundText lists the bound listeners, NAME://addr.
func (s *Server) boundText() string {
	parts := make([]string, len(s.lns))
	for i, b := range s.lns {
		parts[i] = b.Name + "://" + b.ln.Addr().String()
	}
	return strings.Join(parts, ",")
}

func describeEndpoints(eps []config.Listener) string {
	parts := make([]string, len(eps))
	for i, e := range eps {
		parts[i] = e.String()
	}
	return strings.Join(parts, ",")
}
