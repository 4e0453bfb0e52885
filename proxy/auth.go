package proxy

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net"
	"sync"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/server"

	"github.com/shardproxy/shardproxy/metrics"
	"github.com/shardproxy/shardproxy/wire"
)

// credentials answers go-mysql's handshake for one connection.
type credentials struct {
	srv     *Server
	topo    *topology
	sniff   *sniffConn
	db      string // schema named in the handshake
	decoy   string // password for unknown users, so they fail like a wrong password
	user    string
	checked bool
}

// GetCredential returns the configured password. Unknown users get a random
// one: the login then fails with the same 1045 as a wrong password, so a
// client cannot probe which users exist.
func (c *credentials) GetCredential(username string) (server.Credential, bool, error) {
	plugin := mysql.AUTH_NATIVE_PASSWORD
	if c.sniff != nil {
		// A client that already answered with a caching_sha2_password
		// scramble is checked in that method instead of being made to
		// switch; one that sent no scramble expects the switch.
		if name, scramble := c.sniff.plugin(); name == mysql.AUTH_CACHING_SHA2_PASSWORD && scramble == 32 {
			plugin = mysql.AUTH_CACHING_SHA2_PASSWORD
		}
	}
	u, ok := c.topo.users[username]
	if !ok {
		return server.Credential{Passwords: []string{c.decoy}, AuthPluginName: plugin}, true, nil
	}
	return server.Credential{Passwords: []string{u.Password}, AuthPluginName: plugin}, true, nil
}

// OnAuthSuccess checks the schema named in the handshake.
func (c *credentials) OnAuthSuccess(conn *server.Conn) error {
	c.user = conn.GetUser()
	// The login's OK says the session is in autocommit mode, as the
	// greeting does (patchGreeting): libmariadb's clients read it there.
	conn.SetStatus(wire.StatusAutocommit)
	if _, secure := conn.Conn.Conn.(*tls.Conn); c.topo.cfg.RequireSecureTransport && !secure {
		// Refused in place of the OK, so the client sees it at login.
		c.srv.refused(metrics.RefusedTLS, erSecureTransport)
		return mysql.NewError(erSecureTransport, "Connections using insecure transport are prohibited while require_secure_transport is on; connect with TLS")
	}
	if c.db == "" {
		return nil
	}
	if err := checkSchemaAccess(c.topo, c.topo.users[c.user], c.db); err != nil {
		c.srv.metrics.Error(err.Code)
		return mysql.NewError(err.Code, err.Message)
	}
	return nil
}

// OnAuthFailure counts a refused login; go-mysql also calls it for a
// handshake that failed for other reasons (garbage, a dropped connection).
func (c *credentials) OnAuthFailure(_ *server.Conn, err error) {
	var me *mysql.MyError
	if !errors.As(err, &me) {
		return
	}
	if me.Code == erAccessDenied {
		c.srv.refused(metrics.RefusedAuth, erAccessDenied)
		return
	}
	c.srv.metrics.Error(me.Code)
}

// handshakeHandler receives the handshake's schema; go-mysql calls UseDB
// before authentication completes, so it is only recorded here.
type handshakeHandler struct {
	server.EmptyHandler
	creds *credentials
}

func (h handshakeHandler) UseDB(db string) error {
	h.creds.db = db
	return nil
}

func randomPassword() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// sniffConn records the first packet the client sends (its handshake
// response) so the auth method it asked for can be read from it.
type sniffConn struct {
	net.Conn
	mu      sync.Mutex
	seen    []byte
	done    bool
	greeted bool
	seed    []byte // the greeting's, which COM_CHANGE_USER scrambles too
}

// Capabilities the greeting must offer beyond go-mysql's fixed set: clients
// (go-sql-driver among them) only use what the server advertises.
const (
	addedCapabilities   = wire.ClientMultiStatements | wire.ClientFoundRows | wire.ClientLocalFiles
	removedCapabilities = wire.ClientSessionTrack
)

