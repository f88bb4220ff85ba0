package security

import (
	"reflect"
	"strings"
	"testing"
)

// The cases follow Kafka's KafkaConfigTest for listeners: what is
// accepted, how it resolves, and the message of each refusal.

func TestResolveListeners(t *testing.T) {
	for _, c := range []struct {
		name                    string
		spec                    ListenerSpec
		bind, advertised        []Endpoint
		interBroker, controller string
	}{
		{
			name:        "defaults",
			spec:        ListenerSpec{Listeners: "PLAINTEXT://fake-host:9999", ProtocolMap: DefaultProtocolMap, InterBrokerProtocol: "PLAINTEXT"},
			bind:        []Endpoint{{"PLAINTEXT", Plaintext, "fake-host", 9999}},
			advertised:  []Endpoint{{"PLAINTEXT", Plaintext, "fake-host", 9999}},
			interBroker: "PLAINTEXT", controller: "PLAINTEXT",
		},
		{
			name: "named listeners, advertised unset",
			spec: ListenerSpec{Listeners: "CLIENT://localhost:9091,REPLICATION://localhost:9092,INTERNAL://localhost:9093",
				ProtocolMap: "CLIENT:SSL,REPLICATION:SSL,INTERNAL:PLAINTEXT", InterBrokerName: "REPLICATION", InterBrokerProtocol: "PLAINTEXT"},
			bind:        []Endpoint{{"CLIENT", SSL, "localhost", 9091}, {"REPLICATION", SSL, "localhost", 9092}, {"INTERNAL", Plaintext, "localhost", 9093}},
			advertised:  []Endpoint{{"CLIENT", SSL, "localhost", 9091}, {"REPLICATION", SSL, "localhost", 9092}, {"INTERNAL", Plaintext, "localhost", 9093}},
			interBroker: "REPLICATION", controller: "REPLICATION",
		},
		{
			name: "advertised differs",
			spec: ListenerSpec{Listeners: "EXTERNAL://localhost:9091,INTERNAL://localhost:9093", Advertised: "EXTERNAL://lb1.example.com:9000,INTERNAL://host1:9093",
				ProtocolMap: "EXTERNAL:SSL,INTERNAL:PLAINTEXT", InterBrokerName: "INTERNAL", InterBrokerProtocol: "PLAINTEXT"},
			bind:        []Endpoint{{"EXTERNAL", SSL, "localhost", 9091}, {"INTERNAL", Plaintext, "localhost", 9093}},
			advertised:  []Endpoint{{"EXTERNAL", SSL, "lb1.example.com", 9000}, {"INTERNAL", Plaintext, "host1", 9093}},
			interBroker: "INTERNAL", controller: "INTERNAL",
		},
		{
			name:        "case-insensitive names",
			spec:        ListenerSpec{Listeners: "plaintext://localhost:9091,SsL://localhost:9092", ProtocolMap: DefaultProtocolMap, InterBrokerProtocol: "PLAINTEXT"},
			bind:        []Endpoint{{"PLAINTEXT", Plaintext, "localhost", 9091}, {"SSL", SSL, "localhost", 9092}},
			advertised:  []Endpoint{{"PLAINTEXT", Plaintext, "localhost", 9091}, {"SSL", SSL, "localhost", 9092}},
			interBroker: "PLAINTEXT", controller: "PLAINTEXT",
		},
		{
			name: "control plane",
			spec: ListenerSpec{Listeners: "PLAINTEXT://localhost:0,CONTROLLER://localhost:5000", ProtocolMap: "PLAINTEXT:PLAINTEXT,CONTROLLER:SSL",
				InterBrokerProtocol: "PLAINTEXT", ControlPlaneName: "CONTROLLER"},
			bind:        []Endpoint{{"PLAINTEXT", Plaintext, "localhost", 0}, {"CONTROLLER", SSL, "localhost", 5000}},
			advertised:  []Endpoint{{"PLAINTEXT", Plaintext, "localhost", 0}, {"CONTROLLER", SSL, "localhost", 5000}},
			interBroker: "PLAINTEXT", controller: "CONTROLLER",
		},
		{
			name: "the issue's four listeners",
			spec: ListenerSpec{Listeners: "PLAINTEXT://:9092,SSL://:9093,SASL_SSL://:9094,INTERNAL://:9095", Advertised: "PLAINTEXT://a:9092,SSL://a:9093,SASL_SSL://a:9094,INTERNAL://a:9095",
				ProtocolMap: DefaultProtocolMap + ",INTERNAL:SSL", InterBrokerName: "internal", InterBrokerProtocol: "PLAINTEXT"},
			bind:        []Endpoint{{"PLAINTEXT", Plaintext, "", 9092}, {"SSL", SSL, "", 9093}, {"SASL_SSL", SASLSSL, "", 9094}, {"INTERNAL", SSL, "", 9095}},
			advertised:  []Endpoint{{"PLAINTEXT", Plaintext, "a", 9092}, {"SSL", SSL, "a", 9093}, {"SASL_SSL", SASLSSL, "a", 9094}, {"INTERNAL", SSL, "a", 9095}},
			interBroker: "INTERNAL", controller: "INTERNAL",
		},
		{
			name: "advertised may share ports",
			spec: ListenerSpec{Listeners: "HOST://localhost:9091,LB://localhost:9092", Advertised: "HOST://localhost:9091,LB://localhost:9091",
				ProtocolMap: "HOST:SASL_SSL,LB:SASL_SSL", InterBrokerName: "HOST", InterBrokerProtocol: "PLAINTEXT"},
			bind:        []Endpoint{{"HOST", SASLSSL, "localhost", 9091}, {"LB", SASLSSL, "localhost", 9092}},
			advertised:  []Endpoint{{"HOST", SASLSSL, "localhost", 9091}, {"LB", SASLSSL, "localhost", 9091}},
			interBroker: "HOST", controller: "HOST",
		},
		{
			name: "IPv4 and IPv6 on one port",
			spec: ListenerSpec{Listeners: "PLAINTEXT://127.0.0.1:9094,SSL://[::1]:9094,SASL_SSL://127.0.0.1:9095,SASL_PLAINTEXT://[::1]:9095",
				ProtocolMap: DefaultProtocolMap, InterBrokerProtocol: "PLAINTEXT"},
			bind:        []Endpoint{{"PLAINTEXT", Plaintext, "127.0.0.1", 9094}, {"SSL", SSL, "::1", 9094}, {"SASL_SSL", SASLSSL, "127.0.0.1", 9095}, {"SASL_PLAINTEXT", SASLPlaintext, "::1", 9095}},
			advertised:  []Endpoint{{"PLAINTEXT", Plaintext, "127.0.0.1", 9094}, {"SSL", SSL, "::1", 9094}, {"SASL_SSL", SASLSSL, "127.0.0.1", 9095}, {"SASL_PLAINTEXT", SASLPlaintext, "::1", 9095}},
			interBroker: "PLAINTEXT", controller: "PLAINTEXT",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, err := ResolveListeners(c.spec)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(l.Bind, c.bind) {
				t.Errorf("listeners %v, want %v", l.Bind, c.bind)
			}
			if !reflect.DeepEqual(l.Advertised, c.advertised) {
				t.Errorf("advertised %v, want %v", l.Advertised, c.advertised)
			}
			if l.InterBroker != c.interBroker || l.ControllerListener() != c.controller {
				t.Errorf("inter-broker %s, controller %s; want %s, %s", l.InterBroker, l.ControllerListener(), c.interBroker, c.controller)
			}
		})
	}
}

