package proxy

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/shardproxy/shardproxy/admin"
	"github.com/shardproxy/shardproxy/backend"
	"github.com/shardproxy/shardproxy/conf"
	"github.com/shardproxy/shardproxy/metrics"
)

// What operators see of the proxy: statement metrics, the slow-query and
// statement logs, the client idle timeout, and the admin server's view of
// the topology.

// defaultWaitTimeout is MariaDB's default wait_timeout: a client that sends
// nothing for this long is disconnected. SET SESSION wait_timeout changes it
// for the session, as on MariaDB.
const defaultWaitTimeout = 8 * time.Hour

// maxLoggedStatement bounds the statement text in one log line.
const maxLoggedStatement = 1024

// primaryCheckInterval is how often the primaries are checked for /topology
// and the backend_up metric (replicas have their own, faster checks).
const primaryCheckInterval = time.Second

// command serves one client command and records it: statements (COM_QUERY,
// COM_STMT_EXECUTE) are counted by kind and route, timed, and logged when
// slow. A multi-statement query counts once, as its first statement's kind
// and its last statement's route.
func (s *Session) command(pkt []byte) error {
	s.route, s.errCode, s.shardsHit = routeNone, 0, s.shardsHit[:0]
	var text string
	var kind string
	var st *clientStmt // of a COM_STMT_EXECUTE: looked up once
	switch pkt[0] {
	case comQuery:
		word, n := firstKeyword(pkt[1:])
		kind = keywordKind(word[:n])
		if string(word[:n]) == "load" {
			// LOAD DATA LOCAL reads the file through the buffer that holds
			// pkt: keep the text before it is overwritten.
			text = string(pkt[1:])
		}
	case comStmtExecute:
		if st = s.stmtByID(pkt[1:]); st == nil {
			return s.dispatch(pkt) // answers the unknown handler
		}
		text, kind = st.sql, st.kind
	default:
		return s.dispatch(pkt)
	}
	start := time.Now()
	var err error
	if st != nil {
		err = s.handleStmtExecute(st, pkt)
	} else {
		err = s.dispatch(pkt)
	}
	if s.deadlocked {
		// As on MariaDB, a deadlock's victim loses its whole transaction,
		// on every node, not only the branch the backend rolled back.
		s.deadlocked = false
		s.rollbackAll()
	}
	d := time.Since(start)
	route := routeLabel(s.route)
	s.srv.metrics.Statement(kind, route).Observe(d)
	if s.shouldLog(d) {
		if pkt[0] == comQuery && text == "" {
			text = string(pkt[1:])
		}
		s.logStatement(text, kind, route, d)
	}
	return err
}

// shouldLog reports whether a statement that took d is logged: slow ones at
// warn, every one at debug.
func (s *Session) shouldLog(d time.Duration) bool {
	if slow := s.topo().cfg.Log.SlowQuery; slow > 0 && d >= slow {
		return true
	}
	return s.log().Core().Enabled(zap.DebugLevel)
}

func (s *Session) logStatement(text, kind, route string, d time.Duration) {
	fields := []zap.Field{
		zap.Uint32("conn", s.id),
		zap.String("user", s.user),
		zap.String("schema", s.schemaName),
		zap.String("kind", kind),
		zap.String("route", route),
		zap.Duration("duration", d),
		zap.String("statement", loggableStatement(text)),
	}
	if len(s.shardsHit) > 0 {
		fields = append(fields, zap.Ints("shards", s.shardsHit))
	}
	if s.errCode != 0 {
		fields = append(fields, zap.Uint16("error", s.errCode))
	}
	if slow := s.topo().cfg.Log.SlowQuery; slow > 0 && d >= slow {
		s.srv.metrics.SlowQuery()
		s.log().Warn("slow query", fields...)
		return
	}
	s.log().Debug("statement", fields...)
}

// noteShard records that the running statement reached shard i of its
// schema, for the slow-query log.
func (s *Session) noteShard(i int) {
	for _, j := range s.shardsHit {
		if j == i {
			return
		}
	}
	s.shardsHit = append(s.shardsHit, i)
}

// noteError records an error packet sent to the client.
func (s *Session) noteError(code uint16) {
	if s.errCode == 0 {
		s.errCode = code
	}
	if code == erLockDeadlock && s.inTx {
		// The backend rolled its branch back; the rest of the transaction
		// goes too once the command is answered (command).
		s.deadlocked = true
	}
	s.srv.metrics.Error(code)
}

// noteErrorPacket records an error packet relayed from a backend.
func (s *Session) noteErrorPacket(p []byte) {
	if len(p) >= 3 {
		s.noteError(uint16(p[1]) | uint16(p[2])<<8)
	}
}

// idleTimeout is how long the session waits for the client's next command.
func (s *Session) idleTimeout() time.Duration {
	return s.secondsVariable("@@wait_timeout", defaultWaitTimeout)
}

// secondsVariable is a session variable counting seconds, as the session
// set it, or def when it did not (or set nonsense).
func (s *Session) secondsVariable(name string, def time.Duration) time.Duration {
	if d, ok := s.state.Seconds(name); ok {
		return d
	}
	return def
}

