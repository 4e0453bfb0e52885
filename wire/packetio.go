// Package wire frames and encodes MySQL protocol packets.
//
// go-mysql's packet.Conn copies every packet it reads into a fresh slice and
// issues one write syscall per packet. A proxy relays most packets unchanged,
// so this small reader/writer reuses one read buffer and batches writes until
// the end of a response.
package wire

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
)

// MaxPayload is the largest payload of one physical packet; longer logical
// packets are split into chunks of this size.
const MaxPayload = 1<<24 - 1

// readStep is how much of a packet is read before the buffer grows again.
const readStep = 64 * 1024

// ErrPacketTooLarge is returned when a logical packet exceeds the reader's limit.
var ErrPacketTooLarge = errors.New("packet exceeds max_allowed_packet")

// PacketIO reads and writes MySQL packets over a connection.
type PacketIO struct {
	conn   net.Conn
	rd     *bufio.Reader
	wr     *bufio.Writer
	seq    uint8
	buf    []byte
	header [4]byte
	out    [4]byte // the header being written: a field, so it does not escape per packet
	// MaxPacket bounds a logical packet read (0 = no bound).
	MaxPacket int
}

// NewPacketIO wraps conn with buffered reads and writes.
func NewPacketIO(conn net.Conn) *PacketIO {
	return &PacketIO{
		conn: conn,
		rd:   bufio.NewReaderSize(conn, 16*1024),
		wr:   bufio.NewWriterSize(conn, 16*1024),
	}
}

// Conn returns the underlying connection.
func (p *PacketIO) Conn() net.Conn { return p.conn }

// Seq is the sequence id the next packet will carry.
func (p *PacketIO) Seq() uint8 { return p.seq }

// SetSeq sets the sequence id of the next packet.
func (p *PacketIO) SetSeq(s uint8) { p.seq = s }

// ReadPacket reads one logical packet. The returned slice is valid until the
// next call to ReadPacket.
func (p *PacketIO) ReadPacket() ([]byte, error) {
	p.buf = p.buf[:0]
	for {
		if _, err := io.ReadFull(p.rd, p.header[:]); err != nil {
			return nil, err
		}
		n := int(p.header[0]) | int(p.header[1])<<8 | int(p.header[2])<<16
		if p.header[3] != p.seq {
			return nil, fmt.Errorf("packet sequence %d, expected %d", p.header[3], p.seq)
		}
		p.seq++
		if p.MaxPacket > 0 && len(p.buf)+n > p.MaxPacket {
			return nil, ErrPacketTooLarge
		}
		// Grow with the data that actually arrives: a length header alone
		// must not make the proxy allocate 16 MiB.
		for left := n; left > 0; {
			step := min(left, readStep)
			start := len(p.buf)
			if cap(p.buf)-start < step {
				grown := make([]byte, start, max(2*cap(p.buf), start+step))
				copy(grown, p.buf)
				p.buf = grown
			}
			p.buf = p.buf[:start+step]
			if _, err := io.ReadFull(p.rd, p.buf[start:]); err != nil {
				return nil, err
			}
			left -= step
		}
		if n < MaxPayload {
			// Don't pin a huge buffer for the life of the connection.
			if cap(p.buf) > 1<<20 {
				out := p.buf
				p.buf = nil
				return out, nil
			}
			return p.buf, nil
		}
	}
}

// WritePacket buffers one logical packet; Flush sends it.
func (p *PacketIO) WritePacket(payload []byte) error {
	for {
		n := len(payload)
		if n > MaxPayload {
			n = MaxPayload
		}
		p.out = [4]byte{byte(n), byte(n >> 8), byte(n >> 16), p.seq}
		p.seq++
		if _, err := p.wr.Write(p.out[:]); err != nil {
			return err
		}
		if _, err := p.wr.Write(payload[:n]); err != nil {
			return err
		}
		payload = payload[n:]
		if n < MaxPayload {
			return nil
		}
	}
}

// Flush sends buffered packets.
func (p *PacketIO) Flush() error { return p.wr.Flush() }

// Buffered reports how many bytes wait to be flushed.
func (p *PacketIO) Buffered() int { return p.wr.Buffered() }

// Close closes the connection.
func (p *PacketIO) Close() error { return p.conn.Close() }

// ReadBuffered is how many bytes have arrived and wait to be read: when 0,
// the next ReadPacket will block on the network.
func (p *PacketIO) ReadBuffered() int { return p.rd.Buffered() }
