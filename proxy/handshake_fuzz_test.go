package proxy

import (
	"crypto/rand"
	"crypto/rsa"
	"net"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/server"
	"go.uber.org/zap"

	"github.com/shardproxy/shardproxy/conf"
)

// fuzzServer is a proxy with no reachable backends: enough for handshakes.
func fuzzServer(f *testing.F) *Server {
	cfg := &conf.Config{
		MaxConnections: 100,
		Users:          []conf.User{{Name: "app", Password: "pw"}},
		Nodes:          []conf.Node{{Name: "n0", Primary: "127.0.0.1:1", Pool: conf.Pool{MaxOpen: 1}}},
		Schemas:        []conf.Schema{{Name: "shop", Shards: []conf.Shard{{Node: "n0", Database: "s0"}}}},
	}
	topo, err := newTopology(cfg, nil)
	if err != nil {
		f.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	s := &Server{log: zap.NewNop()}
	s.topo.Store(topo)
	s.my = server.NewServer(fallbackVersion, 45, mysql.AUTH_NATIVE_PASSWORD, key, nil)
	return s
}

// FuzzHandshakeResponse sends arbitrary handshake responses (and what may
// follow them) to a proxy connection: no input may panic.
func FuzzHandshakeResponse(f *testing.F) {
	s := fuzzServer(f)
	f.Add([]byte{0x85, 0xa6, 0x0f, 0, 0, 0, 0, 1, 45}, []byte{})
	f.Add(append(append([]byte{0x8d, 0xa2, 0x0f, 0x00, 0, 0, 0, 1, 45}, make([]byte, 23)...), []byte("app\x00\x14aaaaaaaaaaaaaaaaaaaashop\x00mysql_native_password\x00")...), []byte{0x0e})
	f.Add(append(append([]byte{0x8d, 0xa2, 0x0f, 0x00, 0, 0, 0, 1, 45}, make([]byte, 23)...), []byte("app\x00\x20bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\x00caching_sha2_password\x00")...), []byte{2})
	f.Add([]byte{0x00, 0x02, 0, 0}, []byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, response, after []byte) {
		if len(response) > 1<<16 {
			return
		}
		client, proxySide := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.serveConn(proxySide)
		}()
		_ = client.SetDeadline(time.Now().Add(time.Second))
		// net.Pipe is synchronous: read everything the proxy says while
		// writing, or both sides wait for each other.
		go func() {
			buf := make([]byte, 1024)
			for {
				if _, err := client.Read(buf); err != nil {
					return
				}
			}
		}()
		n := len(response)
		_, _ = client.Write(append([]byte{byte(n), byte(n >> 8), byte(n >> 16), 1}, response...))
		if len(after) > 0 {
			_, _ = client.Write(after)
		}
		client.Close()
		<-done
	})
}

func TestSniffPluginFromResponse(t *testing.T) {
	resp := append(append([]byte{0x8d, 0xa2, 0x0f, 0x00, 0, 0, 0, 1, 45}, make([]byte, 23)...), []byte("app\x00\x20bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbshop\x00caching_sha2_password\x00")...)
	n := len(resp)
	s := &sniffConn{seen: append([]byte{byte(n), byte(n >> 8), byte(n >> 16), 1}, resp...)}
	name, authLen := s.plugin()
	if name != "caching_sha2_password" || authLen != 32 {
		t.Fatalf("plugin() = %q, %d", name, authLen)
	}
}
