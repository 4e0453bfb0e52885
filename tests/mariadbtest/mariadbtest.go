// Package mariadbtest starts throwaway MariaDB servers (primaries and GTID
// replicas) for end-to-end tests.
//
// mariadb-install-db runs once per machine into a template datadir shared by
// all test processes; every server gets a copy of it, its own temp dir and a
// free port, so starting one takes a fraction of a second. Servers die with
// the test process (Pdeathsig); dirs left by a killed process are reaped by
// the next one.
//
//	nodes, err := mariadbtest.StartNodes(2)
//	if err != nil {
//		t.Fatal(err)
//	}
//	t.Cleanup(func() { mariadbtest.StopNodes(nodes) })
package mariadbtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql" // driver for DB and the probes
)

const (
	startTimeout = 60 * time.Second
	stopTimeout  = 60 * time.Second
	pollInterval = 50 * time.Millisecond
	portAttempts = 5
)

// Options configure one server.
type Options struct {
	// ServerID is the server_id; 0 picks one unique within the process.
	ServerID int
	// Args are extra mariadbd flags, appended after the defaults so they win.
	Args []string
}

// Server is one mariadbd process with its own datadir under Dir.
type Server struct {
	Addr     string // 127.0.0.1:port
	Port     int
	Dir      string // holds data/, error.log, the socket and the pid file
	ServerID int

	opts     Options
	mariadbd string
	admin    *sql.DB // pool used by the helpers; survives restarts

	mu      sync.Mutex
	proc    *os.Process
	exited  chan struct{} // closed once proc has been reaped
	removed bool
}

// Node is a primary with one replica.
type Node struct{ Primary, Replica *Server }

var (
	nextServerID atomic.Int32

	portsMu   sync.Mutex
	usedPorts = map[int]bool{} // ports handed out in this process

	errPortInUse = errors.New("port already in use")
)

// Start creates a fresh server and waits until root can log in over TCP.
func Start(opts Options) (*Server, error) {
	env, err := setup()
	if err != nil {
		return nil, err
	}
	id := opts.ServerID
	if id == 0 {
		id = 100 + int(nextServerID.Add(1))
	}
	// The owner pid in the name lets a later process reap dirs left by a crashed one.
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", serverDirPrefix, os.Getpid()))
	if err != nil {
		return nil, err
	}
	if err := os.CopyFS(filepath.Join(dir, "data"), os.DirFS(env.template)); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("copy template datadir: %w", err)
	}
	s := &Server{Dir: dir, ServerID: id, opts: opts, mariadbd: env.mariadbd}
	for attempt := 1; ; attempt++ {
		if s.Port, err = freePort(); err != nil {
			break
		}
		s.Addr = net.JoinHostPort("127.0.0.1", fmt.Sprint(s.Port))
		s.mu.Lock()
		err = s.start()
		s.mu.Unlock()
		// The port can be grabbed between freePort closing it and mariadbd binding it.
		if err == nil || !errors.Is(err, errPortInUse) || attempt == portAttempts {
			break
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if s.admin, err = sql.Open("mysql", s.DSN("")); err != nil {
		s.Stop()
		return nil, err
	}
	// Idle connections would go stale on every Kill/Restart; helpers are rare.
	s.admin.SetMaxIdleConns(0)
	return s, nil
}

// DSN returns a go-sql-driver DSN for root on database ("" for none).
func (s *Server) DSN(database string) string {
	return fmt.Sprintf("root@tcp(%s)/%s?multiStatements=true&parseTime=true&interpolateParams=false", s.Addr, database)
}

// DB opens a pool to database ("" for none) as root.
func (s *Server) DB(database string) (*sql.DB, error) {
	return sql.Open("mysql", s.DSN(database))
}

// Stop shuts the server down gracefully and removes Dir. It is idempotent and
// nil-safe, so it can go straight into t.Cleanup.
func (s *Server) Stop() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.terminate(syscall.SIGTERM)
	if !s.removed {
		s.removed = true
		if s.admin != nil {
			s.admin.Close()
		}
		portsMu.Lock()
		delete(usedPorts, s.Port)
		portsMu.Unlock()
		err = errors.Join(err, os.RemoveAll(s.Dir))
	}
	return err
}

// Shutdown stops the server gracefully but keeps Dir for Restart.
func (s *Server) Shutdown() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.terminate(syscall.SIGTERM)
}

// Kill SIGKILLs the server (a crash, for fault tests) and keeps Dir.
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.terminate(syscall.SIGKILL)
}

