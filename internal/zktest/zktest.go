package zktest

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// JarDir is where Debian's libzookeeper-java and libslf4j-java put their jars.
const JarDir = "/usr/share/java"

// jars is the server's classpath: the server, its wire format (jute), and a
// plain slf4j binding that writes to stderr (which goes to zookeeper.log).
// Only these: /usr/share/java holds several slf4j bindings, and more than one
// on the classpath makes slf4j pick one at random.
var jars = []string{"zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-simple.jar"}

// nettyJars are what NettyServerCnxnFactory, which serves the secure
// client port, needs besides: Debian's libnetty-java, a dependency of
// libzookeeper-java. zookeeper.jar's manifest names most of them but not
// netty-codec, without which the TLS handler does not load. Only a server
// with TLS puts them on its classpath.
var nettyJars = []string{"netty-buffer.jar", "netty-codec.jar", "netty-common.jar", "netty-handler.jar",
	"netty-resolver.jar", "netty-transport.jar", "netty-transport-native-epoll.jar", "netty-transport-native-unix-common.jar"}

// TickTime is the server's tick. Session timeouts are negotiated into
// [2, 20] ticks.
const TickTime = 200 * time.Millisecond

// Deadlines. A JVM on a loaded two-core machine can take seconds to start.
const (
	startDeadline = 60 * time.Second
	stopDeadline  = 15 * time.Second
)

// Server is one ZooKeeper server process and its directory. Stop, Start,
// Restart and Kill keep the port and the data directory, so clients
// reconnect to the same address and find their sessions and znodes.
type Server struct {
	dir        string // holds zoo.cfg, data/ and zookeeper.log
	cfgPath    string
	logPath    string
	port       int
	securePort int // 0 without TLS
	opts       Options
	tb         testing.TB // nil for the shared server, whose lifetime no test owns

	mu   sync.Mutex
	proc *process // nil when stopped
}

type process struct {
	pid  int
	done chan struct{} // closed once the JVM has exited and been reaped
	err  error         // Wait's result, readable after done
}

// Options are a private server's security (StartWith). The zero value is
// the plain server Start starts.
type Options struct {
	// SuperDigest is "user:password" of ZooKeeper's digest super user
	// (zookeeper.DigestAuthenticationProvider.superDigest): a session
	// that adds these digest credentials passes every ACL check.
	SuperDigest string
	// TLS adds a secure client port (SecureAddr) served by
	// NettyServerCnxnFactory; the plain port stays, for the readiness
	// probe and clients that read as anyone.
	TLS *TLS
}

// TLS is the secure client port's settings, ZooKeeper's ssl.* keys.
type TLS struct {
	// Keystore is the server's key and certificate: a PKCS12 (.p12),
	// JKS (.jks) or PEM (.pem) file, its type from its extension as
	// ZooKeeper decides it; KeystorePassword opens it.
	Keystore, KeystorePassword string
	// Truststore holds the CAs client certificates must chain to, the
	// same types; TruststorePassword opens it.
	Truststore, TruststorePassword string
	// ClientAuth is ssl.clientAuth: "none" (no client certificate asked
	// for) or "need" (mTLS: the certificate's subject becomes the
	// session's x509 identity through X509AuthenticationProvider).
	ClientAuth string
}

// Start starts a private server for tb. It is stopped and its directory
// removed when tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return StartWith(tb, Options{})
}

// StartWith starts a private server with security options.
func StartWith(tb testing.TB, o Options) *Server {
	tb.Helper()
	s, err := newServer(o)
	if err != nil {
		tb.Fatalf("zktest: %v", err)
	}
	s.tb = tb
	tb.Cleanup(s.destroy)
	return s
}

// Addr is "127.0.0.1:port".
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// SecureAddr is "127.0.0.1:port" of the secure client port; it panics on
// a server started without TLS (a programmer error).
func (s *Server) SecureAddr() string {
	if s.securePort == 0 {
		panic("zktest: SecureAddr of a server without TLS (StartWith Options.TLS)")
	}
	return "127.0.0.1:" + strconv.Itoa(s.securePort)
}

// ConnectString returns a zookeeper.connect string for this server with a
// chroot of tb's own ("127.0.0.1:port/zktest/TestName-3"). The chroot does not
// exist yet: creating it is the client's job, as in Kafka.
func (s *Server) ConnectString(tb testing.TB) string {
	return s.Addr() + Chroot(tb)
}

var chrootSeq struct {
	sync.Mutex
	n int
}

