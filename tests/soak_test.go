package tests

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The soak tests run only with SHARDPROXY_SOAK=1 (make soak): they open
// SHARDPROXY_SOAK_CONNS (10,000 by default) client connections.
func soakConns(t *testing.T) int {
	t.Helper()
	if os.Getenv("SHARDPROXY_SOAK") == "" {
		t.Skip("soak test: run with SHARDPROXY_SOAK=1 (make soak)")
	}
	n := 10000
	if s := os.Getenv("SHARDPROXY_SOAK_CONNS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// raiseFileLimit makes room for want open files in this process.
func raiseFileLimit(t *testing.T, want uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= want {
		return
	}
	lim.Cur = want
	if lim.Max < want {
		lim.Max = want // needs CAP_SYS_RESOURCE
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("raise the open-file limit to %d: %v (run as root or raise ulimit -n)", want, err)
	}
}

// rawLogin logs in with mysql_native_password over a bare TCP connection
// and returns it idle, so that the client side of a soak costs little more
// than a socket.
func rawLogin(addr, user, password, db string) (net.Conn, error) {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	fail := func(err error) (net.Conn, error) {
		nc.Close()
		return nil, err
	}
	rd := bufio.NewReaderSize(nc, 512)
	greeting, seq, err := readRawPacket(rd)
	if err != nil {
		return fail(fmt.Errorf("greeting: %w", err))
	}
	scramble, err := greetingScramble(greeting)
	if err != nil {
		return fail(err)
	}
	const caps = 0x00000001 | 0x00000008 | 0x00000200 | 0x00008000 | 0x00080000 // long password, with db, 4.1, secure conn, plugin auth
	resp := binary.LittleEndian.AppendUint32(nil, caps)
	resp = binary.LittleEndian.AppendUint32(resp, 1<<24)
	resp = append(resp, 45) // utf8mb4_general_ci
	resp = append(resp, make([]byte, 23)...)
	resp = append(append(resp, user...), 0)
	auth := nativeScramble(scramble, password)
	resp = append(append(resp, byte(len(auth))), auth...)
	resp = append(append(resp, db...), 0)
	resp = append(append(resp, "mysql_native_password"...), 0)
	if err := writeRawPacket(nc, resp, seq+1); err != nil {
		return fail(err)
	}
	for {
		p, seq, err := readRawPacket(rd)
		if err != nil {
			return fail(fmt.Errorf("login: %w", err))
		}
		switch {
		case len(p) > 0 && p[0] == 0x00:
			_ = nc.SetDeadline(time.Time{})
			if rd.Buffered() > 0 {
				return fail(errors.New("unexpected bytes after the OK"))
			}
			return nc, nil
		case len(p) > 0 && p[0] == 0xfe: // auth switch: plugin name, then data
			rest := p[1:]
			i := bytes.IndexByte(rest, 0)
			if i < 0 || string(rest[:i]) != "mysql_native_password" {
				return fail(fmt.Errorf("auth switch to %q", rest))
			}
			data := bytes.TrimRight(rest[i+1:], "\x00")
			if err := writeRawPacket(nc, nativeScramble(data, password), seq+1); err != nil {
				return fail(err)
			}
		default:
			return fail(fmt.Errorf("login answered %q", p))
		}
	}
}

func readRawPacket(rd io.Reader) ([]byte, byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(rd, h[:]); err != nil {
		return nil, 0, err
	}
	p := make([]byte, int(h[0])|int(h[1])<<8|int(h[2])<<16)
	if _, err := io.ReadFull(rd, p); err != nil {
		return nil, 0, err
	}
	return p, h[3], nil
}

func writeRawPacket(w io.Writer, p []byte, seq byte) error {
	h := []byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), seq}
	_, err := w.Write(append(h, p...))
	return err
}

