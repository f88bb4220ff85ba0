package adminapi

// IncrementalAlterConfigs (key 44), versions 0-1.
//
// KIP-339: each config names an operation on the topic's overrides: SET
// (0) sets a value, DELETE (1) removes the override (the broker default
// applies again; deleting an absent one is no error), APPEND (2) and
// SUBTRACT (3) add or remove comma-separated items of a list-type config
// (cleanup.policy), starting from the value in effect; an item already
// present is not appended twice. The edit and its validation happen under
// the admin lock, against the current overrides, so concurrent changes are
// not lost. The result is stored in the metadata (surviving a restart) and
// applied to the running logs at once. validate_only checks and changes
// nothing.
//
// Errors per resource, with Kafka's messages: INVALID_REQUEST for a
// resource named twice, a key named twice, a null value for an operation
// other than DELETE, APPEND or SUBTRACT on a config that is not a list, an
// unknown operation, an empty topic name; INVALID_CONFIG for an unknown key
// or a bad value; UNKNOWN_TOPIC_OR_PARTITION. Broker resources: SET and
// DELETE of this broker's dynamic configs, the TLS listeners' keystores
// (see AlterConfigs); APPEND and SUBTRACT are INVALID_REQUEST there. A topic needs AlterConfigs on
// it (TOPIC_AUTHORIZATION_FAILED), a broker on the cluster
// (CLUSTER_AUTHORIZATION_FAILED), checked before the rest.

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/config"
	"samsa/kafkaapi"
	"samsa/netpoll"
	"samsa/security/acl"
)

func init() { kafkaapi.Register(44, 0, 1, serveIncrementalAlterConfigs) }

func serveIncrementalAlterConfigs(rc *kafkaapi.Request, kreq kmsg.Request) *netpoll.Response {
	req := kreq.(*kmsg.IncrementalAlterConfigsRequest)
	h := rc.Handler()
	resp := kmsg.NewPtrIncrementalAlterConfigsResponse()
	dups := duplicateResources(len(req.Resources), func(i int) (kmsg.ConfigResourceType, string) {
		return req.Resources[i].ResourceType, req.Resources[i].ResourceName
	})
	for i, r := range req.Resources {
		sr := kmsg.NewIncrementalAlterConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = r.ResourceType, r.ResourceName
		if denied := configsDenied(rc, acl.OpAlterConfigs, r.ResourceType, r.ResourceName); denied != nil && !dups[i] {
			sr.ErrorCode = denied.Code
			resp.Resources = append(resp.Resources, sr)
			continue
		}
		if err := incrementalAlterConfigs(h, r, dups[i], req.ValidateOnly); err != nil {
			sr.ErrorCode, sr.ErrorMessage = codeOf(err), msgOf(err)
			h.Logger().Debug("incremental alter configs failed", "type", r.ResourceType, "name", r.ResourceName, "err", err)
		}
		resp.Resources = append(resp.Resources, sr)
	}
	return rc.Respond(resp)
}

func incrementalAlterConfigs(h *kafkaapi.Handler, r kmsg.IncrementalAlterConfigsRequestResource, dup, validateOnly bool) error {
	names := make([]string, len(r.Configs))
	for i, c := range r.Configs {
		names[i] = c.Name
	}
	if err := checkAlterResource(h, r.ResourceType, r.ResourceName, dup, names); err != nil {
		return err
	}
	var nulls []string
	for _, c := range r.Configs {
		if c.Op != kmsg.IncrementalAlterConfigOpDelete && c.Value == nil {
			nulls = append(nulls, c.Name)
		}
	}
	if len(nulls) > 0 {
		return errf(kerr.InvalidRequest, "Null value not supported for : %s", strings.Join(nulls, ", "))
	}
	if r.ResourceType == kmsg.ConfigResourceTypeBroker {
		return alterBrokerConfigs(h, r.ResourceName, names, func(cur map[string]string) (map[string]string, error) {
			for _, c := range r.Configs {
				switch c.Op {
				case kmsg.IncrementalAlterConfigOpSet:
					cur[c.Name] = *c.Value
				case kmsg.IncrementalAlterConfigOpDelete:
					delete(cur, c.Name)
				default:
					return nil, errf(kerr.InvalidRequest, "Config value %s is not allowed for config key: %s", strings.ToLower(c.Op.String()), c.Name)
				}
			}
			return cur, nil
		}, validateOnly)
	}
	if r.ResourceName == "" {
		return errf(kerr.InvalidRequest, "Default topic resources are not allowed.")
	}
	return h.Admin().UpdateTopicConfigs(r.ResourceName, func(cur map[string]string) (map[string]string, error) {
		if cur == nil {
			cur = map[string]string{}
		}
		for _, c := range r.Configs {
			if err := applyConfigOp(cur, c, h.Config().TopicDefaults); err != nil {
				return nil, err
			}
		}
		return cur, nil
	}, validateOnly)
}

// applyConfigOp applies one operation to a topic's overrides.
func applyConfigOp(overrides map[string]string, c kmsg.IncrementalAlterConfigsRequestResourceConfig, defaults config.TopicConfig) error {
	switch c.Op {
	case kmsg.IncrementalAlterConfigOpSet:
		overrides[c.Name] = *c.Value
		return nil
	case kmsg.IncrementalAlterConfigOpDelete:
		delete(overrides, c.Name)
		return nil
	case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
	default:
		return errf(kerr.InvalidRequest, "unknown config operation %d", int8(c.Op))
	}
	verb := "append"
	if c.Op == kmsg.IncrementalAlterConfigOpSubtract {
		verb = "subtract"
	}
	d, ok := config.LookupTopic(c.Name)
	if !ok {
		return errf(kerr.InvalidConfig, "Unknown topic config name: %s", c.Name)
	}
	if d.Type != config.TypeList {
		return errf(kerr.InvalidRequest, "Config value %s is not allowed for config key: %s", verb, c.Name)
	}
	cur, ok := overrides[c.Name]
	if !ok {
		cur = d.TopicValue(&defaults)
	}
	list := splitList(cur)
	for _, item := range splitList(*c.Value) {
		if c.Op == kmsg.IncrementalAlterConfigOpAppend {
			if !slices.Contains(list, item) {
				list = append(list, item)
			}
		} else {
			list = slices.DeleteFunc(list, func(s string) bool { return s == item })
		}
	}
	overrides[c.Name] = strings.Join(list, ",")
	return nil
}

// splitList splits a list config's value; the empty string is no items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
