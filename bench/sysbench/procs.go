package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is a long-running process the benchmark started (haproxy,
// shardproxy) and must stop.
type child struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{} // closed once the process has been reaped
	waitErr error         // valid after exited is closed
}

// startChild starts cmd with its output appended to logPath.
func startChild(name string, cmd *exec.Cmd, logPath string) (*child, error) {
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child keeps its own descriptor
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := startGuarded(cmd); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) running() bool {
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// stop sends sig and escalates to SIGKILL after grace. Idempotent.
func (c *child) stop(sig syscall.Signal, grace time.Duration) error {
	if !c.running() {
		return nil
	}
	_ = c.cmd.Process.Signal(sig)
	select {
	case <-c.exited:
		return nil
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.exited
		return fmt.Errorf("%s ignored %v for %v, killed", c.name, sig, grace)
	}
}

// logTail returns the last lines the child wrote, for error messages.
func (c *child) logTail() string {
	b, err := os.ReadFile(c.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

// waitReady polls probe until it succeeds, the child exits or timeout passes.
func (c *child) waitReady(ctx context.Context, timeout time.Duration, probe func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := probe()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %w\n--- %s ---\n%s", c.name, timeout, err, c.logPath, c.logTail())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.exited:
			return fmt.Errorf("%s exited during startup (%v)\n--- %s ---\n%s", c.name, c.waitErr, c.logPath, c.logTail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

var (
	spawnOnce sync.Once
	spawnReqs = make(chan func())
)

// startGuarded starts cmd in its own process group, so that a Ctrl-C in
// the terminal reaches only this program, which then stops its children in
// order; and with SIGKILL as parent-death signal, so that they die with it if
// it is killed outright. The parent-death signal follows the forking OS
// thread, and Go retires threads of goroutines that exit while locked, so
// every fork happens on one thread pinned for the life of the process.
func startGuarded(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		go func() {
			runtime.LockOSThread()
			for f := range spawnReqs {
				f()
			}
		}()
	})
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	errc := make(chan error)
	spawnReqs <- func() { errc <- cmd.Start() }
	return <-errc
}

// cleanups run in reverse order of registration, like defers, but can be
// collected across functions.
type cleanups struct {
	mu  sync.Mutex
	fns []func() error
}

func (c *cleanups) add(f func() error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fns = append(c.fns, f)
}

func (c *cleanups) run() error {
	c.mu.Lock()
	fns := c.fns
	c.fns = nil
	c.mu.Unlock()
	var errs []error
	for i := len(fns) - 1; i >= 0; i-- {
		errs = append(errs, fns[i]())
	}
	return errors.Join(errs...)
}

// freePort asks the kernel for a port nobody listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lookTool finds a program on PATH or in the sbin directories that a
// non-login root shell may lack.
func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/usr/local/bin"} {
		p := dir + "/" + name
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found; install it with: apt-get install -y %s (scripts/bench.sh does)", name, name)
}