// Chroot returns a chroot path unique within this test binary, named after tb.
func Chroot(tb testing.TB) string {
	chrootSeq.Lock()
	chrootSeq.n++
	n := chrootSeq.n
	chrootSeq.Unlock()
	name := strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r == '.' || r < 0x20 || r > 0x7e {
			return '_'
		}
		return r
	}, tb.Name())
	return fmt.Sprintf("%s/%s-%d", chrootRoot, name, n)
}

// chrootRoot is the parent of every Chroot.
const chrootRoot = "/zktest"

// openChrootRoot creates chrootRoot open to everyone when the server is
// new. Left to the first test, a client creating its chroot with secure
// ACLs (zookeeper.set.acl) would make the parent its own and lock every
// other test out of creating a chroot.
func (s *Server) openChrootRoot() error {
	c, _, err := zk.Connect([]string{s.Addr()}, 10*time.Second, zk.WithLogger(nopLogger{}))
	if err != nil {
		return err
	}
	defer c.Close()
	// go-zookeeper queues a request until it connects: bound the wait.
	stop := time.AfterFunc(startDeadline, c.Close)
	defer stop.Stop()
	_, err = c.Create(chrootRoot, nil, 0, zk.WorldACL(zk.PermAll))
	if err != nil && !errors.Is(err, zk.ErrNodeExists) {
		return fmt.Errorf("create %s: %w", chrootRoot, err)
	}
	return nil
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

// Stop stops the server with SIGTERM (SIGKILL if it has not exited after 15 s).
// Data and port are kept for Start.
func (s *Server) Stop() {
	s.mustOwn("Stop")
	if err := s.stop(syscall.SIGTERM); err != nil {
		s.tb.Fatalf("zktest: %v", err)
	}
}

// Kill stops the server with SIGKILL: no shutdown of any kind.
func (s *Server) Kill() {
	s.mustOwn("Kill")
	if err := s.stop(syscall.SIGKILL); err != nil {
		s.tb.Fatalf("zktest: %v", err)
	}
}

// Start starts a stopped server again on the same port and data directory and
// waits until it answers.
func (s *Server) Start() {
	s.mustOwn("Start")
	if err := s.start(); err != nil {
		s.tb.Fatalf("zktest: %v", err)
	}
}

// Restart is Stop then Start.
func (s *Server) Restart() {
	s.Stop()
	s.Start()
}

// Running reports whether the JVM is up (it may not answer yet).
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return false
	}
	select {
	case <-s.proc.done:
		return false
	default:
		return true
	}
}

// LogTail returns the last n lines of the server's log.
func (s *Server) LogTail(n int) string {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// FourLetter sends a four-letter word ("ruok", "srvr", "dump", ...) and
// returns the answer.
func (s *Server) FourLetter(word string) (string, error) {
	return fourLetter(s.Addr(), word, 2*time.Second)
}

func (s *Server) mustOwn(op string) {
	if s.tb == nil {
		panic("zktest: " + op + " on the shared server: tests that stop ZooKeeper need their own (zktest.Start)")
	}
	s.tb.Helper()
}

// Classpath returns the server's classpath, or an error naming what is
// missing and the Debian package that provides it.
func Classpath(dir string) (string, error) {
	return classpath(dir, false)
}

// classpath is Classpath, with netty for a secure client port.
func classpath(dir string, netty bool) (string, error) {
	if _, err := exec.LookPath("java"); err != nil {
		return "", errors.New("java not found in PATH: install the Debian package `zookeeper` (it depends on default-jre)")
	}
	var paths []string
	for _, j := range jars {
		p := filepath.Join(dir, j)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s missing: install the Debian package `zookeeper` (apt-get install zookeeper): %v", p, err)
		}
		paths = append(paths, p)
	}
	if netty {
		for _, j := range nettyJars {
			p := filepath.Join(dir, j)
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("%s missing: ZooKeeper's secure client port needs netty: install the Debian package `libnetty-java` (a dependency of `zookeeper`): %v", p, err)
			}
			paths = append(paths, p)
		}
	}
	return strings.Join(paths, ":"), nil
}