// greetingScramble extracts the 20-byte scramble from a v10 greeting.
func greetingScramble(p []byte) ([]byte, error) {
	if len(p) < 1 || p[0] != 10 {
		return nil, errors.New("not a v10 greeting")
	}
	i := bytes.IndexByte(p[1:], 0)
	if i < 0 {
		return nil, errors.New("greeting without server version")
	}
	pos := 1 + i + 1 + 4 // version, NUL, connection id
	if len(p) < pos+8+1+2+1+2+2+1+10+12 {
		return nil, errors.New("short greeting")
	}
	s := append([]byte(nil), p[pos:pos+8]...)
	pos += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10
	return append(s, p[pos:pos+12]...), nil
}

// nativeScramble is SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))).
func nativeScramble(scramble []byte, password string) []byte {
	if password == "" {
		return nil
	}
	h1 := sha1.Sum([]byte(password))
	h2 := sha1.Sum(h1[:])
	h := sha1.New()
	h.Write(scramble[:20])
	h.Write(h2[:])
	out := h.Sum(nil)
	for i := range out {
		out[i] ^= h1[i]
	}
	return out
}

// pingRaw sends COM_PING on an idle raw connection and expects an OK.
func pingRaw(nc net.Conn) error {
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	defer nc.SetDeadline(time.Time{})
	if err := writeRawPacket(nc, []byte{0x0e}, 0); err != nil {
		return err
	}
	p, _, err := readRawPacket(nc)
	if err != nil {
		return err
	}
	if len(p) == 0 || p[0] != 0 {
		return fmt.Errorf("ping answered %q", p)
	}
	return nil
}

// openIdle opens n logged-in idle connections, a few at a time.
func openIdle(t *testing.T, addr, db string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c, err := rawLogin(addr, appUser, appPassword, db)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("connection %d: %w", i, err)
					}
					mu.Unlock()
					continue
				}
				conns[i] = c
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	})
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	return conns
}

func heapAndStacks() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse
}

