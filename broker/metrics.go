package broker

import (
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"samsa/config"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// metrics are the broker's Prometheus metrics, served on the admin
// listener's /metrics. Per-request work is a counter and a histogram
// observation, both lock-free.
type metrics struct {
	reg             *prometheus.Registry
	requests        *prometheus.CounterVec
	latency         *prometheus.HistogramVec
	unknownRequests prometheus.Counter
	panics          prometheus.Counter
	fetchWaiting    prometheus.Gauge
	bytesIn         *prometheus.CounterVec
	bytesOut        *prometheus.CounterVec
	recordsIn       *prometheus.CounterVec
	recordsOut      *prometheus.CounterVec
	// per API key, resolved once: no label lookup per request.
	reqByKey map[int16]prometheus.Counter
	latByKey map[int16]prometheus.Observer
}

func newMetrics(b *Broker) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
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
	m.fetchWaiting = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "samsa_fetch_purgatory_size", Help: "Fetches parked until data arrives or their max wait ends (long polls), as Kafka's fetch purgatory.",
	})
	perTopic := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"topic"})
	}
	m.bytesIn = perTopic("samsa_topic_bytes_in_total", "Record batch bytes appended, by topic.")
	m.bytesOut = perTopic("samsa_topic_bytes_out_total", "Record batch bytes sent to consumers, by topic.")
	m.recordsIn = perTopic("samsa_topic_records_in_total", "Records appended, by topic.")
	m.recordsOut = perTopic("samsa_topic_records_out_total", "Offsets delivered to consumers, by topic.")
	m.reg.MustRegister(m.requests, m.latency, m.unknownRequests, m.panics, m.fetchWaiting, m.bytesIn, m.bytesOut, m.recordsIn, m.recordsOut,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), &brokerCollector{b})
	m.reqByKey = map[int16]prometheus.Counter{}
	m.latByKey = map[int16]prometheus.Observer{}
	for key := range apis {
		name := kmsg.NameForKey(key)
		m.reqByKey[key] = m.requests.WithLabelValues(name)
		m.latByKey[key] = m.latency.WithLabelValues(name)
	}
	return m
}

func (m *metrics) observe(key int16, d time.Duration) {
	if c := m.reqByKey[key]; c != nil {
		c.Inc()
		m.latByKey[key].Observe(d.Seconds())
	}
}

// brokerCollector reports gauges read at scrape time: connections and
// every partition's offsets and size.
type brokerCollector struct{ b *Broker }

var (
	descConns    = prometheus.NewDesc("samsa_connections", "Open client connections.", nil, nil)
	descAccepted = prometheus.NewDesc("samsa_connections_accepted_total", "Client connections accepted.", nil, nil)
	descEnd      = prometheus.NewDesc("samsa_log_end_offset", "Log end offset.", []string{"topic", "partition"}, nil)
	descStart    = prometheus.NewDesc("samsa_log_start_offset", "Log start offset.", []string{"topic", "partition"}, nil)
	descHW       = prometheus.NewDesc("samsa_high_watermark", "High watermark.", []string{"topic", "partition"}, nil)
	descSize     = prometheus.NewDesc("samsa_log_size_bytes", "Bytes in the partition's segments.", []string{"topic", "partition"}, nil)
	descSegments = prometheus.NewDesc("samsa_log_segments", "Segments in the partition's log.", []string{"topic", "partition"}, nil)
	descSessions = prometheus.NewDesc("samsa_fetch_sessions", "Fetch sessions (KIP-227) in the cache.", nil, nil)
	descGroups   = prometheus.NewDesc("samsa_groups", "Consumer groups this coordinator holds, by state.", []string{"state"}, nil)
	descMembers  = prometheus.NewDesc("samsa_group_members", "Members of the consumer groups this coordinator holds.", nil, nil)
	descOffsets  = prometheus.NewDesc("samsa_group_offsets", "Committed offsets this coordinator holds.", nil, nil)
)

