package config

import "testing"

// Coarser units are derived only when exact.
func TestScaledBrokerKeyDescribe(t *testing.T) {
	hours, _ := LookupBroker("log.retention.hours")
	for _, x := range []struct {
		ms    int64
		hours string
	}{{3600000, "1"}, {5400000, "<nil>"}, {-1, "-1"}} {
		c := *Default()
		c.TopicDefaults.RetentionMs = x.ms
		if got := deref(hours.Value(&c)); got != x.hours {
			t.Errorf("retention.ms %d: log.retention.hours %s, want %s", x.ms, got, x.hours)
		}
	}
}
