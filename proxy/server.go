// Package proxy accepts MySQL clients and serves their sessions: commands,
// session state, transactions and prepared statements, executed on backends.
package proxy

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/server"
	"go.uber.org/zap"

	"github.com/shardproxy/shardproxy/admin"
	"github.com/shardproxy/shardproxy/conf"
	"github.com/shardproxy/shardproxy/metrics"
	"github.com/shardproxy/shardproxy/wire"
)

const handshakeTimeout = 10 * time.Second

// fallbackVersion is announced when no backend answers at start.
const fallbackVersion = "5.5.5-10.11.0-MariaDB-shardproxy"

// Server is the client-facing proxy.
type Server struct {
	log     *zap.Logger
	topo    atomic.Pointer[topology]
	my      *server.Server
	tls     bool
	ln      net.Listener
	version string
	started time.Time // for COM_STATISTICS' uptime

	sessions sync.Map // connection id → *Session
	inflight sync.Map // gtrids this process is committing: recovery leaves them alone
	stop     context.CancelFunc
	active   atomic.Int64
	wg       sync.WaitGroup
	closing  atomic.Bool

	metrics   *metrics.Metrics
	admin     *admin.Server
	primaries sync.Map // *backend.Node → bool: did the primary answer its last check
	control   controlCache
}

// New prepares a server for cfg; Listen binds it.
func New(cfg *conf.Config, log *zap.Logger) (*Server, error) {
	s := &Server{log: log, metrics: metrics.New(), started: time.Now()}
	s.metrics.SetBackendSource(s.poolStats, s.replicaStats)
	topo, err := newTopology(cfg, nil)
	if err != nil {
		return nil, err
	}
	s.topo.Store(topo)
	var tlsConf *tls.Config
	if cfg.TLS.Cert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLS.Cert, cfg.TLS.Key)
		if err != nil {
			return nil, fmt.Errorf("tls.cert/tls.key: %w", err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		s.tls = true
	}
	// caching_sha2_password without TLS exchanges the password under RSA.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	s.version = s.backendVersion()
	s.ensureDatabases()
	bg, stop := context.WithCancel(context.Background())
	s.stop = stop
	go s.recoverXA(bg)
	go s.checkPrimaries(bg)
	go s.watchTimeouts(bg.Done())
	s.my = server.NewServer(s.version, uint8(wire.CharsetUTF8MB4), mysql.AUTH_NATIVE_PASSWORD, key, tlsConf)
	return s, nil
}

// backendVersion announces what the backends are, so that clients detect
// MariaDB features as they would connecting directly.
func (s *Server) backendVersion() string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, n := range s.topo.Load().nodes {
		c, err := n.Primary.Get(ctx, false)
		if err != nil {
			continue
		}
		res, err := c.Exec(ctx, "SELECT VERSION()")
		n.Primary.Put(c)
		if err == nil && len(res.Rows) == 1 && res.Rows[0][0] != nil {
			return "5.5.5-" + string(res.Rows[0][0])
		}
	}
	return fallbackVersion
}

// ensureDatabases creates shard databases that do not exist yet, so that a
// new deployment needs nothing but the YAML file. A node that is down is
// skipped: its databases are created on a later start.
func (s *Server) ensureDatabases() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, sc := range s.topo.Load().schemas {
		if !sc.passThrough() {
			s.ensureSystemTables(ctx, sc)
		}
		for _, sh := range sc.shards {
			c, err := sh.node.Primary.Get(ctx, false)
			if err != nil {
				s.log.Warn("backend unreachable at start", zap.String("node", sh.node.Name), zap.Error(err))
				continue
			}
			if _, err := c.Exec(ctx, "CREATE DATABASE IF NOT EXISTS `"+strings.ReplaceAll(sh.db, "`", "``")+"`"); err != nil {
				s.log.Warn("cannot create shard database", zap.String("node", sh.node.Name), zap.String("database", sh.db), zap.Error(err))
			}
			sh.node.Primary.Put(c)
		}
	}
}

// ensureSystemTables creates the proxy's own tables on a sharded schema's
// default shard: the id sequences and the 2PC decision log.
func (s *Server) ensureSystemTables(ctx context.Context, sc *schema) {
	sh := sc.shards[sc.defaultShard]
	c, err := sh.node.Primary.Get(ctx, false)
	if err != nil {
		return
	}
	defer sh.node.Primary.Put(c)
	fail := func(err error) {
		s.log.Warn("cannot create the proxy's tables", zap.String("schema", sc.name), zap.String("database", sh.db), zap.Error(err))
	}
	if _, err := c.Exec(ctx, "CREATE DATABASE IF NOT EXISTS `"+strings.ReplaceAll(sh.db, "`", "``")+"`"); err != nil {
		fail(err)
		return
	}
	if err := c.UseDB(ctx, sh.db); err != nil {
		fail(err)
		return
	}
	for _, ddl := range []string{createSequenceTable, createDecisionTable} {
		if _, err := c.Exec(ctx, ddl); err != nil {
			fail(err)
			return
		}
	}
}

