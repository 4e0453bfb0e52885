package backend

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// A session's statement context outlives its statements: watches ended
// (nested ones included) must leave nothing registered on it, and a watch
// that is running when it is cancelled must interrupt the exchange.
func TestWatchOnLongLivedContext(t *testing.T) {
	srv := startServer(t)
	p := NewPool(PoolConfig{Addr: srv.Addr, User: "root", MaxOpen: 2, IdleTimeout: time.Hour})
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	c, err := p.Get(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		stop := c.Watch(ctx)
		// An exchange inside the watch, with its own watch (Exec), and one
		// with a context that cannot be cancelled.
		if _, err := c.Exec(ctx, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(context.Background(), "SELECT 2"); err != nil {
			t.Fatal(err)
		}
		stop()
	}
	if c.Broken() || c.ioDepth != 0 || c.stopWatch != nil {
		t.Fatalf("after the watches: broken %v, depth %d, registration left %v", c.Broken(), c.ioDepth, c.stopWatch != nil)
	}
	// Cancelling now touches nothing: the connection answers on.
	cancel()
	if _, err := c.Exec(context.Background(), "SELECT 3"); err != nil {
		t.Fatalf("a cancel after every watch ended interrupted the connection: %v", err)
	}
	p.Put(c)

	// A cancel during a watched statement stops it on the server, which
	// answers: the connection stays in step and usable (a transaction on
	// it lives on, as KILL QUERY leaves a MariaDB client's). Also when the
	// cancel comes first, and its KILL reaches the server before the
	// statement does: the KILL goes again.
	for _, after := range []time.Duration{200 * time.Millisecond, 0} {
		ctx, cancel = context.WithCancel(context.Background())
		c, err = p.Get(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		if after == 0 {
			cancel()
		} else {
			time.AfterFunc(after, cancel)
		}
		start := time.Now()
		res, err := c.Exec(ctx, "SELECT SLEEP(10)")
		// A KILL that lands as the statement starts makes MariaDB answer
		// SLEEP() = 1, interrupted, without an error (docs/behaviour.md, KILL).
		interrupted := err != nil || len(res.Rows) == 1 && string(res.Rows[0][0]) == "1"
		if !interrupted || time.Since(start) > 5*time.Second {
			t.Fatalf("SLEEP(10) cancelled after %v: %v after %v", after, err, time.Since(start))
		}
		if c.Broken() {
			t.Fatalf("SLEEP(10) cancelled after %v: the server answered, yet the connection was given up (%v)", after, err)
		}
		if _, err := c.Exec(context.Background(), "SELECT 4"); err != nil {
			t.Fatalf("the statement after a cancelled one: %v", err)
		}
		p.Put(c)
	}
}

// The connections the pool dials for itself (KILL QUERY) belong to no pool:
// one whose server goes away mid-exchange must fail with an error naming
// the server, not bring the proxy down (it once dereferenced the nil pool).
func TestPoolLessConnFailsCleanly(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c, err := dial(ctx, srv.Addr, "root", "", false, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	killer, err := dial(ctx, srv.Addr, "root", "", false, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer killer.Close()
	if _, err := killer.exec(ctx, fmt.Sprintf("KILL %d", c.ServerID), false); err != nil {
		t.Fatal(err)
	}
	_, err = c.exec(ctx, "SELECT 1", false)
	if err == nil || !strings.Contains(err.Error(), srv.Addr) {
		t.Fatalf("exchange on a killed connection: %v, want an error naming %s", err, srv.Addr)
	}
	if !c.Broken() {
		t.Fatal("a failed connection must be marked broken")
	}
}
