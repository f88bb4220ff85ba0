package security

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Configuration keys of listeners, for the errors that name them.
const (
	KeyListeners           = "listeners"
	KeyAdvertisedListeners = "advertised.listeners"
	KeyProtocolMap         = "listener.security.protocol.map"
	KeyInterBrokerName     = "inter.broker.listener.name"
	KeyInterBrokerProtocol = "security.inter.broker.protocol"
	KeyControlPlaneName    = "control.plane.listener.name"
)

// DefaultProtocolMap is listener.security.protocol.map's default: each
// protocol is a listener of its own name.
const DefaultProtocolMap = "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"

// Endpoint is one entry of listeners or advertised.listeners (Kafka's
// EndPoint): a named listener, its security protocol and its address.
type Endpoint struct {
	Name     string // upper case, as Kafka's ListenerName.normalised
	Protocol Protocol
	Host     string // empty binds every interface
	Port     int32
}

// Addr is host:port, bracketed for IPv6.
func (e Endpoint) Addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port))) }

// String is Kafka's connection string, NAME://host:port.
func (e Endpoint) String() string { return e.Name + "://" + e.Addr() }

// ConfigPrefix is the prefix of the listener's own overrides of broker
// keys, listener.name.<name in lower case>. (Kafka's
// ListenerName.configPrefix).
func ConfigPrefix(listener string) string {
	return "listener.name." + strings.ToLower(listener) + "."
}

// ConfigError is an invalid listener configuration: the key at fault and
// Kafka's words for what is wrong.
type ConfigError struct {
	Key    string
	Reason string
}

func (e *ConfigError) Error() string { return e.Key + ": " + e.Reason }

func configErr(key, format string, args ...any) *ConfigError {
	return &ConfigError{Key: key, Reason: fmt.Sprintf(format, args...)}
}

// ParseProtocolMap parses listener.security.protocol.map,
// "NAME:PROTOCOL,..." (Kafka's Csv.parseCsvMap: the last colon of an
// entry splits it). Names are upper-cased.
func ParseProtocolMap(v string) (map[string]Protocol, error) {
	m := map[string]Protocol{}
	if v == "" {
		return m, nil
	}
	for _, kv := range splitCSV(v) {
		i := strings.LastIndexByte(kv, ':')
		if i < 0 {
			return nil, configErr(KeyProtocolMap, "Error parsing configuration property '%s': %q is not listener:protocol", KeyProtocolMap, kv)
		}
		name, proto := strings.TrimSpace(kv[:i]), strings.TrimSpace(kv[i+1:])
		if strings.TrimSpace(name) == "" {
			return nil, configErr(KeyProtocolMap, "The provided listener name is null or empty string")
		}
		p, err := parseProtocolName(proto)
		if err != nil {
			return nil, configErr(KeyProtocolMap, "Invalid security protocol `%s` defined in %s", proto, KeyProtocolMap)
		}
		m[strings.ToUpper(name)] = p
	}
	return m, nil
}

// parseProtocolName is SecurityProtocol.forName: exact names only.
func parseProtocolName(s string) (Protocol, error) {
	for i, n := range protocolNames {
		if s == n {
			return Protocol(i), nil
		}
	}
	return 0, fmt.Errorf("no security protocol %q", s)
}

