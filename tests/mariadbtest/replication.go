package mariadbtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

const replicaStartTimeout = 30 * time.Second

// StartReplica starts a new server replicating from primary with GTID
// (slave_pos) and waits until both replication threads run.
func StartReplica(primary *Server, opts Options) (*Server, error) {
	r, err := Start(opts)
	if err != nil {
		return nil, err
	}
	if err := r.replicateFrom(primary); err != nil {
		r.Stop()
		return nil, err
	}
	return r, nil
}

func (s *Server) replicateFrom(primary *Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), replicaStartTimeout)
	defer cancel()
	// A 1s connect retry lets fault tests bring a killed primary back quickly.
	change := fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, "+
		"MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1", primary.Port)
	for _, q := range []string{change, "START SLAVE"} {
		if _, err := s.admin.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("replica %s: %s: %w", s.Addr, q, err)
		}
	}
	for {
		st, err := s.slaveStatus(ctx)
		if err == nil && st["Slave_IO_Running"] == "Yes" && st["Slave_SQL_Running"] == "Yes" {
			return nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = errors.New(describe(st))
			}
			return fmt.Errorf("replica %s of %s not running after %v: %w",
				s.Addr, primary.Addr, replicaStartTimeout, err)
		case <-time.After(pollInterval):
		}
	}
}

// WaitCaughtUp waits until the replica has applied everything in the
// primary's binlog at the time of the call.
func (s *Server) WaitCaughtUp(primary *Server, timeout time.Duration) error {
	// Leave the server-side wait room to answer before the client gives up.
	ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
	defer cancel()
	var pos string
	if err := primary.admin.QueryRowContext(ctx, "SELECT @@gtid_binlog_pos").Scan(&pos); err != nil {
		return fmt.Errorf("primary %s: %w", primary.Addr, err)
	}
	var res sql.NullInt64
	err := s.admin.QueryRowContext(ctx, "SELECT MASTER_GTID_WAIT(?, ?)", pos, timeout.Seconds()).Scan(&res)
	if err != nil {
		return fmt.Errorf("replica %s: %w", s.Addr, err)
	}
	if res.Int64 != 0 {
		st, _ := s.slaveStatus(ctx)
		return fmt.Errorf("replica %s did not reach %s of %s within %v: %s",
			s.Addr, pos, primary.Addr, timeout, describe(st))
	}
	return nil
}

// StopReplication stops both replication threads.
func (s *Server) StopReplication() error {
	_, err := s.admin.Exec("STOP SLAVE")
	return err
}

// StartReplication starts the replication threads without waiting for them:
// the primary may be down on purpose, leaving the IO thread connecting.
func (s *Server) StartReplication() error {
	_, err := s.admin.Exec("START SLAVE")
	return err
}

// slaveStatus returns SHOW SLAVE STATUS as column -> value; empty when the
// server is no replica.
func (s *Server) slaveStatus(ctx context.Context) (map[string]string, error) {
	rows, err := s.admin.QueryContext(ctx, "SHOW SLAVE STATUS")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	st := map[string]string{}
	if rows.Next() {
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, c := range cols {
			st[c] = string(vals[i])
		}
	}
	return st, rows.Err()
}

// describe summarises replication state for error messages.
func describe(st map[string]string) string {
	return fmt.Sprintf("[IO=%q SQL=%q Gtid_IO_Pos=%q IO error=%q SQL error=%q]",
		st["Slave_IO_Running"], st["Slave_SQL_Running"], st["Gtid_IO_Pos"],
		st["Last_IO_Error"], st["Last_SQL_Error"])
}

// StartNodes starts n primaries, each with one replica, all nodes in
// parallel. On error everything started is stopped.
func StartNodes(n int) ([]Node, error) {
	nodes := make([]Node, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { nodes[i], errs[i] = startNode() })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		StopNodes(nodes)
		return nil, err
	}
	return nodes, nil
}

func startNode() (Node, error) {
	p, err := Start(Options{})
	if err != nil {
		return Node{}, err
	}
	r, err := StartReplica(p, Options{})
	if err != nil {
		p.Stop()
		return Node{}, err
	}
	return Node{Primary: p, Replica: r}, nil
}

// Stop stops the replica, then the primary.
func (n Node) Stop() error {
	return errors.Join(n.Replica.Stop(), n.Primary.Stop())
}

// StopNodes stops every node; handy as a t.Cleanup.
func StopNodes(nodes []Node) error {
	var errs []error
	for _, n := range nodes {
		errs = append(errs, n.Stop())
	}
	return errors.Join(errs...)
}