// Freeze stops the server process (SIGSTOP) so that it accepts
// connections but answers nothing, as a hung server does; Thaw resumes it.
// It returns once every thread has stopped: on a loaded machine a thread
// could otherwise still answer a statement sent just after.
func (s *Server) Freeze() error {
	if err := s.signal(syscall.SIGSTOP); err != nil {
		return err
	}
	s.mu.Lock()
	pid := s.proc.Pid
	s.mu.Unlock()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		stopped, err := allThreadsStopped(pid)
		if err != nil || stopped {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server pid %d: not every thread stopped within 10s of SIGSTOP", pid)
		}
	}
}

// allThreadsStopped reads the state of each of pid's threads in /proc.
func allThreadsStopped(pid int) (bool, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(tasks) == 0 {
		return false, fmt.Errorf("threads of pid %d: %v", pid, err)
	}
	for _, task := range tasks {
		stat, err := os.ReadFile(task)
		if err != nil {
			continue // a thread that just ended
		}
		// pid (comm) state ...: comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 || i+2 >= len(stat) {
			return false, fmt.Errorf("unreadable %s", task)
		}
		if state := stat[i+2]; state != 'T' && state != 't' {
			return false, nil
		}
	}
	return true, nil
}

// Thaw resumes a frozen server.
func (s *Server) Thaw() error { return s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return errors.New("server not running")
	}
	return s.proc.Signal(sig)
}

// Restart starts the server again on the same port and datadir, shutting it
// down first if it is still running, and waits until it accepts logins.
// A replica resumes replicating by itself.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.removed {
		return fmt.Errorf("mariadbtest: restart of removed server %s", s.Addr)
	}
	if err := s.terminate(syscall.SIGTERM); err != nil {
		return err
	}
	return s.start()
}

// start launches mariadbd and waits for readiness; s.mu is held.
func (s *Server) start() error {
	logPath := filepath.Join(s.Dir, "error.log")
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	logStart, err := logf.Seek(0, io.SeekEnd)
	if err != nil {
		logf.Close()
		return err
	}
	args := []string{
		"--no-defaults", // must come first; keeps /etc/mysql out
		"--user=root",
		"--datadir=" + filepath.Join(s.Dir, "data"),
		"--port=" + fmt.Sprint(s.Port),
		"--bind-address=127.0.0.1",
		"--socket=" + filepath.Join(s.Dir, "mysqld.sock"),
		"--pid-file=" + filepath.Join(s.Dir, "mysqld.pid"),
		// Its own temporary files: once a query on a test server failed
		// with "Error on delete of '/tmp/#sql-temptable-...'" (errno 2)
		// while other servers shared /tmp.
		"--tmpdir=" + s.Dir,
		"--log-error=" + logPath,
		"--server-id=" + fmt.Sprint(s.ServerID),
	}
	args = append(append(args, serverFlags...), s.opts.Args...)
	proc, err := spawn(s.mariadbd, args, logf) // early errors go to the log too
	logf.Close()
	if err != nil {
		return fmt.Errorf("start mariadbd: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		proc.Wait()
		close(exited)
	}()
	s.proc, s.exited = proc, exited
	if err := s.waitReady(); err != nil {
		s.terminate(syscall.SIGKILL)
		tail := logTail(logPath, logStart)
		if strings.Contains(tail, "Address already in use") {
			err = errPortInUse
		}
		return fmt.Errorf("mariadbd on %s: %w\n--- %s ---\n%s", s.Addr, err, logPath, tail)
	}
	return nil
}

// waitReady polls a root login until it works, mariadbd exits or time is up.
func (s *Server) waitReady() error {
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/?timeout=1s", s.Addr))
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %w", startTimeout, err)
		}
		select {
		case <-s.exited:
			return errors.New("exited during startup")
		case <-time.After(pollInterval):
		}
	}
}

// terminate signals the process and reaps it, escalating to SIGKILL if a
// graceful shutdown hangs; s.mu is held. A stopped server is a no-op.
func (s *Server) terminate(sig syscall.Signal) error {
	if s.proc == nil {
		return nil
	}
	defer func() { s.proc = nil }()
	if err := s.proc.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(stopTimeout):
		s.proc.Kill()
		<-s.exited
		return fmt.Errorf("mariadbd on %s ignored %v for %v, killed", s.Addr, sig, stopTimeout)
	}
}

// freePort asks the kernel for a free port, skipping ones this process
// already handed out but whose server is not listening yet.
func freePort() (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !usedPorts[port] {
			usedPorts[port] = true
			return port, nil
		}
	}
	return 0, errors.New("mariadbtest: no free port")
}

// logTail returns the last lines mariadbd wrote to path since offset.
func logTail(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if offset <= int64(len(b)) {
		b = b[offset:]
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}