// splitCSV is Kafka's Csv.parseCsvList: split on commas, trimming the
// blanks around them, dropping empty items.
func splitCSV(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// endpointRE is Kafka's EndPoint.uriParseExp.
var endpointRE = regexp.MustCompile(`^(.*)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)$`)

// ParseEndpoints parses a listeners or advertised.listeners value with the
// protocols of listener.security.protocol.map, as Kafka's
// CoreUtils.listenerListToEndPoints: names must differ, and with
// distinctPorts (listeners, not advertised.listeners) so must ports, but
// for one IPv4 and one IPv6 address sharing one (KIP-797) and port 0.
func ParseEndpoints(key, v string, protocols map[string]Protocol, distinctPorts bool) ([]Endpoint, error) {
	wrap := func(format string, args ...any) error {
		return configErr(key, "Error creating broker listeners from '%s': %s", v, fmt.Sprintf(format, args...))
	}
	var eps []Endpoint
	for _, item := range splitCSV(v) {
		m := endpointRE.FindStringSubmatch(item)
		if m == nil {
			return nil, wrap("Unable to parse %s to a broker endpoint", item)
		}
		if strings.TrimSpace(m[1]) == "" {
			return nil, wrap("The provided listener name is null or empty string")
		}
		name := strings.ToUpper(m[1])
		proto, ok := protocols[name]
		if !ok {
			return nil, wrap("No security protocol defined for listener %s", name)
		}
		port, err := strconv.ParseInt(m[3], 10, 32)
		if err != nil || port < 0 || port > 65535 {
			return nil, wrap("%s: port %s is not in [0, 65535]", item, m[3])
		}
		eps = append(eps, Endpoint{Name: name, Protocol: proto, Host: m[2], Port: int32(port)})
	}
	seen := map[string]bool{}
	for _, e := range eps {
		if seen[e.Name] {
			return nil, configErr(key, "Each listener must have a different name, listeners: %s", v)
		}
		seen[e.Name] = true
	}
	if !distinctPorts {
		return eps, nil
	}
	byPort := map[int32][]Endpoint{}
	var ports []int32
	for _, e := range eps {
		if e.Port == 0 {
			continue // any free port: they cannot clash
		}
		if byPort[e.Port] == nil {
			ports = append(ports, e.Port)
		}
		byPort[e.Port] = append(byPort[e.Port], e)
	}
	for _, port := range ports {
		same := byPort[port]
		if len(same) < 2 {
			continue
		}
		var ipHosts, others []Endpoint
		for _, e := range same {
			if _, err := netip.ParseAddr(e.Host); err == nil {
				ipHosts = append(ipHosts, e)
			} else {
				others = append(others, e)
			}
		}
		if len(others) > 1 {
			return nil, configErr(key, "Each listener must have a different port, listeners: %s", v)
		}
		switch len(ipHosts) {
		case 0:
		case 2:
			a, _ := netip.ParseAddr(ipHosts[0].Host)
			b, _ := netip.ParseAddr(ipHosts[1].Host)
			if a.Is4() == b.Is4() || len(others) > 0 {
				return nil, configErr(key, "If you have two listeners on the same port then one needs to be IPv4 and the other IPv6, listeners: %s, port: %d", v, port)
			}
		default:
			return nil, configErr(key, "Each listener must have a different port unless exactly one listener has an IPv4 address and the other IPv6 address, listeners: %s, port: %d", v, port)
		}
	}
	return eps, nil
}

// ListenerSpec is the listener keys as configured, text unparsed.
type ListenerSpec struct {
	Listeners   string // listeners
	Advertised  string // advertised.listeners; "" takes listeners
	ProtocolMap string // listener.security.protocol.map
	// InterBrokerName is inter.broker.listener.name, "" when unset; it and
	// InterBrokerProtocolSet exclude each other.
	InterBrokerName        string
	InterBrokerProtocol    string // security.inter.broker.protocol
	InterBrokerProtocolSet bool   // security.inter.broker.protocol was configured
	ControlPlaneName       string // control.plane.listener.name, "" when unset
}

// Listeners is the broker's listeners resolved and checked as Kafka's
// KafkaConfig does.
type Listeners struct {
	Protocols  map[string]Protocol // listener name -> protocol
	Bind       []Endpoint          // listeners, in order
	Advertised []Endpoint          // advertised.listeners, in order
	// InterBroker is the listener brokers reach each other on: follower
	// fetches, AlterPartition, ControlledShutdown, and the controller's
	// requests unless ControlPlane is set.
	InterBroker string
	// ControlPlane is control.plane.listener.name: the controller's
	// requests to brokers go to it; "" when unset.
	ControlPlane string
}

// Listener returns the bound listener of that name.
func (l *Listeners) Listener(name string) (Endpoint, bool) { return find(l.Bind, name) }

// AdvertisedOf returns the advertised endpoint of the listener.
func (l *Listeners) AdvertisedOf(name string) (Endpoint, bool) { return find(l.Advertised, name) }

// ControllerListener is the listener the controller sends its requests to:
// the control plane listener, else the inter-broker one.
func (l *Listeners) ControllerListener() string {
	if l.ControlPlane != "" {
		return l.ControlPlane
	}
	return l.InterBroker
}

func find(eps []Endpoint, name string) (Endpoint, bool) {
	i := slices.IndexFunc(eps, func(e Endpoint) bool { return e.Name == name })
	if i < 0 {
		return Endpoint{}, false
	}
	return eps[i], true
}

func names(eps []Endpoint) string {
	out := make([]string, len(eps))
	for i, e := range eps {
		out[i] = e.Name
	}
	return strings.Join(out, ",")
}

// ResolveListeners parses and checks the listener keys together, in
// Kafka's order and with Kafka's messages (KafkaConfig.validateValues).
func ResolveListeners(s ListenerSpec) (*Listeners, error) {
	protocols, err := ParseProtocolMap(s.ProtocolMap)
	if err != nil {
		return nil, err
	}
	l := &Listeners{Protocols: protocols}
	if l.Bind, err = ParseEndpoints(KeyListeners, s.Listeners, protocols, true); err != nil {
		return nil, err
	}
	adv := s.Advertised
	if adv == "" {
		adv = s.Listeners
	}
	if l.Advertised, err = ParseEndpoints(KeyAdvertisedListeners, adv, protocols, false); err != nil {
		return nil, err
	}
	switch {
	case s.InterBrokerName != "" && s.InterBrokerProtocolSet:
		return nil, configErr(KeyInterBrokerName, "Only one of %s and %s should be set.", KeyInterBrokerName, KeyInterBrokerProtocol)
	case s.InterBrokerName != "":
		l.InterBroker = strings.ToUpper(strings.TrimSpace(s.InterBrokerName))
		if _, ok := protocols[l.InterBroker]; !ok {
			return nil, configErr(KeyInterBrokerName, "Listener with name %s defined in %s not found in %s.", l.InterBroker, KeyInterBrokerName, KeyProtocolMap)
		}
	default:
		p, err := parseProtocolName(s.InterBrokerProtocol)
		if err != nil {
			return nil, configErr(KeyInterBrokerProtocol, "Invalid security protocol `%s` defined in %s", s.InterBrokerProtocol, KeyInterBrokerProtocol)
		}
		l.InterBroker = p.String()
	}
	if s.ControlPlaneName != "" {
		l.ControlPlane = strings.ToUpper(strings.TrimSpace(s.ControlPlaneName))
		if _, ok := protocols[l.ControlPlane]; !ok {
			return nil, configErr(KeyControlPlaneName, "Listener with %s defined in %s not found in %s.", l.ControlPlane, KeyControlPlaneName, KeyProtocolMap)
		}
	}
	if len(l.Advertised) == 0 {
		return nil, configErr(KeyAdvertisedListeners, "There must be at least one advertised listener.")
	}
	if _, ok := l.AdvertisedOf(l.InterBroker); !ok {
		return nil, configErr(KeyInterBrokerName, "%s must be a listener name defined in %s. The valid options based on currently configured listeners are %s",
			KeyInterBrokerName, KeyAdvertisedListeners, names(l.Advertised))
	}
	for _, a := range l.Advertised {
		if _, ok := l.Listener(a.Name); !ok {
			return nil, configErr(KeyAdvertisedListeners, "%s listener names must be equal to or a subset of the ones defined in %s. Found %s. The valid options based on the current configuration are %s",
				KeyAdvertisedListeners, KeyListeners, names(l.Advertised), names(l.Bind))
		}
	}
	for _, a := range l.Advertised {
		if a.Host == "0.0.0.0" {
			return nil, configErr(KeyAdvertisedListeners, "%s cannot use the nonroutable meta-address 0.0.0.0. Use a routable IP address.", KeyAdvertisedListeners)
		}
	}
	if l.ControlPlane != "" {
		if _, ok := l.AdvertisedOf(l.ControlPlane); !ok {
			return nil, configErr(KeyControlPlaneName, "%s must be a listener name defined in %s. The valid options based on currently configured listeners are %s",
				KeyControlPlaneName, KeyAdvertisedListeners, names(l.Advertised))
		}
		if l.ControlPlane == l.InterBroker {
			return nil, configErr(KeyControlPlaneName, "%s, when defined, should have a different value from the inter broker listener name. Currently they both have the value %s",
				KeyControlPlaneName, l.ControlPlane)
		}
	}
	return l, nil
}