// routeLabel maps a route type to the metrics' route label.
func routeLabel(r routeType) string {
	switch r {
	case routeSingle:
		return metrics.RouteSingle
	case routeScatter:
		return metrics.RouteScatter
	case routeBroadcast:
		return metrics.RouteBroadcast
	}
	return metrics.RouteProxy
}

// statementKind classifies a statement by its first keyword, after comments
// and opening parentheses, without parsing it.
func statementKind[T string | []byte](text T) string {
	word, n := firstKeyword(text)
	return keywordKind(word[:n])
}

// firstKeyword returns the statement's first word, lower-cased, in word[:n];
// n is 0 when there is none or it is longer than any keyword.
func firstKeyword[T string | []byte](text T) (word [12]byte, n int) {
	i := 0
	for i < len(text) {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ';':
			i++
		case c == '#' || (c == '-' && i+2 < len(text) && text[i+1] == '-' && (text[i+2] == ' ' || text[i+2] == '\t')):
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(text) && text[i+1] == '*':
			if i+2 < len(text) && text[i+2] == '!' {
				// MySQL executable comment: its content is the statement.
				i += 3
				for i < len(text) && text[i] >= '0' && text[i] <= '9' {
					i++
				}
				continue
			}
			j := i + 2
			for j+1 < len(text) && (text[j] != '*' || text[j+1] != '/') {
				j++
			}
			if j+1 >= len(text) {
				return word, 0 // never closed
			}
			i = j + 2
		default:
			for j := i; j < len(text) && isWordByte(text[j]); j++ {
				if n == len(word) {
					return word, 0
				}
				word[n] = text[j] | 0x20 // ASCII lower case
				n++
			}
			return word, n
		}
	}
	return word, 0
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// keywordKind maps a lower-cased first keyword to its statement kind.
func keywordKind(word []byte) string {
	switch string(word) {
	case "select", "with", "values", "table":
		return metrics.KindSelect
	case "insert", "replace", "load":
		return metrics.KindInsert
	case "update":
		return metrics.KindUpdate
	case "delete":
		return metrics.KindDelete
	case "create", "alter", "drop", "truncate", "rename":
		return metrics.KindDDL
	case "set":
		return metrics.KindSet
	case "begin", "start", "commit", "rollback", "savepoint", "release", "xa":
		return metrics.KindTx
	case "show", "desc", "describe", "explain":
		return metrics.KindShow
	}
	return metrics.KindOther
}

// secretWords mark statements whose text may hold a password or a key:
// CREATE/ALTER USER ... IDENTIFIED BY, SET PASSWORD, GRANT ... IDENTIFIED,
// CHANGE MASTER ... MASTER_PASSWORD, PASSWORD(), AES_ENCRYPT(..., key).
var secretWords = []string{"identified", "password", "encrypt", "decrypt"}

// loggableStatement is text as it may appear in a log: cut before anything
// that may be a secret, and bounded in length.
func loggableStatement(text string) string {
	cut, redacted := len(text), false
	lower := strings.ToLower(text)
	for _, w := range secretWords {
		if i := strings.Index(lower, w); i >= 0 && i < cut {
			cut, redacted = i+len(w), true
		}
	}
	truncated := false
	if cut > maxLoggedStatement {
		cut, truncated = maxLoggedStatement, true
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
	}
	out := text[:cut]
	switch {
	case redacted && !truncated:
		out += " <redacted>"
	case truncated:
		out += "... (" + strconv.Itoa(len(text)) + " bytes)"
		if redacted {
			out += " <redacted>"
		}
	}
	return out
}

// Healthy reports whether the proxy serves clients: it listens and is not
// shutting down. For the admin server's /healthz.
func (s *Server) Healthy() bool { return s.UnhealthyReason() == "" }

// UnhealthyReason says why /healthz answers 503.
func (s *Server) UnhealthyReason() string {
	switch {
	case s.closing.Load():
		return "shutting down"
	case s.ln == nil:
		return "not listening yet"
	}
	return ""
}

// Topology is the configuration in force with the backends' health, as
// /topology shows it. It names no user and no password.
func (s *Server) Topology() any {
	t := s.topo.Load()
	view := admin.TopologyView{}
	for _, cs := range t.cfg.Schemas {
		sc := t.schema(cs.Name)
		if sc == nil {
			continue
		}
		sv := admin.SchemaView{Name: sc.name, ReadFrom: conf.ReadFromPrimary}
		if sc.readFromReplica {
			sv.ReadFrom = conf.ReadFromReplica
		}
		for i, sh := range sc.shards {
			sv.Shards = append(sv.Shards, admin.ShardView{Index: i, Node: sh.node.Name, Database: sh.db})
		}
		for _, tb := range cs.Tables {
			tv := admin.TableView{Name: tb.Name, Type: "sharded", ShardKey: tb.ShardKey, Algorithm: tb.Algorithm}
			if tb.IsGlobal() {
				tv = admin.TableView{Name: tb.Name, Type: conf.TableGlobal}
			}
			sv.Tables = append(sv.Tables, tv)
		}
		view.Schemas = append(view.Schemas, sv)
	}
	for _, cn := range t.cfg.Nodes {
		n := t.nodes[cn.Name]
		if n == nil {
			continue
		}
		nv := admin.NodeView{Name: n.Name, Primary: admin.BackendView{
			Addr: n.Primary.Addr, Role: metrics.RolePrimary, Healthy: s.primaryUp(n),
		}}
		for _, r := range n.Replicas {
			nv.Replicas = append(nv.Replicas, admin.BackendView{
				Addr: r.Pool.Addr, Role: metrics.RoleReplica, Healthy: r.Healthy(), LagSeconds: lagSeconds(r),
			})
		}
		view.Nodes = append(view.Nodes, nv)
	}
	return view
}

