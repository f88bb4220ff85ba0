package server

import (
	"fmt"
	"net/http"
	"strings"

	"samsa/replica"
)

// serveReady is /healthz: readiness, as a load balancer or an orchestrator
// asks it. 200 "ok" once the logs are loaded and the listener serves, while
// the broker is not shutting down and no log has a sticky write error
// (a full disk, an I/O error: that partition refuses appends until the
// broker restarts); 503 with the reasons otherwise. /livez answers 200
// whenever the process serves HTTP at all.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	var problems []string
	select {
	case <-s.closing:
		problems = append(problems, "shutting down")
	default:
	}
	if s.srv == nil {
		problems = append(problems, "not serving yet")
	}
	s.rm.Topics(func(ts *replica.Topic) {
		ts.Hosted(func(p *replica.Partition) {
			if err := p.Log.Err(); err != nil {
				problems = append(problems, fmt.Sprintf("partition %s-%d: %v", ts.Meta.Name, p.Index, err))
			}
		})
	})
	if len(problems) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %s\n", strings.Join(problems, "; "))
		return
	}
	w.Write([]byte("ok\n"))
}
