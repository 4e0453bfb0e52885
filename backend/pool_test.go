package backend

import (
	"context"
	"testing"
	"time"

	"github.com/shardproxy/shardproxy/tests/mariadbtest"
)

// startServer starts a MariaDB server for one test, with extra mariadbd flags.
func startServer(t *testing.T, args ...string) *mariadbtest.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("needs MariaDB")
	}
	srv, err := mariadbtest.Start(mariadbtest.Options{Args: args})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	return srv
}

// poolOfOne starts a server and returns a pool of one connection, closed
// with the test, and that connection, taken from it.
func poolOfOne(t *testing.T) (*Pool, *Conn) {
	t.Helper()
	srv := startServer(t)
	p := NewPool(PoolConfig{Addr: srv.Addr, User: "root", MaxOpen: 1, IdleTimeout: time.Hour})
	t.Cleanup(p.Close)
	c, err := p.Get(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	return p, c
}

// TestPoolWaiterGetsReturnedConn: a caller waiting for a full pool gets the
// connection another puts back, at once (a returned connection keeps its
// slot, so waiting only for a free slot would stall until idle_timeout).
func TestPoolWaiterGetsReturnedConn(t *testing.T) {
	srv := startServer(t)
	for _, flavours := range [][2]bool{{false, false}, {true, false}} {
		p := NewPool(PoolConfig{Addr: srv.Addr, User: "root", MaxOpen: 1, IdleTimeout: time.Hour})
		held, err := p.Get(context.Background(), flavours[0])
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := p.Get(ctx, flavours[1])
			if err == nil {
				_, err = c.Exec(ctx, "SELECT 1")
				p.Put(c)
			}
			got <- err
		}()
		waitUntil(t, func() bool { return p.Stats().Waits == 1 })
		p.Put(held)
		select {
		case err := <-got:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("flavours %v: the waiter did not get the returned connection", flavours)
		}
		if s := p.Stats(); s.Open != 1 || s.InUse != 0 {
			t.Fatalf("pool after: %+v", s)
		}
		p.Close()
	}
}

// TestPoolGetRespectsContext: a full pool gives up when ctx ends.
func TestPoolGetRespectsContext(t *testing.T) {
	srv := startServer(t)
	p := NewPool(PoolConfig{Addr: srv.Addr, User: "root", MaxOpen: 1})
	defer p.Close()
	held, err := p.Get(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Put(held)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := p.Get(ctx, false); err == nil || time.Since(start) > time.Second {
		t.Fatalf("Get on a full pool: %v after %v", err, time.Since(start))
	}
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := p.Get(cancelled, false); err == nil {
		t.Fatal("Get with a cancelled context succeeded")
	}
}

// TestDialBoundedOnFrozenServer: a server that accepts connections but
// answers nothing makes dial fail within its timeout, or as soon as ctx is
// cancelled, and the liveness probe reports it.
func TestDialBoundedOnFrozenServer(t *testing.T) {
	srv := startServer(t)
	if err := srv.Freeze(); err != nil {
		t.Fatal(err)
	}
	defer srv.Thaw()
	start := time.Now()
	if _, err := dial(context.Background(), srv.Addr, "root", "", false, 500*time.Millisecond); err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("dial to a frozen server: %v after %v", err, time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start = time.Now()
	if _, err := dial(ctx, srv.Addr, "root", "", false, time.Minute); err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("cancelled dial to a frozen server: %v after %v", err, time.Since(start))
	}
	p := NewPool(PoolConfig{Addr: srv.Addr, User: "root"})
	defer p.Close()
	if err := p.probe(); err == nil {
		t.Fatal("probe of a frozen server succeeded")
	}
	if err := srv.Thaw(); err != nil {
		t.Fatal(err)
	}
	if err := p.probe(); err != nil {
		t.Fatalf("probe of a thawed server: %v", err)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Shards of one node share its pool: a connection already in the shard's
// database is preferred, so no COM_INIT_DB precedes the statement.
func TestPoolPrefersConnectionInDatabase(t *testing.T) {
	srv := startServer(t)
	p := NewPool(PoolConfig{Addr: srv.Addr, User: "root", MaxOpen: 4})
	defer p.Close()
	ctx := context.Background()
	conns := map[string]*Conn{}
	for _, db := range []string{"mysql", "information_schema", "performance_schema"} {
		c, err := p.Get(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.UseDB(ctx, db); err != nil {
			t.Fatal(err)
		}
		conns[db] = c
	}
	for _, db := range []string{"mysql", "information_schema", "performance_schema"} {
		p.Put(conns[db])
	}
	// "mysql" is at the bottom of the idle stack, yet it is the one chosen.
	c, err := p.GetIn(ctx, false, "mysql")
	if err != nil {
		t.Fatal(err)
	}
	if c != conns["mysql"] || c.DB() != "mysql" {
		t.Fatalf("GetIn(mysql) returned the connection in %q", c.DB())
	}
	p.Put(c)
	if c, _ := p.GetIn(ctx, false, "nowhere"); c != conns["mysql"] {
		t.Fatalf("without a match the most recently used connection should come back, got the one in %q", c.DB())
	}
}

// TestPoolDropsConnNearWaitTimeout: the pool does not hand out a connection
// the server is about to close for its wait_timeout, whether a session set
// it or it is the server's own.
func TestPoolDropsConnNearWaitTimeout(t *testing.T) {
	for _, tc := range []struct {
		name       string
		serverArgs []string
		session    string // the session's wait_timeout, "" for none
	}{
		{name: "session", session: "1"},
		{name: "server", serverArgs: []string{"--wait-timeout=1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testPoolDropsConnNearWaitTimeout(t, startServer(t, tc.serverArgs...), tc.session)
		})
	}
}

func testPoolDropsConnNearWaitTimeout(t *testing.T, srv *mariadbtest.Server, session string) {
	ctx := context.Background()
	p := NewPool(PoolConfig{Addr: srv.Addr, User: "root", MaxOpen: 4, IdleTimeout: time.Hour})
	defer p.Close()
	c, err := p.Get(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if session != "" {
		var short State
		short.Set("@@wait_timeout", session)
		if err := c.ApplyState(ctx, &short); err != nil {
			t.Fatal(err)
		}
	}
	first := c.ServerID
	p.Put(c)

	if c, err = p.Get(ctx, false); err != nil {
		t.Fatal(err)
	}
	if c.ServerID != first {
		t.Fatalf("a connection idle for an instant was not reused (server ids %d, %d)", first, c.ServerID)
	}
	p.Put(c)

	time.Sleep(600 * time.Millisecond) // past half the timeout, before the server's close
	if c, err = p.Get(ctx, false); err != nil {
		t.Fatal(err)
	}
	defer p.Put(c)
	if c.ServerID == first {
		t.Fatal("the pool handed out a connection 0.6 s from its 1 s wait_timeout")
	}
	if err := c.ApplyState(ctx, &State{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
}
