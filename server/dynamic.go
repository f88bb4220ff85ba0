package server

// Dynamic broker configs (KIP-226), as far as this broker has them: each
// TLS listener's keystore and truststore, changed with AlterConfigs or
// IncrementalAlterConfigs on the BROKER resource of this broker as
// listener.name.<listener>.ssl.keystore.location and the like, so that
// certificates rotate without a restart. They are stored where Kafka
// keeps them and put in force again at the next start. New connections get the new
// certificate; open ones keep theirs. Setting the same location again
// reloads the file (Kafka's in-place keystore update). The inter-broker and
// control plane listeners' client side follows: the next connection to
// another broker presents the new certificate.

import (
	"crypto/tls"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"samsa/config"
	"samsa/kafkaapi"
	"samsa/security"
)

// reconfigurable are the keys a listener may change at run time (Kafka's
// SslConfigs.RECONFIGURABLE_CONFIGS).
var reconfigurable = []string{
	"ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.password", "ssl.key.password",
	"ssl.truststore.type", "ssl.truststore.location", "ssl.truststore.password",
	"ssl.keystore.certificate.chain", "ssl.keystore.key", "ssl.truststore.certificates",
}

// dynamicConfigs holds this broker's dynamic per-broker configs; it is the
// kafkaapi.BrokerConfigs.
type dynamicConfigs struct {
	s *Server

	mu  sync.Mutex        // serializes changes
	cur map[string]string // guarded by mu: the configs in force, by full key
}

var _ kafkaapi.BrokerConfigs = (*dynamicConfigs)(nil)

// Dynamic returns the dynamic configs in force.
func (d *dynamicConfigs) Dynamic() map[string]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.cur)
}

// Alter validates the configs edit makes of the current ones with Kafka's
// checks (DynamicBrokerConfig.validateConfigs), then every TLS listener
// they touch (all must load: nothing changes otherwise), and unless
// validateOnly stores them where Kafka does (the metadata store:
// /config/brokers/<id> in ZooKeeper mode, passwords encrypted with
// password.encoder.secret) and puts them in force. perBroker is false for
// the cluster-wide default resource (an empty name), which per-broker keys
// cannot use.
func (d *dynamicConfigs) Alter(names []string, edit func(cur map[string]string) (map[string]string, error), perBroker, validateOnly bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	next, err := edit(maps.Clone(d.cur))
	if err != nil {
		return err
	}
	changes, err := d.check(names, next, perBroker)
	if err != nil || validateOnly {
		return err
	}
	stored, err := d.persistent(next)
	if err != nil {
		return err
	}
	if err := d.s.meta.SetBrokerConfigs(d.s.cfg.BrokerID, stored); err != nil {
		return fmt.Errorf("storing the broker's dynamic configs: %w", err)
	}
	if err := d.apply(changes); err != nil {
		return err
	}
	d.cur = next
	return nil
}

// listenerChange is a TLS listener's settings with dynamic configs
// applied, validated.
type listenerChange struct {
	listener string
	ssl      security.SSLConfig
}

// check makes Kafka's checks of the keys named and of next, and validates
// every TLS listener next or the configs in force touch.
func (d *dynamicConfigs) check(names []string, next map[string]string, perBroker bool) ([]listenerChange, error) {
	var notDynamic, unprefixed []string
	byListener := map[string]map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(next)) {
		names = append(names, k)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	for _, k := range names {
		if slices.Contains(reconfigurable, k) {
			unprefixed = append(unprefixed, k)
			continue
		}
		listener, key, ok := splitListenerKey(k)
		if !ok || !slices.Contains(reconfigurable, key) {
			notDynamic = append(notDynamic, k)
			continue
		}
		if byListener[listener] == nil {
			byListener[listener] = map[string]string{}
		}
		if v, ok := next[k]; ok {
			byListener[listener][key] = v
		}
	}
	switch {
	case len(notDynamic) > 0:
		return nil, fmt.Errorf("Cannot update these configs dynamically: %s: dynamic broker configs are not supported by this broker but for TLS listeners' keystores and truststores (listener.name.<listener>.ssl.keystore.location and the like); set the others in server.properties and restart", setText(notDynamic))
	case len(unprefixed) > 0:
		return nil, fmt.Errorf("These security configs can be dynamically updated only per-listener using the listener prefix: %s", setText(unprefixed))
	case !perBroker && len(names) > 0:
		return nil, fmt.Errorf("Cannot update these configs at default cluster level, broker id must be specified: %s", setText(names))
	}
	// Every listener with dynamic keys before or after: a key dropped
	// returns the listener to its static keystore.
	touched := map[string]bool{}
	for k := range d.cur {
		if l, _, ok := splitListenerKey(k); ok {
			touched[l] = true
		}
	}
	for l, keys := range byListener {
		if d.s.tls[l] == nil {
			return nil, fmt.Errorf("listener %s is not a TLS listener of this broker: its keystore cannot be updated", l)
		}
		if len(keys) > 0 {
			touched[l] = true
		}
	}
	var changes []listenerChange
	for _, l := range slices.Sorted(maps.Keys(touched)) {
		ssl, err := d.s.cfg.SSLFor(l, byListener[l])
		if err != nil {
			return nil, err
		}
		if err := d.s.tls[l].Validate(ssl); err != nil {
			return nil, err
		}
		changes = append(changes, listenerChange{l, ssl})
	}
	return changes, nil
}