func newServer(o Options) (*Server, error) {
	if _, err := classpath(JarDir, o.TLS != nil); err != nil {
		return nil, err
	}
	if o.TLS != nil && o.TLS.ClientAuth != "none" && o.TLS.ClientAuth != "need" {
		return nil, fmt.Errorf("TLS.ClientAuth %q: want none or need", o.TLS.ClientAuth)
	}
	dir, err := os.MkdirTemp("", "zktest-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, cfgPath: filepath.Join(dir, "zoo.cfg"), logPath: filepath.Join(dir, "zookeeper.log"), opts: o}
	// A free port can be taken by someone else between our probe and the
	// JVM's bind: try a few.
	for attempt := 0; ; attempt++ {
		s.port, err = freePort()
		if err == nil && o.TLS != nil {
			s.securePort, err = freePort()
			if err == nil && s.securePort == s.port {
				err = errors.New("the same free port twice")
			}
		}
		if err == nil {
			if err = s.writeConfig(); err == nil {
				err = s.start()
			}
		}
		if err == nil {
			if err = s.openChrootRoot(); err != nil {
				s.stop(syscall.SIGKILL)
				os.RemoveAll(dir)
				return nil, err
			}
			return s, nil
		}
		if attempt == 3 || !strings.Contains(s.LogTail(200), "Address already in use") {
			os.RemoveAll(dir)
			return nil, err
		}
	}
}

// freePort picks a port for a server. A server keeps its port across
// Stop and Start, and while it is stopped the port is free: one the
// kernel hands out for port 0 (a broker's listener, another test
// process's ZooKeeper) could take it, and a restart would then find
// another ZooKeeper answering at its address. So the port is drawn at
// random below the kernel's ephemeral range, which port 0 never yields,
// and never twice in this process.
func freePort() (int, error) {
	lo, hi := 20000, ephemeralLow()
	if hi-lo < 1000 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port, nil
	}
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 200 {
		p := lo + rand.IntN(hi-lo)
		if portsTaken[p] {
			continue
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		l.Close()
		portsTaken[p] = true
		return p, nil
	}
	return 0, fmt.Errorf("no free port in [%d, %d)", lo, hi)
}

var (
	portsMu    sync.Mutex
	portsTaken = map[int]bool{}
)

// ephemeralLow is the first port of the kernel's ephemeral range
// (net.ipv4.ip_local_port_range), 32768 if it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return n
}

func (s *Server) writeConfig() error {
	cfg := fmt.Sprintf(`tickTime=%d
dataDir=%s
clientPort=%d
clientPortAddress=127.0.0.1
maxClientCnxns=0
maxSessionTimeout=60000
admin.enableServer=false
forceSync=no
4lw.commands.whitelist=ruok,srvr,conf,stat,mntr,cons,dump,wchs
`, TickTime.Milliseconds(), filepath.Join(s.dir, "data"), s.port)
	if t := s.opts.TLS; t != nil {
		// Keys unknown to zoo.cfg's parser (authProvider.*) become
		// zookeeper.* system properties, where the server reads them.
		cfg += fmt.Sprintf(`secureClientPort=%d
secureClientPortAddress=127.0.0.1
serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory
ssl.keyStore.location=%s
ssl.keyStore.password=%s
ssl.trustStore.location=%s
ssl.trustStore.password=%s
ssl.clientAuth=%s
authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider
`, s.securePort, t.Keystore, t.KeystorePassword, t.Truststore, t.TruststorePassword, t.ClientAuth)
	}
	return os.WriteFile(s.cfgPath, []byte(cfg), 0o644)
}

// SuperDigestID is the id ZooKeeper's superDigest names for "user:password":
// user:base64(sha1(user:password)), the digest scheme's identity.
func SuperDigestID(userPassword string) string {
	user, _, _ := strings.Cut(userPassword, ":")
	sum := sha1.Sum([]byte(userPassword))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// start launches the JVM and waits until it serves requests.
func (s *Server) start() error {
	s.mu.Lock()
	if s.proc != nil {
		select {
		case <-s.proc.done:
		default:
			s.mu.Unlock()
			return errors.New("server already running")
		}
	}
	cp, err := classpath(JarDir, s.opts.TLS != nil)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	fmt.Fprintf(logf, "---- zktest: starting ZooKeeper on %s at %s\n", s.Addr(), time.Now().Format(time.RFC3339Nano))
	args := []string{
		"-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
		"-Djava.net.preferIPv4Stack=true",
		"-Dorg.slf4j.simpleLogger.showDateTime=true",
		"-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
	}
	if s.opts.SuperDigest != "" {
		args = append(args, "-Dzookeeper.DigestAuthenticationProvider.superDigest="+SuperDigestID(s.opts.SuperDigest))
	}
	args = append(args, "-cp", cp, "org.apache.zookeeper.server.quorum.QuorumPeerMain", s.cfgPath)
	cmd := exec.Command("java", args...)
	cmd.Dir = s.dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p, err := launch(cmd)
	logf.Close()
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("start java: %v", err)
	}
	s.proc = p
	s.mu.Unlock()

	deadline := time.Now().Add(startDeadline)
	for {
		// ruok answers before the server takes sessions; srvr reports a
		// mode only once it serves requests.
		if ans, err := fourLetter(s.Addr(), "srvr", time.Second); err == nil && strings.Contains(ans, "Mode: ") && s.secureBound() {
			// The server serving is this one (its data directory), not
			// another that took the port while this one was stopped.
			conf, err := fourLetter(s.Addr(), "conf", time.Second)
			if err == nil && strings.Contains(conf, "dataDir="+filepath.Join(s.dir, "data")) {
				return nil
			}
			s.stop(syscall.SIGKILL)
			return fmt.Errorf("another ZooKeeper answers on %s (conf: %q, %v); this one's log tail:\n%s", s.Addr(), conf, err, s.LogTail(40))
		}
		select {
		case <-p.done:
			return fmt.Errorf("ZooKeeper exited during start (%v); log tail:\n%s", p.err, s.LogTail(40))
		default:
		}
		if time.Now().After(deadline) {
			s.stop(syscall.SIGKILL)
			return fmt.Errorf("ZooKeeper did not serve on %s within %v; log tail:\n%s", s.Addr(), startDeadline, s.LogTail(40))
		}
		select {
		case <-p.done:
		case <-time.After(20 * time.Millisecond): // poll interval of the readiness probe
		}
	}
}

