package zktest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
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
)

// JarDir is where Debian's libzookeeper-java and libslf4j-java put their jars.
const JarDir = "/usr/share/java"

// jars is the server's classpath: the server, its wire format (jute), and a
// plain slf4j binding that writes to stderr (which goes to zookeeper.log).
// Only these: /usr/share/java holds several slf4j bindings, and more than one
// on the classpath makes slf4j pick one at random.
var jars = []string{"zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-simple.jar"}

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
	dir     string // holds zoo.cfg, data/ and zookeeper.log
	cfgPath string
	logPath string
	port    int
	tb      testing.TB // nil for the shared server, whose lifetime no test owns

	mu   sync.Mutex
	proc *process // nil when stopped
}

type process struct {
	pid  int
	done chan struct{} // closed once the JVM has exited and been reaped
	err  error         // Wait's result, readable after done
}

// Start starts a private server for tb. It is stopped and its directory
// removed when tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := newServer()
	if err != nil {
		tb.Fatalf("zktest: %v", err)
	}
	s.tb = tb
	tb.Cleanup(s.destroy)
	return s
}

// Addr is "127.0.0.1:port".
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

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
	return fmt.Sprintf("/zktest/%s-%d", name, n)
}

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
	if _, err := exec.LookPath("java"); err != nil {
		return "", errors.New("java not found in PATH: install the Debian package `zookeeper` (it depends on default-jre)")
	}
	paths := make([]string, len(jars))
	for i, j := range jars {
		p := filepath.Join(dir, j)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s missing: install the Debian package `zookeeper` (apt-get install zookeeper): %v", p, err)
		}
		paths[i] = p
	}
	return strings.Join(paths, ":"), nil
}

func newServer() (*Server, error) {
	if _, err := Classpath(JarDir); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "zktest-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, cfgPath: filepath.Join(dir, "zoo.cfg"), logPath: filepath.Join(dir, "zookeeper.log")}
	// A free port can be taken by someone else between our probe and the
	// JVM's bind: try a few.
	for attempt := 0; ; attempt++ {
		s.port, err = freePort()
		if err == nil {
			if err = s.writeConfig(); err == nil {
				err = s.start()
			}
		}
		if err == nil {
			return s, nil
		}
		if attempt == 3 || !strings.Contains(s.LogTail(200), "Address already in use") {
			os.RemoveAll(dir)
			return nil, err
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
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
4lw.commands.whitelist=ruok,srvr,stat,mntr,cons,dump,wchs
`, TickTime.Milliseconds(), filepath.Join(s.dir, "data"), s.port)
	return os.WriteFile(s.cfgPath, []byte(cfg), 0o644)
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
	cp, err := Classpath(JarDir)
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
	cmd := exec.Command("java",
		"-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
		"-Djava.net.preferIPv4Stack=true",
		"-Dorg.slf4j.simpleLogger.showDateTime=true",
		"-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
		"-cp", cp,
		"org.apache.zookeeper.server.quorum.QuorumPeerMain", s.cfgPath)
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
		if ans, err := fourLetter(s.Addr(), "srvr", time.Second); err == nil && strings.Contains(ans, "Mode: ") {
			return nil
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
		shared.srv, shared.err = newServer()
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
