package tests

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// proxyBinary builds cmd/shardproxy once per test run.
func proxyBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "shardproxy-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "shardproxy")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/shardproxy").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shardproxy.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBinaryVersionAndCheck(t *testing.T) {
	bin := proxyBinary(t)
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "shardproxy ") {
		t.Fatalf("--version: %v %q", err, out)
	}
	good := writeConfig(t, `
users: [{name: app, password: x}]
nodes: [{name: n0, primary: 127.0.0.1:1}]
schemas: [{name: s, shards: [{node: n0, database: s0}]}]
`)
	if out, err := exec.Command(bin, "--config", good, "--check").CombinedOutput(); err != nil {
		t.Fatalf("--check of a valid file: %v\n%s", err, out)
	}
	bad := writeConfig(t, `
users: [{name: app, password: x}]
nodes: [{name: n0, primary: 127.0.0.1:1, primay: oops}]
schemas:
  - name: s
    shards: [{node: n0, database: s0}, {node: n9, database: s1}]
    default_shard: 5
    tables:
      - {name: t, algorithm: mod}
      - {name: e, shard_key: d, algorithm: range, bounds: ["b"]}
`)
	cmd := exec.Command(bin, "--config", bad, "--check")
	out, err = cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("--check of a bad file exited %d: %v\n%s", cmd.ProcessState.ExitCode(), err, out)
	}
	for _, key := range []string{"nodes[0].primay", "schemas[0].shards[1].node", "schemas[0].default_shard", "schemas[0].tables[0].shard_key"} {
		if !strings.Contains(string(out), key) {
			t.Errorf("--check output does not name %s:\n%s", key, out)
		}
	}
}

// startBinary runs the proxy binary and waits for its "listening" line.
func startBinary(t *testing.T, config string) (cmd *exec.Cmd, addr string, logs *syncBuffer) {
	t.Helper()
	cmd = exec.Command(proxyBinary(t), "--config", config)
	logs = &syncBuffer{}
	stderr, _ := cmd.StderrPipe()
	cmd.Stdout = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`listening.*"addr": "([^"]+)"`)
		for sc.Scan() {
			line := sc.Text()
			logs.Write([]byte(line + "\n"))
			if m := re.FindStringSubmatch(line); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case addr = <-found:
	case <-time.After(20 * time.Second):
		t.Fatalf("no listening line; logs:\n%s", logs.String())
	}
	return cmd, addr, logs
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func binaryConfig(physical, users string) string {
	return fmt.Sprintf(`
listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
shutdown_timeout: 10s
users: [%s]
nodes: [{name: n0, primary: %s, replicas: [%s], user: root}]
schemas: [{name: shop, shards: [{node: n0, database: %s}]}]
`, users, nodes[0].Primary.Addr, nodes[0].Replica.Addr, physical)
}

func mariadbCLI(t *testing.T, addr string, stdin string, args ...string) (string, error) {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	base := []string{"-h" + host, "-P" + port, "-uapp", "-p" + appPassword, "--batch"}
	cmd := exec.Command("mariadb", append(base, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestBinaryServesMariaDBClientAndDrains(t *testing.T) {
	physical := uniqueName("bin")
	t.Setenv("APP_PW", appPassword)
	config := writeConfig(t, binaryConfig(physical, `{name: app, password: "${APP_PW}"}`))
	cmd, addr, logs := startBinary(t, config)

	out, err := mariadbCLI(t, addr, "", "shop", "-e", "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO t VALUES (1,'one'),(2,'two'); SELECT DATABASE(), COUNT(*) FROM t")
	if err != nil || !strings.Contains(out, "shop\t2") {
		t.Fatalf("mariadb -e: %v\n%s", err, out)
	}
	script := "USE shop;\nSELECT v FROM t WHERE id = 2;\nSHOW DATABASES;\n"
	out, err = mariadbCLI(t, addr, script)
	if err != nil || !strings.Contains(out, "two") || !strings.Contains(out, "Database\nshop") {
		t.Fatalf("mariadb with a script on stdin: %v\n%s", err, out)
	}
	out, err = mariadbCLI(t, addr, "", "--default-auth=caching_sha2_password", "shop", "-e", "SELECT 'sha2 ok'")
	if err != nil || !strings.Contains(out, "sha2 ok") {
		t.Fatalf("mariadb with caching_sha2_password: %v\n%s", err, out)
	}

	// A statement in flight when SIGTERM arrives finishes; then exit 0.
	db, err := sql.Open("mysql", fmt.Sprintf("app:%s@tcp(%s)/shop", appPassword, addr))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	done := make(chan error, 1)
	go func() {
		var v int
		done <- db.QueryRow("SELECT SLEEP(1) + 41").Scan(&v)
	}()
	time.Sleep(300 * time.Millisecond) // let the statement reach the backend
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("statement in flight at SIGTERM failed: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("proxy exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("proxy did not exit after SIGTERM\n%s", logs.String())
	}
	if strings.Contains(logs.String(), appPassword) {
		t.Fatalf("a password reached the logs:\n%s", logs.String())
	}
}

func TestBinaryReloadOnSIGHUP(t *testing.T) {
	physical := uniqueName("hup")
	config := writeConfig(t, binaryConfig(physical, `{name: app, password: `+appPassword+`}`))
	cmd, addr, logs := startBinary(t, config)
	db, err := sql.Open("mysql", fmt.Sprintf("app:%s@tcp(%s)/shop", appPassword, addr))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	mustExec(t, db, "SELECT 1")

	// A broken file is refused; the old configuration stays.
	if err := os.WriteFile(config, []byte("users: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, func() bool { return strings.Contains(logs.String(), "reload refused") }, "reload refused in logs")
	mustExec(t, db, "SELECT 1")

	// A valid file with a new user takes effect; the open session keeps working.
	text := binaryConfig(physical, `{name: app, password: `+appPassword+`}, {name: newbie, password: pw2}`)
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, func() bool { return strings.Contains(logs.String(), "configuration reloaded") }, "reload in logs")
	newbie, _ := sql.Open("mysql", fmt.Sprintf("newbie:pw2@tcp(%s)/shop", addr))
	defer newbie.Close()
	if err := newbie.Ping(); err != nil {
		t.Fatalf("user added by reload cannot log in: %v", err)
	}
	mustExec(t, db, "SELECT 1")
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
