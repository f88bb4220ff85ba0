package server

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"samsa/coordinator/group"
	"samsa/coordinator/txn"
	"samsa/replica"
)

// metrics are the broker's Prometheus metrics, served on the admin
// listener's /metrics; the request metrics are kafkaapi's, registered in
// the same registry.
type metrics struct {
	reg          *prometheus.Registry
	fetchWaiting prometheus.Gauge
	bytesIn      *prometheus.CounterVec
	bytesOut     *prometheus.CounterVec
	recordsIn    *prometheus.CounterVec
	recordsOut   *prometheus.CounterVec
	replica      *replica.Metrics
}

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
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
	m.replica = &replica.Metrics{
		ISRShrinks:       prometheus.NewCounter(prometheus.CounterOpts{Name: "samsa_isr_shrinks_total", Help: "ISR shrinks of partitions this broker leads (Kafka's IsrShrinksPerSec)."}),
		ISRExpands:       prometheus.NewCounter(prometheus.CounterOpts{Name: "samsa_isr_expands_total", Help: "ISR expansions of partitions this broker leads (Kafka's IsrExpandsPerSec)."}),
		FetcherBytes:     prometheus.NewCounter(prometheus.CounterOpts{Name: "samsa_replica_fetcher_bytes_total", Help: "Record bytes the replica fetchers appended (Kafka's ReplicaFetcherManager BytesPerSec)."}),
		ProducePurgatory: prometheus.NewGauge(prometheus.GaugeOpts{Name: "samsa_produce_purgatory_size", Help: "acks=all produces waiting for the in-sync replicas, as Kafka's produce purgatory."}),
	}
	m.reg.MustRegister(m.replica.ISRShrinks, m.replica.ISRExpands, m.replica.FetcherBytes, m.replica.ProducePurgatory)
	m.reg.MustRegister(m.fetchWaiting, m.bytesIn, m.bytesOut, m.recordsIn, m.recordsOut,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), &brokerCollector{s})
	return m
}

// forTopic resolves a topic's counters once.
func (m *metrics) forTopic(name string) *replica.TopicCounters {
	return &replica.TopicCounters{
		BytesIn:    m.bytesIn.WithLabelValues(name),
		BytesOut:   m.bytesOut.WithLabelValues(name),
		RecordsIn:  m.recordsIn.WithLabelValues(name),
		RecordsOut: m.recordsOut.WithLabelValues(name),
	}
}

func (m *metrics) dropTopic(name string) {
	for _, v := range []*prometheus.CounterVec{m.bytesIn, m.bytesOut, m.recordsIn, m.recordsOut} {
		v.DeleteLabelValues(name)
	}
}

// brokerCollector reports gauges read at scrape time: connections, every
// partition's offsets and size (but not of internal topics' partitions
// that were never written), groups, and the lag of the committed offsets
// of the groups this broker coordinates.
type brokerCollector struct{ s *Server }

