package bench

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/kclient"
	"samsa/security/sasl"
)

// BenchmarkSASLAuthentications measures how many connections a second
// authenticate against one Samsa broker, with each mechanism, beside the
// same connection without SASL, in one run: each connection dials, runs
// the exchange (SaslHandshake v1, SaslAuthenticate v1: one round trip for
// PLAIN, two for SCRAM), negotiates versions with ApiVersions, sends one
// more ApiVersions and closes; workers connections at a time. SCRAM
// clients salt the password anew for each connection (4096 iterations of
// PBKDF2, in this process), as Kafka's clients do; the broker's side of
// SCRAM is a few HMACs and hashes. It reports connections per second and
// the broker's CPU per connection, for each, and the ratios to PLAIN.
func BenchmarkSASLAuthentications(b *testing.B) {
	const workers = 4
	counts := map[string]int{"none": 3000, sasl.Plain: 3000, sasl.ScramSHA256: 1000, sasl.ScramSHA512: 1000}
	plain, saslAddr := startSamsaWith(b, "SASL_PLAINTEXT",
		"sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
		"sasl.jaas.config="+sasl.PlainLoginModule+` required user_bench="bench-secret";`)
	defer plain.stop()
	plainAddr := plain.addr
	srv := &server{name: "samsa", addr: saslAddr, cmd: plain.cmd}

	cl, err := kgo.NewClient(kgo.SeedBrokers(plainAddr))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	_, err = kadm.NewClient(cl).AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{
		{User: "bench", Mechanism: kadm.ScramSha256, Iterations: 4096, Password: "bench-secret"},
		{User: "bench", Mechanism: kadm.ScramSha512, Iterations: 4096, Password: "bench-secret"},
	})
	cancel()
	cl.Close()
	if err != nil {
		b.Fatal(err)
	}

	type result struct{ perSec, cpuUs float64 }
	run := func(mech string) result {
		n := counts[mech]
		addr, dial := saslAddr, kclient.DialFunc(nil)
		if mech == "none" {
			addr = plainAddr
		} else {
			dial = kclient.SASLDial(nil, func() (sasl.Client, error) {
				return sasl.NewClient(mech, sasl.Credentials{Username: "bench", Password: "bench-secret"})
			})
		}
		next := make(chan struct{}, n)
		for range n {
			next <- struct{}{}
		}
		close(next)
		cpu0 := srv.cpuSeconds(b)
		start := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		for range workers {
			wg.Go(func() {
				for range next {
					c := kclient.New(addr, "bench", kclient.WithDial(dial))
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					_, err := c.Request(ctx, kmsg.NewPtrApiVersionsRequest())
					cancel()
					c.Close()
					if err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		if firstErr != nil {
			b.Fatalf("%s: %v", mech, firstErr)
		}
		sec := time.Since(start).Seconds()
		return result{float64(n) / sec, 1e6 * (srv.cpuSeconds(b) - cpu0) / float64(n)}
	}
	var res map[string]result
	for i := 0; i < b.N; i++ {
		res = map[string]result{}
		for _, m := range []string{"none", sasl.Plain, sasl.ScramSHA256, sasl.ScramSHA512} {
			res[m] = run(m)
		}
	}
	for _, m := range []string{"none", sasl.Plain, sasl.ScramSHA256, sasl.ScramSHA512} {
		b.ReportMetric(res[m].perSec, m+"-conn/s")
		b.ReportMetric(res[m].cpuUs, m+"-broker-cpu-us/conn")
	}
	for _, m := range []string{sasl.ScramSHA256, sasl.ScramSHA512} {
		b.ReportMetric(res[m].perSec/res[sasl.Plain].perSec, m+"/PLAIN-rate")
		b.ReportMetric(res[m].cpuUs/res[sasl.Plain].cpuUs, m+"/PLAIN-broker-cpu")
	}
}
