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
	"sync"
)

// MaxPayload is the largest payload of one physical packet; longer logical
// packets are split into chunks of this size.
const MaxPayload = 1<<24 - 1

// readStep is how much of a packet is read before the buffer grows again.
const readStep = 64 * 1024

// ErrPacketTooLarge is returned when a logical packet exceeds the reader's limit.
var ErrPacketTooLarge = errors.New("packet exceeds max_allowed_packet")

// PacketIO reads and writes MySQL packets over a connection.
//
// Its read and write buffers are borrowed from pools while a packet
// exchange is under way and given back when the connection falls idle (the
// read buffer drained, the write buffer flushed): thousands of idle client
// sessions and pooled backend connections then hold no buffer at all. The
// cost is one more read syscall for the header of the first packet after
// an idle spell.
type PacketIO struct {
	conn   net.Conn
	rd     *bufio.Reader // nil while nothing is buffered
	wr     *bufio.Writer // nil while nothing is buffered
	seq    uint8
	buf    []byte
	header [4]byte
	out    [4]byte // the header being written: a field, so it does not escape per packet
	// MaxPacket bounds a logical packet read (0 = no bound).
	MaxPacket int
}

// ioBufSize is the size of the pooled read and write buffers.
const ioBufSize = 16 * 1024

var (
	readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, ioBufSize) }}
	writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, ioBufSize) }}
)

// NewPacketIO wraps conn with buffered reads and writes.
func NewPacketIO(conn net.Conn) *PacketIO {
	return &PacketIO{conn: conn}
}

// reader borrows a read buffer if the connection has none.
func (p *PacketIO) reader() *bufio.Reader {
	if p.rd == nil {
		p.rd = readers.Get().(*bufio.Reader)
		p.rd.Reset(p.conn)
	}
	return p.rd
}

// releaseReader gives the read buffer back once it holds nothing unread.
func (p *PacketIO) releaseReader() {
	if p.rd != nil && p.rd.Buffered() == 0 {
		p.rd.Reset(nil)
		readers.Put(p.rd)
		p.rd = nil
	}
}

// readHeader reads a packet header, from the network directly when no
// buffer is borrowed: an idle connection blocks here holding none.
func (p *PacketIO) readHeader() error {
	var err error
	if p.rd == nil {
		_, err = io.ReadFull(p.conn, p.header[:])
	} else {
		_, err = io.ReadFull(p.rd, p.header[:])
	}
	return err
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
	pkt, err := p.readPacket()
	p.releaseReader()
	return pkt, err
}

func (p *PacketIO) readPacket() ([]byte, error) {
	p.buf = p.buf[:0]
	for {
		if err := p.readHeader(); err != nil {
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
			if _, err := io.ReadFull(p.reader(), p.buf[start:]); err != nil {
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
	if p.wr == nil {
		p.wr = writers.Get().(*bufio.Writer)
		p.wr.Reset(p.conn)
	}
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

// Flush sends buffered packets and gives the write buffer back.
func (p *PacketIO) Flush() error {
	if p.wr == nil {
		return nil
	}
	if err := p.wr.Flush(); err != nil {
		return err
	}
	p.wr.Reset(nil)
	writers.Put(p.wr)
	p.wr = nil
	return nil
}

// Buffered reports how many bytes wait to be flushed.
func (p *PacketIO) Buffered() int {
	if p.wr == nil {
		return 0
	}
	return p.wr.Buffered()
}

// Close closes the connection.
func (p *PacketIO) Close() error { return p.conn.Close() }

// ReadBuffered is how many bytes have arrived and wait to be read: when 0,
// the next ReadPacket will block on the network.
func (p *PacketIO) ReadBuffered() int {
	if p.rd == nil {
		return 0
	}
	return p.rd.Buffered()
}