// secureBound reports whether the secure client port, if any, takes
// connections: the server binds it after the plain port.
func (s *Server) secureBound() bool {
	if s.securePort == 0 {
		return true
	}
	c, err := net.DialTimeout("tcp", s.SecureAddr(), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// launch starts cmd from a goroutine locked to its OS thread, which stays
// alive until the process exits: Pdeathsig fires when the thread that forked
// the child dies, not when the process does.
func launch(cmd *exec.Cmd) (*process, error) {
	p := &process{done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: the thread ends with this goroutine, after the child.
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		p.pid = cmd.Process.Pid
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

func (s *Server) stop(sig syscall.Signal) error {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p == nil {
		return nil
	}
	select {
	case <-p.done:
		return nil
	default:
	}
	syscall.Kill(p.pid, sig)
	select {
	case <-p.done:
	case <-time.After(stopDeadline):
		syscall.Kill(p.pid, syscall.SIGKILL)
		<-p.done
	}
	// The port is free once the process is gone; make sure, so that a Start
	// right after does not race the kernel.
	deadline := time.Now().Add(stopDeadline)
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond)
		if err != nil {
			return nil
		}
		c.Close()
		if time.Now().After(deadline) {
			return fmt.Errorf("port %d still answers after ZooKeeper stopped", s.port)
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
}

func (s *Server) destroy() {
	s.stop(syscall.SIGKILL)
	if s.tb != nil && s.tb.Failed() {
		s.tb.Logf("zktest: ZooKeeper %s log tail:\n%s", s.Addr(), s.LogTail(60))
	}
	os.RemoveAll(s.dir)
}

func fourLetter(addr, word string, timeout time.Duration) (string, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte(word)); err != nil {
		return "", err
	}
	var b bytes.Buffer
	_, err = b.ReadFrom(bufio.NewReader(c))
	if err != nil {
		return "", err
	}
	return b.String(), nil
}

// The shared server.
var shared struct {
	sync.Mutex
	main bool // Main is running the tests
	srv  *Server
	err  error
	done bool // started (or failed to) once
}

// Main runs the package's tests and stops the shared server after them. Call
// it from TestMain:
//
//	func TestMain(m *testing.M) { zktest.Main(m) }
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main for a TestMain that has more to do after the tests: it runs
// them, stops the shared server and returns the exit code.
func Run(m *testing.M) int {
	shared.Lock()
	shared.main = true
	shared.Unlock()
	code := m.Run()
	shared.Lock()
	if shared.srv != nil {
		shared.srv.stop(syscall.SIGKILL)
		os.RemoveAll(shared.srv.dir)
	}
	shared.Unlock()
	return code
}

// Shared returns the shared server, starting it on first use. It fails tb if
// the server cannot start, with the reason and the log tail.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	shared.Lock()
	defer shared.Unlock()
	if !shared.main {
		tb.Fatal("zktest: Shared needs the package's TestMain to call zktest.Main(m)")
	}
	if !shared.done {
		shared.done = true
		shared.srv, shared.err = newServer(Options{})
	}
	if shared.err != nil {
		tb.Fatalf("zktest: shared ZooKeeper: %v", shared.err)
	}
	srv := shared.srv
	if !srv.Running() {
		tb.Fatalf("zktest: shared ZooKeeper is no longer running; log tail:\n%s", srv.LogTail(40))
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("zktest: shared ZooKeeper %s log tail:\n%s", srv.Addr(), srv.LogTail(40))
		}
	})
	return srv
}