// lagSeconds is the replica's last measured lag, -1 when it did not answer.
func lagSeconds(r *backend.Replica) float64 {
	lag := r.Lag()
	if lag < 0 {
		return -1
	}
	return lag.Seconds()
}

// poolStats snapshots every backend pool for /metrics.
func (s *Server) poolStats() []metrics.PoolStat {
	t := s.topo.Load()
	var out []metrics.PoolStat
	add := func(node, role string, p *backend.Pool, up bool) {
		st := p.Stats()
		out = append(out, metrics.PoolStat{
			Node: node, Role: role, Addr: p.Addr, Up: up,
			Open: st.Open, Idle: st.Idle, InUse: st.InUse,
			Waits: st.Waits, WaitSeconds: st.WaitTime.Seconds(),
		})
	}
	for _, cn := range t.cfg.Nodes {
		n := t.nodes[cn.Name]
		if n == nil {
			continue
		}
		add(n.Name, metrics.RolePrimary, n.Primary, s.primaryUp(n))
		for _, r := range n.Replicas {
			add(n.Name, metrics.RoleReplica, r.Pool, r.Lag() >= 0)
		}
	}
	return out
}

// replicaStats snapshots every replica's health for /metrics.
func (s *Server) replicaStats() []metrics.ReplicaStat {
	t := s.topo.Load()
	var out []metrics.ReplicaStat
	for _, cn := range t.cfg.Nodes {
		n := t.nodes[cn.Name]
		if n == nil {
			continue
		}
		for _, r := range n.Replicas {
			out = append(out, metrics.ReplicaStat{Node: n.Name, Addr: r.Pool.Addr, Healthy: r.Healthy(), LagSeconds: lagSeconds(r)})
		}
	}
	return out
}

// primaryUp reports whether the node's primary answered its last check; a
// node not checked yet counts as up, as replicas do.
func (s *Server) primaryUp(n *backend.Node) bool {
	v, ok := s.primaries.Load(n)
	return !ok || v.(bool)
}

// checkPrimaries pings every primary of the topology in force until ctx
// ends. Statements do not consult the result: it informs operators only.
func (s *Server) checkPrimaries(ctx context.Context) {
	t := time.NewTicker(primaryCheckInterval)
	defer t.Stop()
	for {
		topo := s.topo.Load()
		var wg sync.WaitGroup
		for _, n := range topo.nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.primaries.Store(n, pingPool(ctx, n.Primary))
			}()
		}
		wg.Wait()
		// Forget nodes a reload dropped.
		s.primaries.Range(func(k, _ any) bool {
			if n := k.(*backend.Node); topo.nodes[n.Name] != n {
				s.primaries.Delete(k)
			}
			return true
		})
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func pingPool(ctx context.Context, p *backend.Pool) bool {
	ctx, cancel := context.WithTimeout(ctx, primaryCheckInterval)
	defer cancel()
	c, err := p.Get(ctx, false)
	if err != nil {
		return false
	}
	_, err = c.Exec(ctx, "SELECT 1")
	if err != nil {
		c.MarkBroken()
	}
	p.Put(c)
	return err == nil
}

// startAdmin serves admin_listen.
func (s *Server) startAdmin(addr string) error {
	a := admin.New(addr, s.metrics, s, s.log)
	if err := a.Start(); err != nil {
		return err
	}
	s.admin = a
	return nil
}

// AdminAddr is the admin server's bound address, "" before Listen.
func (s *Server) AdminAddr() string {
	if s.admin == nil {
		return ""
	}
	return s.admin.Addr()
}

// stopAdmin stops the admin server once the proxy has drained.
func (s *Server) stopAdmin() {
	if s.admin == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.admin.Shutdown(ctx)
}

// reloadNotes logs what a reload cannot change without a restart.
func (s *Server) reloadNotes(old, next *conf.Config) {
	if old.AdminListen != next.AdminListen {
		s.log.Warn("admin_listen changed; it takes effect at the next restart", zap.String("in_force", old.AdminListen))
	}
	if old.Listen != next.Listen {
		s.log.Warn("listen changed; it takes effect at the next restart", zap.String("in_force", old.Listen))
	}
}

// refused counts a connection turned away before its session began.
func (s *Server) refused(reason string, code uint16) {
	s.metrics.ConnRefused(reason)
	s.metrics.Error(code)
}

var _ admin.Source = (*Server)(nil)
var _ admin.HealthReasoner = (*Server)(nil)