// apply puts validated listener changes in force.
func (d *dynamicConfigs) apply(changes []listenerChange) error {
	for _, c := range changes {
		if err := d.s.tls[c.listener].Reload(c.ssl); err != nil {
			return err // the files changed since they were validated
		}
		if err := d.s.reloadClientTLS(c.listener, c.ssl); err != nil {
			return err
		}
		cert := d.s.tls[c.listener].Certificate()
		d.s.log.Info("listener keystore reloaded", "listener", c.listener, "subject", cert.Subject.String(), "not_after", cert.NotAfter)
	}
	return nil
}

// persistent is next as stored: in ZooKeeper, password values encrypted
// (Kafka's DynamicBrokerConfig.toPersistentProps); standalone, as given.
func (d *dynamicConfigs) persistent(next map[string]string) (map[string]string, error) {
	out := maps.Clone(next)
	if d.s.cl == nil {
		return out, nil
	}
	for k, v := range next {
		if !isPassword(k) {
			continue
		}
		enc, err := d.s.cfg.PasswordEncoder.Encode(v)
		if err != nil {
			return nil, err
		}
		out[k] = enc
	}
	return out, nil
}

func isPassword(k string) bool {
	_, key, _ := splitListenerKey(k)
	def, ok := config.LookupBroker(key)
	return ok && def.Type == config.TypePassword
}

// load puts the stored dynamic configs in force: at start (before the
// listeners are bound), and when a change notification names this broker.
// As Kafka, what cannot be read or applied is logged and left out; the
// static configs stay for it.
func (d *dynamicConfigs) load() {
	stored, err := d.s.meta.BrokerConfigs(d.s.cfg.BrokerID)
	if err != nil {
		d.s.log.Error("reading the broker's dynamic configs; the static ones apply", "err", err)
		return
	}
	next := map[string]string{}
	for k, v := range stored {
		if d.s.cl != nil && isPassword(k) {
			dec, err := d.s.cfg.PasswordEncoder.Decode(v)
			if err != nil && d.s.cfg.PasswordEncoderOldSecret != "" {
				old := d.s.cfg.PasswordEncoder
				old.Secret = d.s.cfg.PasswordEncoderOldSecret
				dec, err = old.Decode(v)
			}
			if err != nil {
				d.s.log.Error("Dynamic password config could not be decoded, ignoring.", "config", k, "err", err)
				continue
			}
			v = dec
		}
		next[k] = v
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if maps.Equal(next, d.cur) {
		return // our own change, announced back to us
	}
	changes, err := d.check(nil, next, true)
	if err == nil {
		err = d.apply(changes)
	}
	if err != nil {
		d.s.log.Error("Per-broker configs could not be applied; the static ones stay", "broker.id", d.s.cfg.BrokerID, "configs", slices.Sorted(maps.Keys(next)), "err", err)
		return
	}
	d.cur = next
}

// splitListenerKey splits listener.name.<l>.<key>; the listener comes back
// upper case.
func splitListenerKey(k string) (listener, key string, ok bool) {
	rest, ok := strings.CutPrefix(k, config.ListenerPrefix)
	if !ok {
		return "", "", false
	}
	listener, key, ok = strings.Cut(rest, ".")
	return strings.ToUpper(listener), key, ok && listener != "" && key != ""
}

// setText is a key list as Kafka's messages print a Scala Set.
func setText(keys []string) string { return "Set(" + strings.Join(keys, ", ") + ")" }

// reloadClientTLS rebuilds the client side of the inter-broker or control
// plane listener after its keystore changed.
func (s *Server) reloadClientTLS(listener string, ssl security.SSLConfig) error {
	for _, c := range []struct {
		name string
		p    *clientTLS
	}{{s.cfg.InterBrokerListener, &s.interTLS}, {s.cfg.ControlPlaneListener, &s.controlTLS}} {
		if c.name != listener || c.name == "" {
			continue
		}
		cfg, err := security.ClientTLS(ssl)
		if err != nil {
			return fmt.Errorf("listener %s, as a client of other brokers: %w", listener, err)
		}
		c.p.Store(cfg)
	}
	return nil
}

// clientTLS is the client config of connections to other brokers'
// listener, replaced when its keystore changes.
type clientTLS struct {
	mu  sync.Mutex
	cfg *tls.Config
}

func (c *clientTLS) Store(cfg *tls.Config) {
	c.mu.Lock()
	c.cfg = cfg
	c.mu.Unlock()
}

func (c *clientTLS) Load() *tls.Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg
}
