package tests

import (
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardproxy/shardproxy/conf"
)

// oneConnProxy is a proxy whose pools hold a single connection per backend,
// so a connection returned dirty (rows left unread, a transaction left
// open) or never returned shows in the very next statement.
func oneConnProxy(t *testing.T, schemas ...conf.Schema) *runningProxy {
	t.Helper()
	cfg := baseConfig()
	for i := range cfg.Nodes {
		cfg.Nodes[i].Pool = conf.Pool{MaxOpen: 1, MaxIdle: 1, IdleTimeout: 5 * time.Minute}
		cfg.Nodes[i].Replicas = nil
	}
	cfg.Schemas = append(cfg.Schemas, schemas...)
	return startProxy(t, cfg)
}

// runningOn counts the statements containing marker that a backend runs.
func runningOn(t *testing.T, primary string, marker string) string {
	t.Helper()
	for _, n := range nodes {
		if n.Primary.Addr != primary {
			continue
		}
		db, err := n.Primary.DB("")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		return queryOne(t, db, "SELECT COUNT(*) FROM information_schema.processlist WHERE id <> CONNECTION_ID() AND info LIKE ?", "%"+marker+"%")
	}
	t.Fatalf("no node with primary %s", primary)
	return ""
}

// withinBound fails the test unless f returns within d.
func withinBound(t *testing.T, d time.Duration, what string, f func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(d):
		t.Fatalf("%s: no answer within %v (a backend connection was leaked or returned dirty?)", what, d)
	}
}

// TestClientGoneMidResult: a client that disconnects while a large result
// streams to it stops the statement on the backend, and the backend
// connection is not returned to the pool with rows still pending.
func TestClientGoneMidResult(t *testing.T) {
	physical := uniqueName("cf")
	p := oneConnProxy(t, conf.Schema{Name: "cfdb", ReadFrom: conf.ReadFromPrimary,
		Shards: []conf.Shard{{Node: "n0", Database: physical}}})
	const marker = "client_gone_mid_result"
	for round := 0; round < 3; round++ {
		c, err := client.Connect(p.addr, appUser, appPassword, "cfdb")
		if err != nil {
			t.Fatal(err)
		}
		// About 200 MB of rows: far more than socket buffers hold.
		query := fmt.Sprintf("SELECT /* %s */ seq, REPEAT('x', 1000) FROM seq_1_to_200000", marker)
		rows := 0
		var res mysql.Result
		stopped := errors.New("enough")
		err = c.ExecuteSelectStreaming(query, &res, func(row []mysql.FieldValue) error {
			rows++
			if rows == 100*(round+1) {
				return stopped
			}
			return nil
		}, nil)
		if !errors.Is(err, stopped) {
			t.Fatalf("streaming select: %v after %d rows", err, rows)
		}
		c.Close() // the client vanishes with most of the result unread
		// The backend stops too: nothing of ours runs there for long.
		waitFor(t, func() bool { return runningOn(t, nodes[0].Primary.Addr, marker) == "0" }, "the abandoned SELECT to stop on the backend")
		// The pool's only connection is usable, and clean.
		db := p.open(t, "cfdb")
		withinBound(t, 5*time.Second, "statement after the disconnect", func() error {
			var got string
			if err := db.QueryRow("SELECT 'after'").Scan(&got); err != nil {
				return err
			}
			if got != "after" {
				return fmt.Errorf("got %q: the connection carried the previous result", got)
			}
			return nil
		})
		db.Close()
	}
	waitFor(t, func() bool { return p.srv.Sessions() == 0 }, "sessions to end")
}

