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
	"samsa/security/sasl"
)

// boundListener is a listener and the socket it is bound to.
type boundListener struct {
	config.Listener
	ln net.Listener
}

// buildSecurity loads every TLS listener's keystore and truststore and
// checks every SASL listener's mechanisms and JAAS configs, then makes the
// client side (TLS, SASL) of the inter-broker and control plane
// listeners.
func (s *Server) buildSecurity() error {
	s.tls = map[string]*security.ServerTLS{}
	if err := s.buildSASL(); err != nil {
		return err
	}
	for _, l := range s.cfg.Listeners {
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
// otherwise (nil); authenticated with sasl.mechanism.inter.broker.protocol
// and the listener's JAAS credentials when it is SASL.
func (s *Server) dialerFor(listener string, p *clientTLS) (kclient.DialFunc, error) {
	proto := s.cfg.ListenerProtocols[listener]
	dial, err := s.tlsDialerFor(listener, proto, p)
	if err != nil || !proto.SASL() {
		return dial, err
	}
	mech, cr, err := s.cfg.BrokerSASL(listener)
	if err != nil {
		return nil, err
	}
	return kclient.SASLDial(dial, func() (sasl.Client, error) { return sasl.NewClient(mech, cr) }), nil
}

func (s *Server) tlsDialerFor(listener string, proto security.Protocol, p *clientTLS) (kclient.DialFunc, error) {
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
