package wire

import (
	"bytes"
	"io"
	"net"
	"testing"
	"testing/iotest"
	"time"
)

// pipeConn feeds a fixed byte stream to PacketIO as a connection.
type pipeConn struct {
	r io.Reader
}

func (c *pipeConn) Read(p []byte) (int, error)         { return c.r.Read(p) }
func (c *pipeConn) Write(p []byte) (int, error)        { return len(p), nil }
func (c *pipeConn) Close() error                       { return nil }
func (c *pipeConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (c *pipeConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (c *pipeConn) SetDeadline(t time.Time) error      { return nil }
func (c *pipeConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *pipeConn) SetWriteDeadline(t time.Time) error { return nil }

// FuzzReadPacket: any byte stream yields packets or an error, never a panic
// and never a packet beyond the size bound.
func FuzzReadPacket(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0x0e})                  // COM_PING
	f.Add([]byte{5, 0, 0, 0, 3, 's', 'e', 'l', 'x'}) // COM_QUERY
	f.Add([]byte{0xff, 0xff, 0xff, 0, 1, 2, 3})      // truncated 16 MiB chunk
	f.Add([]byte{1, 0, 0, 7, 0x0e})                  // wrong sequence id
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, 3})         // empty packet
	f.Add(append([]byte{0xff, 0xff, 0xff, 0}, make([]byte, 64)...))
	f.Fuzz(func(t *testing.T, stream []byte) {
		p := NewPacketIO(&pipeConn{r: bytes.NewReader(stream)})
		p.MaxPacket = 1 << 20
		for i := 0; i < 64; i++ {
			pkt, err := p.ReadPacket()
			if err != nil {
				return
			}
			if len(pkt) > p.MaxPacket {
				t.Fatalf("packet of %d bytes beyond the %d bound", len(pkt), p.MaxPacket)
			}
			p.SetSeq(p.Seq())
		}
	})
}

// FuzzReadPacketArrival: packets read from whole buffers (the fast path)
// are those read when the bytes arrive one by one (the general path).
func FuzzReadPacketArrival(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0x0e, 2, 0, 0, 1, 'a', 'b', 0, 0, 0, 2})
	f.Add([]byte{3, 0, 0, 0, 1, 2, 3, 4, 0, 0, 1, 1})
	f.Add([]byte{1, 0, 0, 9, 0x0e})
	f.Fuzz(func(t *testing.T, stream []byte) {
		whole := NewPacketIO(&pipeConn{r: bytes.NewReader(stream)})
		byByte := NewPacketIO(&pipeConn{r: iotest.OneByteReader(bytes.NewReader(stream))})
		whole.MaxPacket, byByte.MaxPacket = 6, 6
		for i := 0; i < 64; i++ {
			a, errA := whole.ReadPacket()
			b, errB := byByte.ReadPacket()
			if !bytes.Equal(a, b) || (errA == nil) != (errB == nil) {
				t.Fatalf("packet %d: whole %x %v, byte by byte %x %v", i, a, errA, b, errB)
			}
			if errA != nil {
				return
			}
		}
	})
}

func FuzzParseOKAndField(f *testing.F) {
	f.Add([]byte{0, 1, 2, 2, 0, 0, 0})
	f.Add(AppendField(nil, &Field{Name: []byte("c"), Type: TypeLong}))
	f.Fuzz(func(t *testing.T, p []byte) {
		ParseOK(p)
		ParseField(p)
		ParseError(p)
		RowValues(nil, p, 3)
		EOFStatus(p)
	})
}
