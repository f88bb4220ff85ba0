package adminapi

// AlterConfigs (key 33), versions 0-2.
//
// The legacy, non-incremental form: a topic resource's config list replaces
// the topic's whole override set (a key left out returns to the broker
// default). The change is stored in the metadata before the answer, so it
// survives a restart, and applies to the running logs at once (roll,
// retention, size limits, timestamps). validate_only checks and changes
// nothing.
//
// Per resource, with Kafka's checks and messages: a resource named twice
// fails at each entry, and a config key named twice fails its resource,
// with INVALID_REQUEST; a null value and an empty topic name are
// INVALID_REQUEST; an unknown key or a bad value INVALID_CONFIG; an unknown
// topic UNKNOWN_TOPIC_OR_PARTITION.
// Broker resources (KIP-226): this broker's dynamic configs are its TLS
// listeners' keystores and truststores
// (listener.name.<l>.ssl.keystore.location and the like), which the list
// replaces whole; a keystore that does not load, or any other key, fails
// with INVALID_REQUEST and Kafka's message, changing nothing. The cluster
// default (empty name) takes none of them; another broker's ID fails as in
// Kafka. Other resource types: INVALID_REQUEST. A topic needs
// AlterConfigs on it (TOPIC_AUTHORIZATION_FAILED), a broker on the cluster
// (CLUSTER_AUTHORIZATION_FAILED), checked before the rest.

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(33, 0, 2, serveAlterConfigs) }

func serveAlterConfigs(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.AlterConfigsRequest)
	h := rc.Handler()
	resp := kmsg.NewPtrAlterConfigsResponse()
	dups := duplicateResources(len(req.Resources), func(i int) (kmsg.ConfigResourceType, string) {
		return req.Resources[i].ResourceType, req.Resources[i].ResourceName
	})
	for i, r := range req.Resources {
		sr := kmsg.NewAlterConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = r.ResourceType, r.ResourceName
		if denied := configsDenied(rc, acl.OpAlterConfigs, r.ResourceType, r.ResourceName); denied != nil && !dups[i] {
			sr.ErrorCode = denied.Code
			resp.Resources = append(resp.Resources, sr)
			continue
		}
		err := alterConfigs(h, r, dups[i], req.ValidateOnly)
		if err != nil {
			sr.ErrorCode, sr.ErrorMessage = codeOf(err), msgOf(err)
			h.Logger().Debug("alter configs failed", "type", r.ResourceType, "name", r.ResourceName, "err", err)
		}
		resp.Resources = append(resp.Resources, sr)
	}
	return rc.Respond(resp)
}

func alterConfigs(h *kafkaapi.Handler, r kmsg.AlterConfigsRequestResource, dup, validateOnly bool) error {
	names := make([]string, len(r.Configs))
	for i, c := range r.Configs {
		names[i] = c.Name
	}
	if err := checkAlterResource(h, r.ResourceType, r.ResourceName, dup, names); err != nil {
		return err
	}
	configs := make(map[string]string, len(r.Configs))
	var nulls []string
	for _, c := range r.Configs {
		if c.Value == nil {
			nulls = append(nulls, c.Name)
			continue
		}
		configs[c.Name] = *c.Value
	}
	if len(nulls) > 0 {
		return errf(kerr.InvalidRequest, "Null value not supported for : %s", strings.Join(nulls, ","))
	}
	if r.ResourceType == kmsg.ConfigResourceTypeBroker {
		return alterBrokerConfigs(h, r.ResourceName, names, func(map[string]string) (map[string]string, error) { return configs, nil }, validateOnly)
	}
	if r.ResourceName == "" {
		return errf(kerr.InvalidRequest, "Default topic resources are not allowed.")
	}
	return h.Admin().SetTopicConfigs(r.ResourceName, configs, validateOnly)
}

// errDynamicBrokerConfigs answers any change to broker configs of a
// broker without dynamic configs.
var errDynamicBrokerConfigs = errf(kerr.InvalidRequest, "dynamic broker configs are not supported by this broker: set them in server.properties and restart")

// alterBrokerConfigs changes this broker's dynamic configs; every refusal
// is INVALID_REQUEST, as Kafka's ZkAdminManager answers a ConfigException.
func alterBrokerConfigs(h *kafkaapi.Handler, name string, names []string, edit func(map[string]string) (map[string]string, error), validateOnly bool) error {
	if h.BrokerConfigs() == nil {
		return errDynamicBrokerConfigs
	}
	if err := h.BrokerConfigs().Alter(names, edit, name != "", validateOnly); err != nil {
		if codeOf(err) != kerr.UnknownServerError.Code {
			return err
		}
		return errf(kerr.InvalidRequest, "Invalid config value for resource ConfigResource(type=BROKER, name='%s'): %v", name, err)
	}
	return nil
}

// duplicateResources marks the resources that appear more than once.
func duplicateResources(n int, at func(i int) (kmsg.ConfigResourceType, string)) []bool {
	type key struct {
		typ  kmsg.ConfigResourceType
		name string
	}
	first := make(map[key]int, n)
	dup := make([]bool, n)
	for i := range n {
		t, name := at(i)
		k := key{t, name}
		if j, ok := first[k]; ok {
			dup[i], dup[j] = true, true
			continue
		}
		first[k] = i
	}
	return dup
}

// checkAlterResource applies the checks Kafka makes of an AlterConfigs or
// IncrementalAlterConfigs resource before looking at values.
func checkAlterResource(h *kafkaapi.Handler, typ kmsg.ConfigResourceType, name string, dup bool, keys []string) error {
	if dup {
		return errf(kerr.InvalidRequest, "Each resource must appear at most once.")
	}
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if seen[k] {
			return errf(kerr.InvalidRequest, "Error due to duplicate config keys")
		}
		seen[k] = true
	}
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		return nil
	case kmsg.ConfigResourceTypeBroker:
		if name != "" {
			return checkBrokerResource(h, name)
		}
		return nil
	}
	return errf(kerr.InvalidRequest, "Unknown resource type %d", int8(typ))
}