// Write patches the capability flags of the initial handshake packet, the
// first thing the server writes; go-mysql offers no option for them.
func (s *sniffConn) Write(p []byte) (int, error) {
	if !s.greeted {
		s.greeted = true
		patchGreeting(p)
		s.seed, _ = wire.GreetingSeed(p)
	}
	return s.Conn.Write(p)
}

func patchGreeting(p []byte) {
	low, high, ext, ok := wire.GreetingCaps(p)
	if !ok {
		return
	}
	caps := uint32(binary.LittleEndian.Uint16(p[low:])) | uint32(binary.LittleEndian.Uint16(p[high:]))<<16
	caps = caps | addedCapabilities&^removedCapabilities
	caps &^= removedCapabilities
	// Announce MariaDB's extended capabilities (as MariaDB does, by not
	// setting CLIENT_MYSQL): clients that cache result metadata then skip
	// it on re-executions of prepared statements.
	caps &^= wire.ClientMySQL
	binary.LittleEndian.PutUint16(p[low:], uint16(caps))
	binary.LittleEndian.PutUint16(p[high:], uint16(caps>>16))
	binary.LittleEndian.PutUint32(p[ext:], wire.MariaDBCacheMetadata)
	// A session starts in autocommit mode, and says so as MariaDB does:
	// PyMySQL reads the flag here (mysqlclient in the login's OK) and
	// sends SET AUTOCOMMIT = 0 only when it is set; without it, their
	// transactions were autocommitted.
	binary.LittleEndian.PutUint16(p[high-2:], wire.StatusAutocommit)
}

// extendedCaps returns the MariaDB extended capabilities the client asked
// for in its handshake response (or SSL request), 0 for a MySQL client.
func (s *sniffConn) extendedCaps() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.seen
	if len(b) < 4+wire.ExtCapsResponseOffset+4 {
		return 0
	}
	p := b[4:]
	if binary.LittleEndian.Uint32(p)&wire.ClientMySQL != 0 {
		return 0
	}
	return binary.LittleEndian.Uint32(p[wire.ExtCapsResponseOffset:])
}

func (s *sniffConn) Read(p []byte) (int, error) {
	n, err := s.Conn.Read(p)
	s.mu.Lock()
	if !s.done && n > 0 {
		s.seen = append(s.seen, p[:n]...)
		if len(s.seen) > 8192 {
			s.done = true
		}
	}
	s.mu.Unlock()
	return n, err
}

// plugin parses the auth plugin name and the length of the auth data out of
// the handshake response.
func (s *sniffConn) plugin() (name string, authLen int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = true
	b := s.seen
	if len(b) < 4 {
		return "", 0
	}
	n := wire.PayloadLen(b)
	if len(b) < 4+n || n < 32 {
		return "", 0
	}
	p := b[4 : 4+n]
	caps := binary.LittleEndian.Uint32(p)
	pos := 32
	end := bytes.IndexByte(p[pos:], 0) // user name
	if end < 0 {
		return "", 0
	}
	pos += end + 1
	switch {
	case caps&mysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0:
		l, _, m := wire.ReadLenEncInt(p[pos:])
		if m == 0 {
			return "", 0
		}
		authLen = int(l)
		pos += m + authLen
	case caps&mysql.CLIENT_SECURE_CONNECTION != 0:
		if pos >= len(p) {
			return "", 0
		}
		authLen = int(p[pos])
		pos += 1 + authLen
	default:
		end := bytes.IndexByte(p[pos:], 0)
		if end < 0 {
			return "", 0
		}
		authLen = end
		pos += end + 1
	}
	if caps&mysql.CLIENT_CONNECT_WITH_DB != 0 {
		if pos > len(p) {
			return "", 0
		}
		end := bytes.IndexByte(p[pos:], 0)
		if end < 0 {
			return "", 0
		}
		pos += end + 1
	}
	if caps&mysql.CLIENT_PLUGIN_AUTH == 0 || pos > len(p) {
		return "", 0
	}
	end = bytes.IndexByte(p[pos:], 0)
	if end < 0 {
		return string(p[pos:]), authLen
	}
	return string(p[pos : pos+end]), authLen
}
