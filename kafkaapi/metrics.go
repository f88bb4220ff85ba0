package kafkaapi

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Metrics are the request metrics (Kafka's RequestMetrics). Per-request
// work is a counter and a histogram observation, both lock-free.
type Metrics struct {
	requests        *prometheus.CounterVec
	latency         *prometheus.HistogramVec
	unknownRequests prometheus.Counter
	panics          prometheus.Counter
	// per API key, resolved once: no label lookup per request.
	reqByKey map[int16]prometheus.Counter
	latByKey map[int16]prometheus.Observer
}

// NewMetrics registers the request metrics in reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "samsa_requests_total", Help: "Requests served, by API.",
	}, []string{"api"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "samsa_request_duration_seconds", Help: "Time from a request's arrival to its response being ready, by API (long polls included).",
		Buckets: prometheus.ExponentialBuckets(0.00005, 2.5, 14),
	}, []string{"api"})
	m.unknownRequests = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "samsa_invalid_requests_total", Help: "Requests whose key, version or bytes could not be served; each closed its connection.",
	})
	m.panics = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "samsa_handler_panics_total", Help: "Request handlers that panicked (a bug); each closed its connection.",
	})
	reg.MustRegister(m.requests, m.latency, m.unknownRequests, m.panics)
	m.reqByKey = map[int16]prometheus.Counter{}
	m.latByKey = map[int16]prometheus.Observer{}
	for key := range apis {
		name := kmsg.NameForKey(key)
		m.reqByKey[key] = m.requests.WithLabelValues(name)
		m.latByKey[key] = m.latency.WithLabelValues(name)
	}
	return m
}

func (m *Metrics) observe(key int16, d time.Duration) {
	if c := m.reqByKey[key]; c != nil {
		c.Inc()
		m.latByKey[key].Observe(d.Seconds())
	}
}