// Listen binds the client address, and admin_listen for the admin server.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	adminAddr := s.topo.Load().cfg.AdminListen
	if err := s.startAdmin(adminAddr); err != nil {
		_ = ln.Close()
		return fmt.Errorf("admin_listen %s: %w", adminAddr, err)
	}
	s.ln = ln
	s.log.Info("listening", zap.String("addr", ln.Addr().String()))
	return nil
}

// Addr is the bound client address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve accepts clients until Shutdown.
func (s *Server) Serve() error {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(nc)
		}()
	}
}

func (s *Server) serveConn(nc net.Conn) {
	defer nc.Close()
	defer func() {
		// The connection boundary: a bug in serving one client must not
		// take the others down.
		if r := recover(); r != nil {
			s.log.Error("connection panic", zap.Any("panic", r), zap.Stack("stack"))
		}
	}()
	topo := s.topo.Load()
	n := s.active.Add(1)
	defer s.active.Add(-1)
	if n > int64(topo.cfg.MaxConnections) {
		s.refused(metrics.RefusedMaxConnections, erTooManyConnections)
		refuse(nc, errorf(erTooManyConnections, "Too many connections"))
		return
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	_ = nc.SetDeadline(time.Now().Add(handshakeTimeout))
	sniff := &sniffConn{Conn: nc}
	creds := &credentials{srv: s, topo: topo, sniff: sniff, decoy: randomPassword()}
	sc, err := s.my.NewCustomizedConn(sniff, creds, handshakeHandler{creds: creds})
	if err != nil {
		s.log.Debug("handshake failed", zap.String("remote", nc.RemoteAddr().String()), zap.Error(err))
		return
	}
	_ = nc.SetDeadline(time.Time{})
	transport := sc.Conn.Conn
	if transport == net.Conn(sniff) {
		transport = nc
	}
	_, secure := transport.(*tls.Conn)
	sess := newSession(s, sc.ConnectionID(), transport, sc.Capability(), creds.user, byte(sc.Charset()))
	sess.cacheMetadata = sniff.extendedCaps()&wire.MariaDBCacheMetadata != 0
	sess.seed = sniff.seed
	if topo.cfg.RequireSecureTransport && !secure {
		sess.writeError(errorf(erSecureTransport, "Connections using insecure transport are prohibited while require_secure_transport is on; connect with TLS"))
		_ = sess.io.Flush()
		return
	}
	if creds.db != "" {
		sess.schemaName = topo.schema(creds.db).name
	}
	s.metrics.ConnOpened()
	defer s.metrics.ConnClosed()
	s.sessions.Store(sess.id, sess)
	defer s.sessions.Delete(sess.id)
	sess.run()
}

// refuse answers a connection that is not served with an error as its greeting.
func refuse(nc net.Conn, e *wire.Error) {
	io := wire.NewPacketIO(nc)
	_ = io.WritePacket(wire.AppendError(nil, e))
	_ = io.Flush()
}

// Shutdown stops accepting, lets sessions finish their statement or
// transaction until ctx ends, then closes what is left.
func (s *Server) Shutdown(ctx context.Context) {
	s.closing.Store(true)
	if s.ln != nil {
		_ = s.ln.Close()
	}
	s.sessions.Range(func(_, v any) bool {
		v.(*Session).drain()
		return true
	})
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.sessions.Range(func(_, v any) bool {
			v.(*Session).kill(false)
			return true
		})
		<-done
	}
	s.stop()
	for _, n := range s.topo.Load().nodes {
		n.Close()
	}
	s.stopAdmin()
}

// metricsXA counts a two-phase commit outcome.
func (s *Server) metricsXA(outcome string) { s.metrics.XA(outcome) }

// Reload puts a new configuration in force for new statements.
func (s *Server) Reload(cfg *conf.Config) error {
	old := s.topo.Load()
	next, err := newTopology(cfg, old)
	if err != nil {
		return err
	}
	s.reloadNotes(old.cfg, cfg)
	s.topo.Store(next)
	old.closeUnused(next)
	s.ensureDatabases()
	return nil
}

// Sessions is the number of connected clients.
func (s *Server) Sessions() int64 { return s.active.Load() }