// TestClientGoneMidTransaction: a client that disconnects inside a
// transaction leaves nothing committed, on a pass-through schema and on a
// sharded one whose transaction spans both nodes (XA branches), and the
// backend connections come back to the pool clean.
func TestClientGoneMidTransaction(t *testing.T) {
	ptPhysical := uniqueName("cftx")
	prefix := uniqueName("cfsh")
	p := oneConnProxy(t,
		conf.Schema{Name: "cftx", ReadFrom: conf.ReadFromPrimary,
			Shards: []conf.Shard{{Node: "n0", Database: ptPhysical}}},
		conf.Schema{Name: "cfsh", ReadFrom: conf.ReadFromPrimary,
			Shards: []conf.Shard{{Node: "n0", Database: prefix + "_0"}, {Node: "n1", Database: prefix + "_1"}},
			Tables: []conf.Table{{Name: "acct", ShardKey: "id", Algorithm: conf.AlgorithmMod}}},
	)
	setup := p.open(t, "cftx")
	mustExec(t, setup, "CREATE TABLE acct (id INT PRIMARY KEY, v INT)")
	setup.Close()
	sharded := p.open(t, "cfsh")
	mustExec(t, sharded, "CREATE TABLE acct (id INT PRIMARY KEY, v INT)")
	sharded.Close()

	cases := []struct {
		schema string
		ids    []int // rows written in the transaction
		// statement is the last one sent; some run while the client leaves.
		slow bool
	}{
		{"cftx", []int{1}, false},
		{"cftx", []int{2}, true},
		{"cfsh", []int{10, 11}, false}, // id 10 on n0, 11 on n1
		{"cfsh", []int{20, 21}, true},
	}
	for _, tc := range cases {
		name := fmt.Sprintf("%s %v slow=%v", tc.schema, tc.ids, tc.slow)
		c, err := client.Connect(p.addr, appUser, appPassword, tc.schema)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Execute("BEGIN"); err != nil {
			t.Fatal(err)
		}
		for _, id := range tc.ids {
			if _, err := c.Execute(fmt.Sprintf("INSERT INTO acct (id, v) VALUES (%d, 1)", id)); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if tc.slow {
			// The client leaves while a statement of the transaction runs.
			c.ResetSequence()
			if err := c.WritePacket(append(make([]byte, 4), append([]byte{0x03}, "SELECT SLEEP(1) FROM acct LIMIT 1"...)...)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		c.Close()

		// The rows are not committed; the pools' single connections are
		// clean: an autocommit write through them is committed at once.
		db := p.open(t, tc.schema)
		withinBound(t, 10*time.Second, name+": statement after the disconnect", func() error {
			for _, id := range tc.ids {
				if _, err := db.Exec(fmt.Sprintf("INSERT INTO acct (id, v) VALUES (%d, 2)", id+100)); err != nil {
					return err
				}
			}
			return nil
		})
		for _, id := range tc.ids {
			var physical string
			node := nodes[0]
			switch {
			case tc.schema == "cftx":
				physical = ptPhysical
			case id%2 == 0:
				physical = prefix + "_0"
			default:
				physical, node = prefix+"_1", nodes[1]
			}
			direct, err := node.Primary.DB(physical)
			if err != nil {
				t.Fatal(err)
			}
			if n := queryOne(t, direct, "SELECT COUNT(*) FROM acct WHERE id = ?", id); n != "0" {
				t.Errorf("%s: row %d of the abandoned transaction is committed", name, id)
			}
			if n := queryOne(t, direct, "SELECT COUNT(*) FROM acct WHERE id = ?", id+100); n != "1" {
				t.Errorf("%s: the autocommit row %d after it is not committed (a dirty connection?)", name, id+100)
			}
			direct.Close()
		}
		db.Close()
	}
	waitFor(t, func() bool { return p.srv.Sessions() == 0 }, "sessions to end")
	// No XA branch of ours is left prepared or active.
	for _, x := range xaPending(t) {
		t.Errorf("XA transaction left behind: %s", x)
	}
}

// TestClientGoneMidHandshake: clients that send part of a handshake and
// close, or go silent, cost the proxy nothing lasting: silent ones are
// closed after the handshake timeout, and others are served meanwhile.
func TestClientGoneMidHandshake(t *testing.T) {
	p, _, _ := passThrough(t)
	// Half a handshake response, then gone.
	for i := 0; i < 20; i++ {
		c := rawDial(t, p.addr)
		buf := make([]byte, 4096)
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
		// A header announcing 64 bytes, and only 10 of them.
		_, _ = c.Write(append([]byte{64, 0, 0, 1}, make([]byte, 10)...))
		c.Close()
	}
	stillServes(t, p, "half handshakes")

	// Silent clients: some never answer the greeting, some stop halfway.
	var silent []net.Conn
	for i := 0; i < 10; i++ {
		c, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if i%2 == 1 {
			buf := make([]byte, 4096)
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Read(buf); err != nil {
				t.Fatal(err)
			}
			_, _ = c.Write([]byte{64, 0, 0, 1, 0x85})
		}
		silent = append(silent, c)
	}
	start := time.Now()
	stillServes(t, p, "silent clients")
	for i, c := range silent {
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, err := io.Copy(io.Discard, c) // greeting, if unread; then EOF
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("silent client %d still connected after %v", i, time.Since(start))
		}
	}
	t.Logf("silent clients closed by the proxy after %v", time.Since(start).Round(time.Millisecond))
	if took := time.Since(start); took > 13*time.Second {
		t.Errorf("silent clients were closed only after %v", took)
	}
	waitFor(t, func() bool { return p.srv.Sessions() == 0 }, "no session left")
	stillServes(t, p, "the handshake timeout")
}

// TestClientStopsReading: a client that stops reading a large result
// without disconnecting is dropped after its net_write_timeout, as MariaDB
// drops it, and the backend connection it held is freed and clean.
func TestClientStopsReading(t *testing.T) {
	physical := uniqueName("cfr")
	p := oneConnProxy(t, conf.Schema{Name: "cfread", ReadFrom: conf.ReadFromPrimary,
		Shards: []conf.Shard{{Node: "n0", Database: physical}}})
	const marker = "client_stops_reading"
	c, err := client.Connect(p.addr, appUser, appPassword, "cfread")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Execute("SET SESSION net_write_timeout = 2"); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	streamed := make(chan error, 1)
	go func() {
		var res mysql.Result
		rows := 0
		query := fmt.Sprintf("SELECT /* %s */ seq, REPEAT('x', 1000) FROM seq_1_to_200000", marker)
		streamed <- c.ExecuteSelectStreaming(query, &res, func(row []mysql.FieldValue) error {
			if rows++; rows == 100 {
				<-release // the client stops reading, the connection stays open
			}
			return nil
		}, nil)
	}()
	start := time.Now()
	waitFor(t, func() bool {
		return runningOn(t, nodes[0].Primary.Addr, marker) == "0" && time.Since(start) > time.Second
	},
		"the proxy to drop the stalled client and stop its SELECT")
	t.Logf("stalled client dropped and its backend statement stopped after %v", time.Since(start).Round(100*time.Millisecond))
	db := p.open(t, "cfread")
	withinBound(t, 5*time.Second, "statement on the pool's only connection", func() error {
		var got string
		return db.QueryRow("SELECT 'after'").Scan(&got)
	})
	close(release)
	if err := <-streamed; err == nil {
		t.Fatal("the stalled client's result ended without an error: it was cut short silently")
	}
}
