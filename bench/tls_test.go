package bench

import (
	"crypto/tls"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"samsa/internal/testcerts"
)

// BenchmarkTLS runs the same franz-go producer and consumer against one
// Samsa broker through its PLAINTEXT listener and its SSL listener, in one
// run: 1 KiB records, acks=1, one partition. It reports each side's
// throughput and the broker's CPU time per MiB moved, and the ratios
// TLS/plaintext. The plaintext fetch path sends file regions with
// sendfile(2); the TLS one copies them through the connection's write
// buffer and encrypts them (no kernel TLS), so the consume ratio is the
// price of that copy and encryption. Keys are ECDSA P-256, the suite
// whatever Go and franz-go negotiate (TLS 1.3, AES-128-GCM on this CPU).
func BenchmarkTLS(b *testing.B) {
	const records, size = 300_000, 1024
	ca := testcerts.NewCA(b, "bench CA")
	ks := testcerts.Write(b, b.TempDir(), "broker.p12", ca.Server(b, "localhost").PKCS12(b, "bench"))
	plain, sslAddr := startSamsaWith(b, "SSL",
		"ssl.keystore.type=PKCS12", "ssl.keystore.location="+ks, "ssl.keystore.password=bench")
	defer plain.stop()
	ssl := &server{name: "samsa-tls", addr: sslAddr, cmd: plain.cmd}
	tlsOpt := kgo.DialTLSConfig(&tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
	mib := float64(records*size) / (1 << 20)
	var rp, rt result
	for i := 0; i < b.N; i++ {
		rp = runWorkload(b, plain, fmt.Sprintf("plain-%d", i), records, size)
		rt = runWorkload(b, ssl, fmt.Sprintf("tls-%d", i), records, size, tlsOpt)
	}
	b.ReportMetric(mib/rp.produceSec, "plain-produce-MiB/s")
	b.ReportMetric(mib/rt.produceSec, "tls-produce-MiB/s")
	b.ReportMetric(mib/rp.consumeSec, "plain-consume-MiB/s")
	b.ReportMetric(mib/rt.consumeSec, "tls-consume-MiB/s")
	b.ReportMetric(rp.produceSec/rt.produceSec, "produce-tls/plain")
	b.ReportMetric(rp.consumeSec/rt.consumeSec, "consume-tls/plain")
	b.ReportMetric(1000*rp.produceCPU/mib, "plain-produce-cpu-ms/MiB")
	b.ReportMetric(1000*rt.produceCPU/mib, "tls-produce-cpu-ms/MiB")
	b.ReportMetric(1000*rp.consumeCPU/mib, "plain-consume-cpu-ms/MiB")
	b.ReportMetric(1000*rt.consumeCPU/mib, "tls-consume-cpu-ms/MiB")
	b.ReportMetric(rt.produceCPU/rp.produceCPU, "produce-cpu-tls/plain")
	b.ReportMetric(rt.consumeCPU/rp.consumeCPU, "consume-cpu-tls/plain")
}