// TestSoakIdleConnectionsInProcess opens 10,000 idle logged-in client
// connections to a proxy in this process and reports its heap and stack
// growth per connection; the proxy still answers queries, and idle sessions
// still answer a ping. The clients live in a child process (this test binary
// again, as TestSoakClientHelper), so their sockets and memory are not
// counted, and each process needs only one file per connection.
func TestSoakIdleConnectionsInProcess(t *testing.T) {
	n := soakConns(t)
	raiseFileLimit(t, uint64(n+4096))
	cfg := baseConfig()
	cfg.MaxConnections = n + 100
	passThroughSchema(cfg, "soakdb")
	p := startProxy(t, cfg)
	db := p.open(t, "soakdb")
	if queryOne(t, db, "SELECT 1") != "1" {
		t.Fatal("no answer before the soak")
	}
	warm := openIdle(t, p.addr, "soakdb", 100) // pays one-time allocations
	for _, c := range warm {
		c.Close()
	}
	waitFor(t, func() bool { return p.srv.Sessions() <= 1 }, "warm-up sessions to end")
	before := heapAndStacks()
	goroutinesBefore := runtime.NumGoroutine()
	start := time.Now()
	helper := exec.Command(os.Args[0], "-test.run=^TestSoakClientHelper$", "-test.v", "-test.short")
	helper.Env = append(os.Environ(), "SHARDPROXY_SOAK_HELPER="+p.addr+","+strconv.Itoa(n))
	stdin, err := helper.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	helper.Stderr = os.Stderr
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer helper.Wait()
	defer stdin.Close()
	ready := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if sc.Text() == "READY" {
			ready = true
			break
		}
		t.Log("helper: " + sc.Text())
	}
	go io.Copy(io.Discard, stdout)
	if !ready {
		t.Fatal("the client helper did not open its connections")
	}
	opened := time.Since(start)
	waitFor(t, func() bool { return p.srv.Sessions() >= int64(n) }, "every session to be up")
	after := heapAndStacks()
	if path := os.Getenv("SHARDPROXY_SOAK_HEAP"); path != "" {
		// go tool pprof -sample_index=inuse_space PATH shows who holds it.
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.WriteHeapProfile(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	perConn := float64(after-before) / float64(n)
	t.Logf("%d idle connections opened in %v; proxy heap+stack %0.1f MiB -> %0.1f MiB: %.0f bytes per connection; goroutines %d -> %d",
		n, opened.Round(time.Millisecond), float64(before)/(1<<20), float64(after)/(1<<20), perConn, goroutinesBefore, runtime.NumGoroutine())
	start = time.Now()
	if queryOne(t, db, "SELECT 1") != "1" {
		t.Fatal("no answer with the idle connections open")
	}
	t.Logf("a query with %d idle connections open took %v", n, time.Since(start))
	stdin.Close() // the helper pings some of its connections, then closes them all
	if err := helper.Wait(); err != nil {
		t.Fatalf("client helper: %v", err)
	}
	waitFor30(t, func() bool { return p.srv.Sessions() <= 1 }, "sessions to end")
	t.Logf("heap+stack after closing them: %0.1f MiB", float64(heapAndStacks())/(1<<20))
	if perConn > 64<<10 {
		t.Errorf("%.0f bytes per idle connection: more than 64 KiB", perConn)
	}
}

// TestSoakClientHelper is the client side of TestSoakIdleConnectionsInProcess,
// run in a child process: it opens the connections, says READY, and when its
// stdin closes pings a tenth of them and exits.
func TestSoakClientHelper(t *testing.T) {
	spec := os.Getenv("SHARDPROXY_SOAK_HELPER")
	if spec == "" {
		t.Skip("run by TestSoakIdleConnectionsInProcess")
	}
	addr, count, _ := strings.Cut(spec, ",")
	n, err := strconv.Atoi(count)
	if err != nil {
		t.Fatal(err)
	}
	raiseFileLimit(t, uint64(n+1024))
	conns := openIdle(t, addr, "soakdb", n)
	fmt.Println("READY")
	_, _ = io.Copy(io.Discard, os.Stdin)
	for i := 0; i < n; i += 10 {
		if err := pingRaw(conns[i]); err != nil {
			t.Fatalf("idle connection %d: %v", i, err)
		}
	}
}

// TestSoakIdleConnectionsRSS does the same against the proxy binary and
// reports the growth of its resident set per connection.
func TestSoakIdleConnectionsRSS(t *testing.T) {
	n := soakConns(t)
	raiseFileLimit(t, uint64(n+4096))
	physical := uniqueName("soak")
	config := writeConfig(t, fmt.Sprintf(`
listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
max_connections: %d
users: [{name: %s, password: %s}]
nodes: [{name: n0, primary: %s, user: root}]
schemas: [{name: soakdb, shards: [{node: n0, database: %s}]}]
`, n+100, appUser, appPassword, nodes[0].Primary.Addr, physical))
	// The child inherits this process's raised limit.
	cmd, addr, _ := startBinary(t, config)
	pid := cmd.Process.Pid
	db, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/soakdb", appUser, appPassword, addr))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if queryOne(t, db, "SELECT 1") != "1" {
		t.Fatal("no answer before the soak")
	}
	warm := openIdle(t, addr, "soakdb", 100)
	for _, c := range warm {
		c.Close()
	}
	time.Sleep(time.Second)
	before := rssBytes(t, pid)
	start := time.Now()
	conns := openIdle(t, addr, "soakdb", n)
	opened := time.Since(start)
	time.Sleep(time.Second)
	after := rssBytes(t, pid)
	perConn := float64(after-before) / float64(n)
	t.Logf("%d idle connections opened in %v; proxy RSS %0.1f MiB -> %0.1f MiB: %.0f bytes per connection",
		n, opened.Round(time.Millisecond), float64(before)/(1<<20), float64(after)/(1<<20), perConn)
	if queryOne(t, db, "SELECT 1") != "1" {
		t.Fatal("no answer with the idle connections open")
	}
	for i := 0; i < n; i += n / 10 {
		if err := pingRaw(conns[i]); err != nil {
			t.Fatalf("idle connection %d: %v", i, err)
		}
	}
	if perConn > 64<<10 {
		t.Errorf("%.0f bytes per idle connection: more than 64 KiB", perConn)
	}
}

func rssBytes(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// waitFor30 is waitFor with room for thousands of sessions to end.
func waitFor30(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
