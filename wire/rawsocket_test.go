package wire

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// A write larger than the socket buffers must wait for the peer to read
// (EAGAIN, then the poller) and still deliver every byte in order, on TCP
// and on Unix sockets (a backend address may be a socket path).
func TestRawSocketLargeTransfer(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) { testRawSocketLargeTransfer(t, network) })
	}
}

func testRawSocketLargeTransfer(t *testing.T, network string) {
	a, b := socketPair(t, network)
	sa, sb := NewRawSocket(a), NewRawSocket(b)
	if sa == nil || sb == nil {
		t.Fatalf("%s connections expose their descriptor", network)
	}
	want := make([]byte, 8<<20)
	for i := range want {
		want[i] = byte(i * 7)
	}
	sent := make(chan error, 1)
	go func() {
		n, err := sa.Write(want)
		if err == nil && n != len(want) {
			err = io.ErrShortWrite
		}
		sent <- err
		a.Close()
	}()
	got, err := io.ReadAll(sb)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("received %d bytes, not the %d sent", len(got), len(want))
	}
	// After EOF, reads keep saying so.
	if n, err := sb.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("read after EOF: %d, %v", n, err)
	}
}

func TestRawSocketDeadlines(t *testing.T) {
	a, _ := tcpPair(t)
	sa := NewRawSocket(a)
	if err := a.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := sa.Read(make([]byte, 16))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past its deadline: %v", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("read returned %v after a 50ms deadline", waited)
	}
	// A writer whose peer reads nothing stops at its deadline.
	if err := a.SetWriteDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	_, err = sa.Write(make([]byte, 64<<20))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("write past its deadline: %v", err)
	}
}

func TestRawSocketClosed(t *testing.T) {
	a, _ := tcpPair(t)
	sa := NewRawSocket(a)
	done := make(chan error, 1)
	go func() {
		_, err := sa.Read(make([]byte, 16))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	a.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read on a closed connection: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end a waiting read")
	}
}

func TestRawSocketNeedsDescriptor(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if NewRawSocket(a) != nil {
		t.Fatal("net.Pipe has no descriptor: want nil")
	}
	p := NewPacketIO(a)
	go func() {
		q := NewPacketIO(b)
		_ = q.WritePacket([]byte("hi"))
		_ = q.Flush()
	}()
	got, err := p.ReadPacket()
	if err != nil || string(got) != "hi" {
		t.Fatalf("PacketIO over a pipe: %q, %v", got, err)
	}
}
