package wire

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) { return socketPair(t, "tcp") }

// socketPair connects two sockets of network ("tcp" or "unix").
func socketPair(t *testing.T, network string) (client, server net.Conn) {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "s.sock")
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	client, err = net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// echoServer answers every packet with its payload reversed, n times.
func echoServer(t *testing.T, conn net.Conn, n int) <-chan error {
	done := make(chan error, 1)
	go func() {
		io := NewPacketIO(conn)
		for i := 0; i < n; i++ {
			io.SetSeq(0)
			p, err := io.ReadPacket()
			if err != nil {
				done <- err
				return
			}
			reply := make([]byte, len(p))
			for j := range p {
				reply[len(p)-1-j] = p[j]
			}
			if err := io.WritePacket(reply); err != nil {
				done <- err
				return
			}
			if err := io.Flush(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	return done
}

func TestFlushAwaitReplyExchanges(t *testing.T) {
	client, server := tcpPair(t)
	sizes := []int{1, 100, smallReadSize, smallReadSize + 1, 70000, 3 << 20}
	done := echoServer(t, server, len(sizes))
	c := NewRequestIO(client)
	if c.request == nil {
		t.Fatal("a TCP connection should take the raw path")
	}
	for _, n := range sizes {
		req := bytes.Repeat([]byte("abcdefg"), n/7+1)[:n]
		c.SetSeq(0)
		if err := c.WritePacket(req); err != nil {
			t.Fatal(err)
		}
		if err := c.FlushAwaitReply(); err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		// A request that fits the write buffer goes out with the wait,
		// which reads the reply; a larger one the usual way.
		if fits := n+4 <= ioBufSize; fits && c.ReadBuffered() == 0 {
			t.Fatalf("%d bytes: the reply was not read by the wait itself", n)
		}
		got, err := c.ReadPacket()
		if err != nil {
			t.Fatalf("%d bytes: reply: %v", n, err)
		}
		if len(got) != n || got[0] != req[n-1] || got[n-1] != req[0] {
			t.Fatalf("%d bytes: reply of %d bytes does not mirror the request", n, len(got))
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A request larger than the write buffer is partly sent while it is
// buffered, so its reply can arrive before FlushAwaitReply: the wait must
// still see it (it used to wait forever for a wake-up already spent).
func TestFlushAwaitReplyAfterEarlyReply(t *testing.T) {
	client, server := tcpPair(t)
	replied := make(chan error, 1)
	go func() {
		io := NewPacketIO(server)
		p, err := io.ReadPacket()
		if err == nil {
			err = io.WritePacket(p[:10])
		}
		if err == nil {
			err = io.Flush()
		}
		replied <- err
	}()
	c := NewRequestIO(client)
	if err := c.WritePacket(bytes.Repeat([]byte{1}, 3*ioBufSize)); err != nil {
		t.Fatal(err)
	}
	if err := <-replied; err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // the reply is in the client's socket
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := c.FlushAwaitReply(); err != nil {
		t.Fatal(err)
	}
	got, err := c.ReadPacket()
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	if len(got) != 10 {
		t.Fatalf("reply of %d bytes, want 10", len(got))
	}
}

// A request larger than the socket takes at once (the peer reads only
// after a while) must still arrive whole, and its reply be read.
func TestFlushAwaitReplyPartialWrite(t *testing.T) {
	client, server := tcpPair(t)
	if tc, ok := client.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	done := make(chan error, 1)
	go func() {
		time.Sleep(50 * time.Millisecond)
		done <- <-echoServer(t, server, 1)
	}()
	c := NewRequestIO(client)
	req := bytes.Repeat([]byte{7, 8, 9}, 100<<10)
	if err := c.WritePacket(req); err != nil {
		t.Fatal(err)
	}
	if err := c.FlushAwaitReply(); err != nil {
		t.Fatal(err)
	}
	got, err := c.ReadPacket()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(req) {
		t.Fatalf("reply of %d bytes, want %d", len(got), len(req))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A deadline reached while waiting ends the wait; a closed peer is an EOF.
func TestFlushAwaitReplyDeadlineAndEOF(t *testing.T) {
	client, server := tcpPair(t)
	c := NewRequestIO(client)
	if err := c.WritePacket([]byte("no answer")); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(30 * time.Millisecond)
		_ = client.SetReadDeadline(time.Unix(1, 0))
	}()
	start := time.Now()
	err := c.FlushAwaitReply()
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the wait ended after %v", d)
	}

	_ = client.SetReadDeadline(time.Time{})
	if err := c.WritePacket([]byte("peer gone")); err != nil {
		t.Fatal(err)
	}
	server.Close()
	if err := c.FlushAwaitReply(); err == nil {
		if _, err = c.ReadPacket(); err == nil {
			t.Fatal("a closed peer gave no error")
		}
	}
}

// Connections without a descriptor (net.Pipe, TLS) flush as usual.
func TestFlushAwaitReplyWithoutDescriptor(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	done := echoServer(t, b, 1)
	c := NewRequestIO(a)
	if c.request != nil {
		t.Fatal("net.Pipe has no descriptor")
	}
	if err := c.WritePacket([]byte("pipe")); err != nil {
		t.Fatal(err)
	}
	if err := c.FlushAwaitReply(); err != nil {
		t.Fatal(err)
	}
	got, err := c.ReadPacket()
	if err != nil || string(got) != "epip" {
		t.Fatalf("got %q, %v", got, err)
	}
	if err := <-done; err != nil && err != io.EOF {
		t.Fatal(err)
	}
}