var (
	descConns    = prometheus.NewDesc("samsa_connections", "Open client connections.", nil, nil)
	descAccepted = prometheus.NewDesc("samsa_connections_accepted_total", "Client connections accepted.", nil, nil)
	descAuthFail = prometheus.NewDesc("samsa_failed_authentication_total", "Connections closed for a failed TLS handshake or authentication (Kafka's failed-authentication-total).", nil, nil)
	descAuthOK   = prometheus.NewDesc("samsa_successful_authentication_total", "SASL authentications and re-authentications that succeeded (Kafka's successful-authentication-total).", nil, nil)
	descExpired  = prometheus.NewDesc("samsa_expired_connections_killed_total", "Connections closed because their SASL session expired without a re-authentication (Kafka's expired-connections-killed-count, KIP-368).", nil, nil)
	descEnd      = prometheus.NewDesc("samsa_log_end_offset", "Log end offset.", []string{"topic", "partition"}, nil)
	descStart    = prometheus.NewDesc("samsa_log_start_offset", "Log start offset.", []string{"topic", "partition"}, nil)
	descHW       = prometheus.NewDesc("samsa_high_watermark", "High watermark.", []string{"topic", "partition"}, nil)
	descSize     = prometheus.NewDesc("samsa_log_size_bytes", "Bytes in the partition's segments.", []string{"topic", "partition"}, nil)
	descSegments = prometheus.NewDesc("samsa_log_segments", "Segments in the partition's log.", []string{"topic", "partition"}, nil)
	descSessions = prometheus.NewDesc("samsa_fetch_sessions", "Fetch sessions (KIP-227) in the cache.", nil, nil)
	descGroups   = prometheus.NewDesc("samsa_groups", "Consumer groups this coordinator holds, by state.", []string{"state"}, nil)
	descMembers  = prometheus.NewDesc("samsa_group_members", "Members of the consumer groups this coordinator holds.", nil, nil)
	descOffsets  = prometheus.NewDesc("samsa_group_offsets", "Committed offsets this coordinator holds.", nil, nil)
	descLag      = prometheus.NewDesc("samsa_group_lag",
		"Consumer lag: the partition's high watermark minus the group's committed offset (0 if the commit is past it), for the groups this broker coordinates and the partitions it hosts.",
		[]string{"group", "topic", "partition"}, nil)

	descTxns        = prometheus.NewDesc("samsa_transactions", "Transactional ids this coordinator holds, by the state of their transaction.", []string{"state"}, nil)
	descTxnMarkers  = prometheus.NewDesc("samsa_transaction_markers_pending", "Transactions whose COMMIT or ABORT markers this coordinator is sending.", nil, nil)
	descTxnLoads    = prometheus.NewDesc("samsa_transaction_state_loads_total", "Partitions of __transaction_state loaded by this coordinator.", nil, nil)
	descTxnLoadTime = prometheus.NewDesc("samsa_transaction_state_load_seconds_total", "Time spent loading partitions of __transaction_state.", nil, nil)
	descTxnLoadMax  = prometheus.NewDesc("samsa_transaction_state_load_seconds_max", "The longest load of a partition of __transaction_state (Kafka's partition-load-time-max).", nil, nil)

	descUnderReplicated = prometheus.NewDesc("samsa_under_replicated_partitions", "Partitions this broker leads whose ISR is smaller than their replicas (Kafka's UnderReplicatedPartitions).", nil, nil)
	descUnderMinISR     = prometheus.NewDesc("samsa_under_min_isr_partitions", "Partitions this broker leads whose ISR is below min.insync.replicas (Kafka's UnderMinIsrPartitionCount).", nil, nil)
	descOffline         = prometheus.NewDesc("samsa_offline_partitions", "Partitions without a leader, reported by the active controller (Kafka's OfflinePartitionsCount); 0 on other brokers.", nil, nil)
	descFollowerLag     = prometheus.NewDesc("samsa_follower_lag_messages", "The leader's log end minus its slowest follower's, for replicated partitions this broker leads.", []string{"topic", "partition"}, nil)
)

func (c *brokerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConns, descAccepted, descAuthFail, descAuthOK, descExpired, descEnd, descStart, descHW, descSize, descSegments, descSessions, descGroups, descMembers, descOffsets, descLag,
		descUnderReplicated, descUnderMinISR, descOffline, descFollowerLag, descTxns, descTxnMarkers, descTxnLoads, descTxnLoadTime, descTxnLoadMax} {
		ch <- d
	}
}

