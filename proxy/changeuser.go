package proxy

import (
	"crypto/subtle"
	"net"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardproxy/shardproxy/metrics"
	"github.com/shardproxy/shardproxy/wire"
)

// handleChangeUser serves COM_CHANGE_USER (PHP's persistent connections and
// C connectors' mysql_change_user send it). As on MariaDB, the session is
// reset whether or not the new login succeeds, and a failed one keeps the
// user and schema it had.
func (s *Session) handleChangeUser(data []byte) error {
	cu, ok := wire.ParseChangeUser(data, s.capability)
	if !ok {
		return s.writeError(errorf(erUnknownCommand, "malformed COM_CHANGE_USER packet"))
	}
	if cu.Charset != 0 {
		s.charset = byte(cu.Charset)
	}
	s.resetSession()
	scramble := cu.Auth
	if cu.Plugin != "" && cu.Plugin != mysql.AUTH_NATIVE_PASSWORD {
		// Scrambled another way (caching_sha2_password): the client is
		// asked again in mysql_native_password, with the greeting's seed,
		// as MariaDB asks it.
		if err := s.io.WritePacket(wire.AppendAuthSwitch(nil, mysql.AUTH_NATIVE_PASSWORD, s.seed)); err != nil {
			return err
		}
		if err := s.io.Flush(); err != nil {
			return err
		}
		// Bounded as a login is: a client that never answers ends.
		_ = s.io.Conn().SetReadDeadline(time.Now().Add(handshakeTimeout))
		var err error
		if scramble, err = s.io.ReadPacket(); err != nil {
			return err
		}
		_ = s.io.Conn().SetReadDeadline(time.Time{})
	}
	u, known := s.topo().users[cu.User]
	if !known || !nativePasswordMatches(u.Password, s.seed, scramble) {
		s.srv.refused(metrics.RefusedAuth, erAccessDenied)
		using := "YES"
		if len(scramble) == 0 {
			using = "NO"
		}
		return s.writeError(errorf(erAccessDenied, "Access denied for user '%s'@'%s' (using password: %s)", cu.User, s.clientHost(), using))
	}
	previous := s.user
	s.user = cu.User
	if cu.Schema == "" {
		s.schemaName = ""
	} else if werr := s.useSchema(cu.Schema); werr != nil {
		s.user = previous
		return s.writeError(werr)
	}
	return s.writeOK(wire.OK{})
}

// nativePasswordMatches checks a mysql_native_password scramble of seed.
func nativePasswordMatches(password string, seed, scramble []byte) bool {
	want := mysql.CalcNativePassword(seed, []byte(password))
	return subtle.ConstantTimeCompare(want, scramble) == 1 // both empty for no password
}

// clientHost is the client's address as MariaDB names it in errors.
func (s *Session) clientHost() string {
	host, _, err := net.SplitHostPort(s.io.Conn().RemoteAddr().String())
	if err != nil {
		return "unknown"
	}
	return host
}
