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
// Reads go through a small buffer inside the struct, big enough for a
// command or a short result in one read syscall; when the peer sends more
// than it holds (a result set), a 16 KiB buffer is borrowed from a pool
// until the data is drained. The write buffer is borrowed until Flush. An
// idle connection thus holds no big buffer, and a statement costs no more
// syscalls than with permanent buffers.
type PacketIO struct {
	conn  net.Conn
	rbuf  []byte // small[:] or a borrowed big buffer; rbuf[r:w] is unread
	r, w  int
	big   *[]byte // the borrowed read buffer, nil when reading into small
	wr    *bufio.Writer
	seq   uint8
	buf   []byte
	hdr   [4]byte
	out   [4]byte // the header being written: a field, so it does not escape per packet
	small [smallReadSize]byte
	// MaxPacket bounds a logical packet read (0 = no bound).
	MaxPacket int
}

const (
	// ioBufSize is the size of the pooled read and write buffers.
	ioBufSize = 16 * 1024
	// smallReadSize is the read buffer every connection keeps.
	smallReadSize = 1024
)

var (
	bigReads = sync.Pool{New: func() any { b := make([]byte, ioBufSize); return &b }}
	writers  = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, ioBufSize) }}
)

// NewPacketIO wraps conn with buffered reads and writes.
func NewPacketIO(conn net.Conn) *PacketIO {
	p := &PacketIO{conn: conn}
	p.rbuf = p.small[:]
	return p
}

// fill reads what the network has into the empty read buffer. A read that
// filled the small buffer means more is coming: the next one gets a big
// buffer; a drained big buffer goes back to the pool.
func (p *PacketIO) fill() error {
	if p.big != nil && p.w < len(p.rbuf) {
		bigReads.Put(p.big)
		p.big, p.rbuf = nil, p.small[:]
	} else if p.big == nil && p.w == len(p.small) {
		p.big = bigReads.Get().(*[]byte)
		p.rbuf = *p.big
	}
	p.r, p.w = 0, 0
	n, err := p.conn.Read(p.rbuf)
	p.w = n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// readFull fills dst from the buffer and the network. Like io.ReadFull it
// returns io.EOF only when nothing was read.
func (p *PacketIO) readFull(dst []byte) error {
	read := 0
	for read < len(dst) {
		if p.r == p.w {
			if err := p.fill(); err != nil {
				if err == io.EOF && read > 0 {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
		}
		n := copy(dst[read:], p.rbuf[p.r:p.w])
		p.r += n
		read += n
	}
	return nil
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
		if err := p.readFull(p.hdr[:]); err != nil {
			return nil, err
		}
		n := int(p.hdr[0]) | int(p.hdr[1])<<8 | int(p.hdr[2])<<16
		if p.hdr[3] != p.seq {
			return nil, fmt.Errorf("packet sequence %d, expected %d", p.hdr[3], p.seq)
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
			if err := p.readFull(p.buf[start:]); err != nil {
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
func (p *PacketIO) ReadBuffered() int { return p.w - p.r }