func (c *brokerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConns, descAccepted, descEnd, descStart, descHW, descSize, descSegments, descSessions, descGroups, descMembers, descOffsets} {
		ch <- d
	}
}

func (c *brokerCollector) Collect(ch chan<- prometheus.Metric) {
	if srv := c.b.srv; srv != nil {
		st := srv.Stats()
		ch <- prometheus.MustNewConstMetric(descConns, prometheus.GaugeValue, float64(srv.NumConns()))
		ch <- prometheus.MustNewConstMetric(descAccepted, prometheus.CounterValue, float64(st.Accepted))
	}
	ch <- prometheus.MustNewConstMetric(descSessions, prometheus.GaugeValue, float64(c.b.sessions.len()))
	if g := c.b.groups; g != nil {
		st := g.Stats()
		for state, n := range st.Groups {
			ch <- prometheus.MustNewConstMetric(descGroups, prometheus.GaugeValue, float64(n), state)
		}
		ch <- prometheus.MustNewConstMetric(descMembers, prometheus.GaugeValue, float64(st.Members))
		ch <- prometheus.MustNewConstMetric(descOffsets, prometheus.GaugeValue, float64(st.Offsets))
	}
	for _, name := range c.b.topicNames() {
		ts := c.b.topic(name)
		if ts == nil {
			continue
		}
		for _, p := range ts.parts {
			part := strconv.Itoa(int(p.Index))
			l := p.Log
			ch <- prometheus.MustNewConstMetric(descEnd, prometheus.GaugeValue, float64(l.EndOffset()), name, part)
			ch <- prometheus.MustNewConstMetric(descStart, prometheus.GaugeValue, float64(l.StartOffset()), name, part)
			ch <- prometheus.MustNewConstMetric(descHW, prometheus.GaugeValue, float64(l.HighWatermark()), name, part)
			ch <- prometheus.MustNewConstMetric(descSize, prometheus.GaugeValue, float64(l.Size()), name, part)
			ch <- prometheus.MustNewConstMetric(descSegments, prometheus.GaugeValue, float64(l.NumSegments()), name, part)
		}
	}
}

// startAdmin serves /metrics, /healthz and /debug/pprof/ on admin.listener.
func (b *Broker) startAdmin() error {
	ln, err := net.Listen("tcp", b.cfg.AdminListener)
	if err != nil {
		return &config.Error{Key: "admin.listener", Value: b.cfg.AdminListener, Reason: err.Error()}
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(b.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	b.adminLn = ln
	b.admin = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go b.admin.Serve(ln)
	return nil
}

// topicMetrics are a topic's counters, resolved once per topic.
type topicMetrics struct {
	bytesIn, bytesOut, recordsIn, recordsOut prometheus.Counter
}

func (m *metrics) forTopic(name string) *topicMetrics {
	return &topicMetrics{
		bytesIn:    m.bytesIn.WithLabelValues(name),
		bytesOut:   m.bytesOut.WithLabelValues(name),
		recordsIn:  m.recordsIn.WithLabelValues(name),
		recordsOut: m.recordsOut.WithLabelValues(name),
	}
}

func (m *metrics) dropTopic(name string) {
	for _, v := range []*prometheus.CounterVec{m.bytesIn, m.bytesOut, m.recordsIn, m.recordsOut} {
		v.DeleteLabelValues(name)
	}
}

func (ts *topicState) metricsIn(b *Broker, bytes, records int64) {
	ts.m.bytesIn.Add(float64(bytes))
	ts.m.recordsIn.Add(float64(records))
}

func (ts *topicState) metricsOut(bytes, records int64) {
	ts.m.bytesOut.Add(float64(bytes))
	ts.m.recordsOut.Add(float64(records))
}

// testCounter reads a counter's value (tests and fuzzing).
func testCounter(c prometheus.Counter) float64 {
	var m dto.Metric
	c.Write(&m)
	return m.GetCounter().GetValue()
}
