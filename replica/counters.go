package replica

import "github.com/prometheus/client_golang/prometheus"

// TopicCounters are a topic's traffic counters (Kafka's BrokerTopicStats),
// resolved once per topic so that a request pays no label lookup.
type TopicCounters struct {
	BytesIn, BytesOut, RecordsIn, RecordsOut prometheus.Counter
}

func (c *TopicCounters) in(bytes, records int64) {
	if c != nil {
		c.BytesIn.Add(float64(bytes))
		c.RecordsIn.Add(float64(records))
	}
}

// Out counts what a fetch sent to a consumer.
func (c *TopicCounters) Out(bytes, records int64) {
	if c != nil {
		c.BytesOut.Add(float64(bytes))
		c.RecordsOut.Add(float64(records))
	}
}