func (c *brokerCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	if srv := s.srv; srv != nil {
		st := srv.Stats()
		ch <- prometheus.MustNewConstMetric(descConns, prometheus.GaugeValue, float64(srv.NumConns()))
		ch <- prometheus.MustNewConstMetric(descAccepted, prometheus.CounterValue, float64(st.Accepted))
		ch <- prometheus.MustNewConstMetric(descAuthFail, prometheus.CounterValue, float64(st.AuthFailures))
		ch <- prometheus.MustNewConstMetric(descAuthOK, prometheus.CounterValue, float64(st.Authentications))
		ch <- prometheus.MustNewConstMetric(descExpired, prometheus.CounterValue, float64(st.ExpiredSessions))
	}
	if s.rm == nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(descSessions, prometheus.GaugeValue, float64(s.rm.Sessions.Len()))
	if g := s.groups; g != nil {
		st := g.Stats()
		for state, n := range st.Groups {
			ch <- prometheus.MustNewConstMetric(descGroups, prometheus.GaugeValue, float64(n), state)
		}
		ch <- prometheus.MustNewConstMetric(descMembers, prometheus.GaugeValue, float64(st.Members))
		ch <- prometheus.MustNewConstMetric(descOffsets, prometheus.GaugeValue, float64(st.Offsets))
		c.collectLag(ch, g.CommittedOffsets())
	}
	if tc := s.txns; tc != nil {
		st := tc.Stats()
		for _, state := range []txn.State{txn.Empty, txn.Ongoing, txn.PrepareCommit, txn.PrepareAbort, txn.CompleteCommit, txn.CompleteAbort} {
			ch <- prometheus.MustNewConstMetric(descTxns, prometheus.GaugeValue, float64(st.States[state]), state.String())
		}
		ch <- prometheus.MustNewConstMetric(descTxnMarkers, prometheus.GaugeValue, float64(st.PendingMarkers))
		ch <- prometheus.MustNewConstMetric(descTxnLoads, prometheus.CounterValue, float64(st.Loads.Loads))
		ch <- prometheus.MustNewConstMetric(descTxnLoadTime, prometheus.CounterValue, st.Loads.Total.Seconds())
		ch <- prometheus.MustNewConstMetric(descTxnLoadMax, prometheus.GaugeValue, st.Loads.Max.Seconds())
	}
	var under, underMin int
	s.rm.Topics(func(ts *replica.Topic) {
		name := ts.Meta.Name
		ts.Hosted(func(p *replica.Partition) {
			part := strconv.Itoa(int(p.Index))
			if st := p.Stats(); st.Leader {
				if st.ISR < st.Replicas {
					under++
				}
				if st.ISR < int(ts.Config.MinInSyncReplicas) {
					underMin++
				}
				if st.Replicas > 1 {
					ch <- prometheus.MustNewConstMetric(descFollowerLag, prometheus.GaugeValue, float64(st.FollowerLagMax), name, part)
				}
			}
			l := p.Log
			if ts.Meta.Internal && l.EndOffset() == 0 {
				// Never written (most of __consumer_offsets' 50 partitions
				// on most brokers): all-zero series that would make up
				// most of a scrape.
				return
			}
			ch <- prometheus.MustNewConstMetric(descEnd, prometheus.GaugeValue, float64(l.EndOffset()), name, part)
			ch <- prometheus.MustNewConstMetric(descStart, prometheus.GaugeValue, float64(l.StartOffset()), name, part)
			ch <- prometheus.MustNewConstMetric(descHW, prometheus.GaugeValue, float64(l.HighWatermark()), name, part)
			ch <- prometheus.MustNewConstMetric(descSize, prometheus.GaugeValue, float64(l.Size()), name, part)
			ch <- prometheus.MustNewConstMetric(descSegments, prometheus.GaugeValue, float64(l.NumSegments()), name, part)
		})
	})
	ch <- prometheus.MustNewConstMetric(descUnderReplicated, prometheus.GaugeValue, float64(under))
	ch <- prometheus.MustNewConstMetric(descUnderMinISR, prometheus.GaugeValue, float64(underMin))
	offline := 0
	if snap := s.cache.Load(); s.cl != nil && snap.ControllerID == s.cfg.BrokerID {
		for _, name := range snap.TopicNames() {
			for _, p := range snap.Topic(name).Partitions {
				if p.Leader < 0 {
					offline++
				}
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(descOffline, prometheus.GaugeValue, float64(offline))
}

// collectLag reports samsa_group_lag for the committed offsets whose
// partitions this broker hosts.
func (c *brokerCollector) collectLag(ch chan<- prometheus.Metric, offsets []group.Committed) {
	for _, o := range offsets {
		p := c.s.rm.Partition(o.Topic, o.Partition)
		if p == nil || o.Offset < 0 {
			continue
		}
		lag := max(p.Log.HighWatermark()-o.Offset, 0)
		ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(lag), o.Group, o.Topic, strconv.Itoa(int(o.Partition)))
	}
}

// startAdmin serves /metrics, /healthz, /livez and /debug/pprof/ on
// admin.listener. A port it cannot bind is the same fault as a Kafka
// listener's, reported the same way (Start): the configuration is valid,
// the machine is not ready for it.
func (s *Server) startAdmin() error {
	ln, err := net.Listen("tcp", s.cfg.AdminListener)
	if err != nil {
		return fmt.Errorf("listen admin http://%s: %w", s.cfg.AdminListener, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", s.serveReady)
	mux.HandleFunc("/livez", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	s.adminLn = ln
	s.admin = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go s.admin.Serve(ln)
	return nil
}
