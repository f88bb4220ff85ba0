package config

import "testing"

// Every server key is described, and nothing else.
func TestBrokerConfigDefsCoverServerKeys(t *testing.T) {
	for k := range serverKeys {
		if _, ok := BrokerDefs[k]; !ok {
			t.Errorf("server key %s missing from BrokerDefs", k)
		}
	}
	for k, d := range BrokerDefs {
		if _, ok := serverKeys[k]; !ok {
			t.Errorf("BrokerDefs has %s, which is not a server key", k)
		}
		if d.Doc == "" || d.Type == 0 {
			t.Errorf("%s: no documentation or type", k)
		}
	}
	// Coarser units are derived only when exact.
	c := Default()
	for _, x := range []struct {
		ms, hours string
	}{{"3600000", "1"}, {"5400000", "<nil>"}, {"-1", "-1"}} {
		cc := *c
		cc.TopicDefaults = DefaultTopicConfig()
		cc.TopicDefaults["retention.ms"] = x.ms
		if got := deref(BrokerDefs["log.retention.hours"].Get(&cc)); got != x.hours {
			t.Errorf("retention.ms %s: log.retention.hours %s, want %s", x.ms, got, x.hours)
		}
	}
}


func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