func TestResolveListenersErrors(t *testing.T) {
	base := func(s ListenerSpec) ListenerSpec {
		if s.ProtocolMap == "" {
			s.ProtocolMap = DefaultProtocolMap
		}
		if s.InterBrokerProtocol == "" {
			s.InterBrokerProtocol = "PLAINTEXT"
		}
		return s
	}
	for _, c := range []struct {
		spec ListenerSpec
		key  string
		msg  string
	}{
		{ListenerSpec{Listeners: "PLAINTEXT://localhost:9091,SSL://localhost:9091"}, KeyListeners, "Each listener must have a different port"},
		{ListenerSpec{Listeners: "PLAINTEXT://localhost:9091,PLAINTEXT://localhost:9092"}, KeyListeners, "Each listener must have a different name"},
		{ListenerSpec{Listeners: "HOST://localhost:9091,LB://localhost:9092", Advertised: "HOST://localhost:9091,HOST://localhost:9091",
			ProtocolMap: "HOST:SASL_SSL,LB:SASL_SSL", InterBrokerName: "HOST"}, KeyAdvertisedListeners, "Each listener must have a different name"},
		{ListenerSpec{Listeners: "PLAINTEXT://[::1]:9092,SSL://[::1]:9092"}, KeyListeners, "If you have two listeners on the same port then one needs to be IPv4 and the other IPv6"},
		{ListenerSpec{Listeners: "PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9092"}, KeyListeners, "If you have two listeners on the same port then one needs to be IPv4 and the other IPv6"},
		{ListenerSpec{Listeners: "SSL://[::1]:9096,PLAINTEXT://127.0.0.1:9096,SASL_SSL://:9096"}, KeyListeners, "If you have two listeners on the same port then one needs to be IPv4 and the other IPv6"},
		{ListenerSpec{Listeners: "PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9092,SASL_SSL://127.0.0.1:9092"}, KeyListeners, "Each listener must have a different port"},
		{ListenerSpec{Listeners: "PLAINTEXT://apache.org:9092,SSL://[::1]:9092"}, KeyListeners, "Each listener must have a different port"},
		{ListenerSpec{Listeners: "BAD://localhost:9091"}, KeyListeners, "No security protocol defined for listener BAD"},
		{ListenerSpec{Listeners: "TRACE://localhost:9091,SSL://localhost:9093", Advertised: "PLAINTEXT://localhost:9092"}, KeyListeners, "No security protocol defined for listener TRACE"},
		{ListenerSpec{Listeners: "TRACE://localhost:9091,SSL://localhost:9093", Advertised: "PLAINTEXT://localhost:9092", ProtocolMap: "PLAINTEXT:PLAINTEXT,TRACE:PLAINTEXT,SSL:SSL"},
			KeyAdvertisedListeners, "advertised.listeners listener names must be equal to or a subset of the ones defined in listeners"},
		{ListenerSpec{Listeners: "SSL://localhost:9091,REPLICATION://localhost:9092", InterBrokerName: "SSL"}, KeyListeners, "No security protocol defined for listener REPLICATION"},
		{ListenerSpec{Listeners: "SSL://localhost:9091", InterBrokerName: "REPLICATION"}, KeyInterBrokerName, "Listener with name REPLICATION defined in inter.broker.listener.name not found in listener.security.protocol.map."},
		{ListenerSpec{Listeners: "SSL://localhost:9091", InterBrokerName: "SSL", InterBrokerProtocol: "SSL", InterBrokerProtocolSet: true}, KeyInterBrokerName, "Only one of inter.broker.listener.name and security.inter.broker.protocol should be set."},
		{ListenerSpec{Listeners: "SSL://localhost:0"}, KeyInterBrokerName, "inter.broker.listener.name must be a listener name defined in advertised.listeners. The valid options based on currently configured listeners are SSL"},
		{ListenerSpec{Listeners: "PLAINTEXT://localhost:0", InterBrokerProtocol: "plaintext"}, KeyInterBrokerProtocol, "Invalid security protocol `plaintext` defined in security.inter.broker.protocol"},
		{ListenerSpec{Listeners: "PLAINTEXT://0.0.0.0:9092"}, KeyAdvertisedListeners, "advertised.listeners cannot use the nonroutable meta-address 0.0.0.0. Use a routable IP address."},
		{ListenerSpec{Listeners: "PLAINTEXT://localhost:9092", ProtocolMap: "PLAINTEXT:TLS"}, KeyProtocolMap, "Invalid security protocol `TLS` defined in listener.security.protocol.map"},
		{ListenerSpec{Listeners: "PLAINTEXT://localhost:9092", ProtocolMap: "PLAINTEXT"}, KeyProtocolMap, "Error parsing configuration property 'listener.security.protocol.map'"},
		{ListenerSpec{Listeners: "PLAINTEXT:/localhost:9092"}, KeyListeners, "Unable to parse PLAINTEXT:/localhost:9092 to a broker endpoint"},
		{ListenerSpec{Listeners: "PLAINTEXT://localhost:99999"}, KeyListeners, "port 99999"},
		{ListenerSpec{Listeners: ""}, KeyAdvertisedListeners, "There must be at least one advertised listener."},
		{ListenerSpec{Listeners: "PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093", ProtocolMap: "PLAINTEXT:PLAINTEXT", ControlPlaneName: "CONTROLLER"},
			KeyListeners, "No security protocol defined for listener CONTROLLER"},
		{ListenerSpec{Listeners: "PLAINTEXT://localhost:9092", ControlPlaneName: "SSL"}, KeyControlPlaneName, "control.plane.listener.name must be a listener name defined in advertised.listeners"},
		{ListenerSpec{Listeners: "PLAINTEXT://localhost:9092", ControlPlaneName: "CONTROLLER"}, KeyControlPlaneName, "Listener with CONTROLLER defined in control.plane.listener.name not found in listener.security.protocol.map."},
		{ListenerSpec{Listeners: "PLAINTEXT://localhost:9092,SSL://localhost:9093", ControlPlaneName: "PLAINTEXT"}, KeyControlPlaneName, "should have a different value from the inter broker listener name"},
	} {
		spec := base(c.spec)
		l, err := ResolveListeners(spec)
		if err == nil {
			t.Errorf("%+v: resolved to %+v, want an error", spec, l)
			continue
		}
		ce, ok := err.(*ConfigError)
		if !ok || ce.Key != c.key || !strings.Contains(ce.Reason, c.msg) {
			t.Errorf("%+v:\n got %v\nwant %s: ...%s...", spec, err, c.key, c.msg)
		}
	}
}

func TestParsePrincipal(t *testing.T) {
	for in, want := range map[string]Principal{
		"User:alice":         {"User", "alice"},
		"User:CN=a,OU=b":     {"User", "CN=a,OU=b"},
		"Group:x:y":          {"Group", "x:y"},
		Anonymous.String():   Anonymous,
		User("bob").String(): {"User", "bob"},
	} {
		if got, err := ParsePrincipal(in); err != nil || got != want {
			t.Errorf("ParsePrincipal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"alice", ":alice", "User:", ""} {
		if got, err := ParsePrincipal(in); err == nil {
			t.Errorf("ParsePrincipal(%q) = %v, want an error", in, got)
		}
	}
}
