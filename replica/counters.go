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

// Metrics are the replica layer's counters (Kafka's ReplicaManager and
// ReplicaFetcherManager metrics); nil fields count nothing.
type Metrics struct {
	ISRShrinks, ISRExpands prometheus.Counter
	FetcherBytes           prometheus.Counter
	ProducePurgatory       prometheus.Gauge
}

func (m *Metrics) isrShrink() {
	if m != nil && m.ISRShrinks != nil {
		m.ISRShrinks.Inc()
	}
}

func (m *Metrics) isrExpand() {
	if m != nil && m.ISRExpands != nil {
		m.ISRExpands.Inc()
	}
}

func (m *Metrics) fetched(n int) {
	if m != nil && m.FetcherBytes != nil {
		m.FetcherBytes.Add(float64(n))
	}
}

func (m *Metrics) producePark(d int) {
	if m != nil && m.ProducePurgatory != nil {
		m.ProducePurgatory.Add(float64(d))
	}
}
