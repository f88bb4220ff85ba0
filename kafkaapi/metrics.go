package kafkaapi

import (
	"reflect"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/security/acl"
)

// Metrics are the request metrics (Kafka's RequestMetrics). Per-request
// work is a counter and a histogram observation, both lock-free; an error
// code in a response adds a counter increment, also lock-free once the
// (api, error) series exists, and nothing for a response without errors.
type Metrics struct {
	requests        *prometheus.CounterVec
	latency         *prometheus.HistogramVec
	errors          *prometheus.CounterVec
	unknownRequests prometheus.Counter
	panics          prometheus.Counter
	decisions       *prometheus.CounterVec
	// per API key, resolved once: no label lookup per request.
	reqByKey map[int16]prometheus.Counter
	latByKey map[int16]prometheus.Observer
	errByKey map[int16]*errCounters
	// plans says where each response type holds error codes, for the
	// APIs whose responses are counted by walking them (all but Produce
	// and Fetch, whose handlers count per partition).
	plans map[int16]*errorPlan
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
	m.errors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "samsa_request_errors_total",
		Help: "Error codes in responses, by API and Kafka error name: one per partition for Produce and Fetch, one per top-level, topic, partition, group or resource error elsewhere.",
	}, []string{"api", "error"})
	m.unknownRequests = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "samsa_invalid_requests_total", Help: "Requests whose key, version or bytes could not be served; each closed its connection.",
	})
	m.panics = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "samsa_handler_panics_total", Help: "Request handlers that panicked (a bug); each closed its connection.",
	})
	m.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "samsa_authorizer_decisions_total",
		Help: "The authorizer's decisions, by result (allowed, denied), operation and resource type; checks that only compute KIP-430 authorized operations or filter what is listed are not counted.",
	}, []string{"result", "operation", "resource_type"})
	reg.MustRegister(m.requests, m.latency, m.errors, m.unknownRequests, m.panics, m.decisions)
	m.reqByKey = map[int16]prometheus.Counter{}
	m.latByKey = map[int16]prometheus.Observer{}
	m.errByKey = map[int16]*errCounters{}
	m.plans = map[int16]*errorPlan{}
	for key := range apis {
		name := kmsg.NameForKey(key)
		m.reqByKey[key] = m.requests.WithLabelValues(name)
		m.latByKey[key] = m.latency.WithLabelValues(name)
		m.errByKey[key] = &errCounters{vec: m.errors, api: name}
		if key != produceKey && key != fetchKey {
			m.plans[key] = planFor(reflect.TypeOf(kmsg.ResponseForKey(key)).Elem(), map[reflect.Type]bool{})
		}
	}
	return m
}

// AuthorizerDecided counts one decision of the authorizer: its
// acl.Config.Decided.
func (m *Metrics) AuthorizerDecided(a acl.Action, allowed bool) {
	result := "denied"
	if allowed {
		result = "allowed"
	}
	m.decisions.WithLabelValues(result, a.Operation.String(), a.Type.String()).Inc()
}

const (
	produceKey = 0
	fetchKey   = 1
)

func (m *Metrics) observe(key int16, d time.Duration) {
	if c := m.reqByKey[key]; c != nil {
		c.Inc()
		m.latByKey[key].Observe(d.Seconds())
	}
}

// countError counts one error code (0 is no error) in a response of key;
// a nil *Metrics counts nothing. The no-error case inlines to a compare.
func (m *Metrics) countError(key, code int16) {
	if code != 0 && m != nil {
		m.countErrorSlow(key, code)
	}
}

//go:noinline
func (m *Metrics) countErrorSlow(key, code int16) {
	if ec := m.errByKey[key]; ec != nil {
		ec.inc(code)
	}
}

// countErrors counts the error codes in resp, a response of key, unless
// its handler counts them itself (Produce, Fetch).
func (m *Metrics) countErrors(key int16, resp kmsg.Response) {
	if key == produceKey {
		return
	}
	p := m.plans[key]
	if p == nil {
		return
	}
	v := reflect.ValueOf(resp)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return
	}
	p.walk(v.Elem(), m.errByKey[key])
}

// errCounters holds one API's error counters by code, created on the
// first error of each code: no series for errors that never happened.
type errCounters struct {
	vec   *prometheus.CounterVec
	api   string
	codes [maxCountedCode + 2]atomic.Pointer[counter] // index code+1
}

// maxCountedCode bounds the codes held in errCounters (Kafka's go to 130
// or so); higher ones are looked up by label each time.
const maxCountedCode = 200

type counter struct{ prometheus.Counter }

func (ec *errCounters) inc(code int16) {
	if code < -1 || code > maxCountedCode {
		ec.vec.WithLabelValues(ec.api, errorName(code)).Inc()
		return
	}
	slot := &ec.codes[code+1]
	c := slot.Load()
	if c == nil {
		c = &counter{ec.vec.WithLabelValues(ec.api, errorName(code))}
		slot.Store(c) // a racing store holds the same series
	}
	c.Inc()
}

// errorName is the name Kafka gives an error code (Errors.java), as
// Kafka's clients and exporters print it.
func errorName(code int16) string {
	switch code {
	case kerr.NotLeaderForPartition.Code:
		return "NOT_LEADER_OR_FOLLOWER" // kerr keeps the name Kafka 2.7 retired
	}
	if e, ok := kerr.ErrorForCode(code).(*kerr.Error); ok && e.Code == code {
		return e.Message
	}
	return "UNKNOWN_CODE_" + strconv.Itoa(int(code))
}

// errorPlan is where a kmsg response type holds error codes: int16 fields
// named ErrorCode, and the structs and slices of structs that hold more.
type errorPlan struct {
	codes   []int       // indexes of ErrorCode fields
	structs []fieldPlan // struct fields holding codes
	slices  []fieldPlan // slices of structs holding codes
}

type fieldPlan struct {
	index int
	plan  *errorPlan
}

// planFor builds the plan of struct type t; nil if t holds no error code.
func planFor(t reflect.Type, seen map[reflect.Type]bool) *errorPlan {
	if t.Kind() != reflect.Struct || seen[t] {
		return nil
	}
	seen[t] = true
	defer delete(seen, t)
	p := &errorPlan{}
	for i := range t.NumField() {
		f := t.Field(i)
		switch {
		case f.Name == "ErrorCode" && f.Type.Kind() == reflect.Int16:
			p.codes = append(p.codes, i)
		case f.Type.Kind() == reflect.Struct:
			if sub := planFor(f.Type, seen); sub != nil {
				p.structs = append(p.structs, fieldPlan{i, sub})
			}
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			if sub := planFor(f.Type.Elem(), seen); sub != nil {
				p.slices = append(p.slices, fieldPlan{i, sub})
			}
		}
	}
	if len(p.codes)+len(p.structs)+len(p.slices) == 0 {
		return nil
	}
	return p
}

func (p *errorPlan) walk(v reflect.Value, ec *errCounters) {
	for _, i := range p.codes {
		if code := int16(v.Field(i).Int()); code != 0 {
			ec.inc(code)
		}
	}
	for _, f := range p.structs {
		f.plan.walk(v.Field(f.index), ec)
	}
	for _, f := range p.slices {
		s := v.Field(f.index)
		for j := range s.Len() {
			f.plan.walk(s.Index(j), ec)
		}
	}
}
