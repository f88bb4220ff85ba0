package metadata

import (
	"fmt"
	"strings"
)

const maxTopicNameLen = 249

// ValidTopicName applies Kafka's rules: 1-249 characters of [a-zA-Z0-9._-],
// not "." or "..".
func ValidTopicName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("topic name is empty")
	case name == "." || name == "..":
		return fmt.Errorf("topic name cannot be %q", name)
	case len(name) > maxTopicNameLen:
		return fmt.Errorf("topic name is longer than %d characters", maxTopicNameLen)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("topic name %q has a character other than ASCII alphanumerics, '.', '_' and '-'", name)
		}
	}
	return nil
}

// IsInternal reports a topic Kafka keeps for itself.
func IsInternal(name string) bool {
	return strings.HasPrefix(name, "__") && (name == "__consumer_offsets" || name == "__transaction_state")
}
