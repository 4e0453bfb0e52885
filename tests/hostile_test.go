package tests

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/binary"
	"encoding/pem"
	"math/big"
	mrand "math/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
)

// stillServes fails the test unless a fresh client can log in and query.
func stillServes(t *testing.T, p *runningProxy, after string) {
	t.Helper()
	db, err := sql.Open("mysql", p.dsn("ptdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var one int
	if err := db.QueryRow("SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("after %s the proxy no longer serves: %v", after, err)
	}
}

func rawDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// TestHostileInput sends garbage at every stage of a connection: before
// and during the handshake, and after login as commands. Each bad client
// loses its own connection at most; the proxy keeps serving the others.
func TestHostileInput(t *testing.T) {
	p, _, _ := passThrough(t)
	rng := mrand.New(mrand.NewSource(1))

	preAuth := map[string][]byte{
		"random bytes":             randomBytes(rng, 300),
		"oversized length header":  {0xff, 0xff, 0xff, 1},
		"truncated handshake":      {0x40, 0, 0, 1, 0x85, 0xa6},
		"wrong sequence id":        append([]byte{4, 0, 0, 9}, 1, 2, 3, 4),
		"empty handshake response": {0, 0, 0, 1},
		"SSL request without TLS":  append([]byte{32, 0, 0, 1, 0x00, 0x0a, 0, 0}, make([]byte, 28)...),
		"huge auth length":         append([]byte{40, 0, 0, 1, 0x05, 0xa6, 0x2f, 0}, append(make([]byte, 28), 'x', 0, 0xfe, 0xff, 0xff)...),
		"connect with db, no nul":  append([]byte{42, 0, 0, 1, 0x0d, 0xa6, 0x0f, 0}, append(make([]byte, 28), 'a', 'p', 'p', 0, 0, 'd', 'b', 'x')...),
	}
	for name, payload := range preAuth {
		c := rawDial(t, p.addr)
		buf := make([]byte, 4096)
		_, _ = c.Read(buf) // the greeting
		_, _ = c.Write(payload)
		// An answer is optional (the proxy may wait for more bytes); the
		// point is what happens to the others.
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, _ = c.Read(buf)
		c.Close()
		stillServes(t, p, name)
	}
	// Mid-handshake disconnects.
	for i := 0; i < 20; i++ {
		c := rawDial(t, p.addr)
		if i%2 == 0 {
			buf := make([]byte, 16)
			_, _ = c.Read(buf)
		}
		c.Close()
	}
	stillServes(t, p, "clients leaving mid-handshake")

	// After login: malformed commands.
	commands := map[string][]byte{
		"oversized length header":      {0xff, 0xff, 0xff, 0, 0x03},
		"wrong sequence id":            {1, 0, 0, 5, 0x0e},
		"truncated COM_STMT_EXECUTE":   {3, 0, 0, 0, 0x17, 1, 0},
		"execute of unknown statement": append([]byte{11, 0, 0, 0, 0x17}, 99, 0, 0, 0, 0, 1, 0, 0, 0, 0),
		"unknown command":              {1, 0, 0, 0, 0xee},
		"COM_STMT_CLOSE of nothing":    {1, 0, 0, 0, 0x19},
		"long data for nothing":        {3, 0, 0, 0, 0x18, 1, 2},
		"COM_INIT_DB of garbage":       {4, 0, 0, 0, 0x02, 0xff, 0xfe, 0},
		"random packet":                append([]byte{200, 0, 0, 0}, randomBytes(rng, 200)...),
	}
	for name, pkt := range commands {
		c, err := client.Connect(p.addr, appUser, appPassword, "ptdb")
		if err != nil {
			t.Fatal(err)
		}
		nc := c.Conn.Conn
		_ = nc.SetDeadline(time.Now().Add(300 * time.Millisecond))
		_, _ = nc.Write(pkt)
		buf := make([]byte, 1024)
		_, _ = nc.Read(buf)
		c.Close()
		stillServes(t, p, name)
	}
	// A prepared statement executed with parameters that do not parse.
	c, err := client.Connect(p.addr, appUser, appPassword, "ptdb")
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Prepare("SELECT ?, ?")
	if err != nil {
		t.Fatal(err)
	}
	bad := []byte{0x17}
	bad = binary.LittleEndian.AppendUint32(bad, st.ID)
	bad = append(bad, 0, 1, 0, 0, 0, 0, 1, 0xfd, 0, 0xfd, 0, 0xfe, 0xff, 0xff, 0xff, 0xff)
	c.ResetSequence()
	_ = c.WritePacket(append(make([]byte, 4), bad...))
	reply, err := c.ReadPacket()
	if err != nil || reply[0] != 0xff {
		t.Fatalf("malformed execute got %v %x, want an error packet", err, reply)
	}
	if err := c.Ping(); err != nil {
		t.Fatalf("session unusable after a malformed execute: %v", err)
	}
	// An execute naming no prepared statement: MySQL's 1243, and the
	// session goes on.
	unknown := binary.LittleEndian.AppendUint32([]byte{0x17}, st.ID+1000)
	unknown = append(unknown, 0, 1, 0, 0, 0)
	c.ResetSequence()
	_ = c.WritePacket(append(make([]byte, 4), unknown...))
	if reply, err = c.ReadPacket(); err != nil || reply[0] != 0xff || binary.LittleEndian.Uint16(reply[1:]) != 1243 {
		t.Fatalf("execute of an unknown statement got %v %x, want error 1243", err, reply)
	}
	if err := c.Ping(); err != nil {
		t.Fatalf("session unusable after executing an unknown statement: %v", err)
	}
	c.Close()
	stillServes(t, p, "malformed execute")
}

func randomBytes(rng *mrand.Rand, n int) []byte {
	b := make([]byte, n)
	rng.Read(b)
	return b
}

// selfSignedCert writes a throwaway certificate and key for 127.0.0.1.
func selfSignedCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "shardproxy-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

func TestTLSAndRequireSecureTransport(t *testing.T) {
	cfg := baseConfig()
	passThroughSchema(cfg, "ptdb")
	cfg.TLS.Cert, cfg.TLS.Key = selfSignedCert(t)
	cfg.RequireSecureTransport = true
	p := startProxy(t, cfg)
	plain, _ := sql.Open("mysql", p.dsn("ptdb"))
	defer plain.Close()
	if err := plain.Ping(); mysqlCode(err) != 3159 {
		t.Fatalf("plain connection with require_secure_transport: %v, want 3159", err)
	}
	secure, _ := sql.Open("mysql", p.dsn("ptdb", "tls=skip-verify"))
	defer secure.Close()
	var name string
	if err := secure.QueryRow("SELECT 'over tls'").Scan(&name); err != nil || name != "over tls" {
		t.Fatalf("TLS connection: %v", err)
	}
	// caching_sha2_password over TLS: the password travels in clear inside TLS.
	out, err := mariadbCLI(t, p.addr, "", "--ssl", "--ssl-verify-server-cert=0", "--default-auth=caching_sha2_password", "ptdb", "-e", "SELECT 'sha2 over tls'")
	if err != nil || !strings.Contains(out, "sha2 over tls") {
		t.Fatalf("mariadb over TLS with caching_sha2_password: %v\n%s", err, out)
	}
}
