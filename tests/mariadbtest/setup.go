package mariadbtest

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

const (
	serverDirPrefix = "mariadbtest-srv-"
	installHint     = "install it with: apt-get update && apt-get install -y mariadb-server mariadb-client"
)

// innodbFlags must match between mariadb-install-db and mariadbd.
var innodbFlags = []string{
	"--innodb-buffer-pool-size=32M",
	"--innodb-log-file-size=16M",
}

// serverFlags are small, fast settings for a primary that can also be a replica.
var serverFlags = append([]string{
	"--skip-name-resolve",
	"--performance-schema=OFF",
	"--innodb-flush-log-at-trx-commit=2",
	"--sync-binlog=0",
	"--max-connections=1000",
	"--character-set-server=utf8mb4", // what Debian's packaged server defaults to
	"--collation-server=utf8mb4_general_ci",
	"--log-bin=mysql-bin",
	"--binlog-format=ROW",
	"--log-slave-updates",
}, innodbFlags...)

type install struct {
	mariadbd string
	template string // pristine datadir, only ever copied
}

var (
	setupOnce sync.Once
	setupEnv  install
	setupErr  error
)

// setup finds mariadbd and builds the template datadir once per process.
func setup() (install, error) {
	setupOnce.Do(func() { setupEnv, setupErr = buildTemplate() })
	return setupEnv, setupErr
}

func buildTemplate() (install, error) {
	mariadbd, err := lookBin("mariadbd", "mysqld")
	if err != nil {
		return install{}, err
	}
	installDB, err := lookBin("mariadb-install-db", "mysql_install_db")
	if err != nil {
		return install{}, err
	}
	version, err := exec.Command(mariadbd, "--version").Output()
	if err != nil {
		return install{}, fmt.Errorf("%s --version: %w", mariadbd, err)
	}
	args := append([]string{
		"--no-defaults",
		"--user=root",
		"--auth-root-authentication-method=normal", // root@127.0.0.1 with an empty password
		"--skip-test-db",
		"--skip-name-resolve",
	}, innodbFlags...)
	// Keyed by version and flags so an upgrade or a flag change gets a new template.
	sum := sha256.Sum256([]byte(string(version) + strings.Join(args, " ")))
	env := install{mariadbd, filepath.Join(os.TempDir(), fmt.Sprintf("mariadbtest-template-%x", sum[:8]))}

	// Test binaries of several packages run in parallel: one builds, the others wait.
	lock, err := os.OpenFile(env.template+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return install{}, err
	}
	defer lock.Close() // releases the flock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return install{}, err
	}
	reapStaleDirs()
	if _, err := os.Stat(env.template); err == nil {
		return env, nil
	}
	work, err := os.MkdirTemp("", "mariadbtest-install-")
	if err != nil {
		return install{}, err
	}
	defer os.RemoveAll(work)
	data := filepath.Join(work, "data")
	out, err := exec.Command(installDB, append(args, "--datadir="+data)...).CombinedOutput()
	if err != nil {
		return install{}, fmt.Errorf("%s: %w\n%s", installDB, err, out)
	}
	// Rename last so a half-built template is never visible.
	return env, os.Rename(data, env.template)
}

// lookBin finds the first of names on PATH or in the sbin dirs that a
// non-login root shell may lack.
func lookBin(names ...string) (string, error) {
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
		for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"} {
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("mariadbtest: %s not found; %s", names[0], installHint)
}

// reapStaleDirs removes server dirs whose owning test process is gone
// (e.g. killed by a test timeout before its cleanups ran).
func reapStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), serverDirPrefix+"*"))
	for _, dir := range dirs {
		pidStr, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(dir), serverDirPrefix), "-")
		pid, err := strconv.Atoi(pidStr)
		if err == nil && syscall.Kill(pid, 0) == syscall.ESRCH {
			os.RemoveAll(dir)
		}
	}
}

var (
	spawnOnce sync.Once
	spawnCh   = make(chan func())
)

// spawn starts a mariadbd that gets SIGKILL when this process dies. Pdeathsig
// fires when the forking OS thread exits, and Go retires threads of goroutines
// that exit while locked, so every fork happens on one thread pinned forever.
func spawn(path string, args []string, out *os.File) (*os.Process, error) {
	spawnOnce.Do(func() {
		go func() {
			runtime.LockOSThread()
			for f := range spawnCh {
				f()
			}
		}()
	})
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	errc := make(chan error)
	spawnCh <- func() { errc <- cmd.Start() }
	if err := <-errc; err != nil {
		return nil, err
	}
	return cmd.Process, nil
}
