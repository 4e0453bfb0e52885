// Package wire frames and encodes MySQL protocol packets.
//
// go-mysql's packet.Conn copies every packet it reads into a fresh slice and
// issues one write syscall per packet. A proxy relays most packets unchanged,
// so this small reader/writer reuses one read buffer and batches writes until
// the end of a response.
package wire

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
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
	conn net.Conn
	rbuf []byte // small[:], a borrowed big buffer or its own; rbuf[r:w] is unread
	r, w int
	big  *[]byte // the borrowed read buffer, nil when reading into small
	// ownBuf: rbuf is the connection's own big buffer, never swapped.
	ownBuf bool
	wbuf   *[]byte // borrowed until Flush; nil when nothing is buffered
	seq    uint8
	buf    []byte
	hdr    [4]byte
	out    [4]byte // the header being written: a field, so it does not escape per packet
	small  [smallReadSize]byte
	// MaxPacket bounds a logical packet read (0 = no bound).
	MaxPacket int

	// reader is conn, or conn's descriptor read directly (RawSocket);
	// writer the same for writes on connections made by NewRequestIO.
	reader io.Reader
	writer io.Writer

	// For FlushAwaitReply on sockets that expose their descriptor.
	request *RawSocket            // set by NewRequestIO only
	rawStep func(fd uintptr) bool // p.awaitStep, bound once: no allocation per call
	unsent  []byte                // what the raw write has not sent yet
	sent    bool
	rawErr  error
	// partSent: part of the buffered request already went out (sendEarly),
	// so its reply may be in the socket already.
	partSent bool
}

const (
	// ioBufSize is the size of the pooled read and write buffers.
	ioBufSize = 16 * 1024
	// smallReadSize is the read buffer every connection keeps.
	smallReadSize = 1024
)

var (
	bigReads  = sync.Pool{New: func() any { b := make([]byte, ioBufSize); return &b }}
	writeBufs = sync.Pool{New: func() any { b := make([]byte, 0, ioBufSize); return &b }}
)

// NewPacketIO wraps conn with buffered reads and writes.
func NewPacketIO(conn net.Conn) *PacketIO {
	p := &PacketIO{conn: conn, reader: conn, writer: conn}
	if sock := NewRawSocket(conn); sock != nil {
		p.reader = sock
	}
	p.rbuf = p.small[:]
	return p
}

// NewRequestIO is NewPacketIO for the client side of a request/response
// protocol: FlushAwaitReply then waits for the reply without first reading
// an empty socket, when conn exposes its descriptor (TCP, Unix sockets).
func NewRequestIO(conn net.Conn) *PacketIO {
	p := NewPacketIO(conn)
	// Backend connections are few and busy, and their replies often span
	// kilobytes: a read buffer of their own saves the read that fills the
	// small one first.
	own := make([]byte, ioBufSize)
	p.rbuf, p.ownBuf = own, true
	if sock := NewRawSocket(conn); sock != nil {
		p.reader, p.writer, p.request = sock, sock, sock
		p.rawStep = p.awaitStep
	}
	return p
}

// nextReadBuffer picks the buffer of the next read. A read that filled the
// small buffer means more is coming: the next one gets a big buffer; a
// drained big buffer goes back to the pool.
func (p *PacketIO) nextReadBuffer() {
	if p.ownBuf {
		p.r, p.w = 0, 0
		return
	}
	if p.big != nil && p.w < len(p.rbuf) {
		bigReads.Put(p.big)
		p.big, p.rbuf = nil, p.small[:]
	} else if p.big == nil && p.w == len(p.small) {
		p.big = bigReads.Get().(*[]byte)
		p.rbuf = *p.big
	}
	p.r, p.w = 0, 0
}

// fill reads what the network has into the empty read buffer.
func (p *PacketIO) fill() error {
	p.nextReadBuffer()
	n, err := p.reader.Read(p.rbuf)
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

// PayloadLen reads the payload length from a packet header (3 bytes or more).
func PayloadLen(header []byte) int {
	return int(header[0]) | int(header[1])<<8 | int(header[2])<<16
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
	// Most packets are short and arrived whole: one copy out of the read
	// buffer, without the general loop below (it showed in profiles).
	if b := p.rbuf[p.r:p.w]; len(b) >= 4 {
		n := PayloadLen(b)
		if 4+n <= len(b) && n < MaxPayload && b[3] == p.seq && (p.MaxPacket == 0 || n <= p.MaxPacket) {
			p.seq++
			p.r += 4 + n
			p.buf = append(p.buf[:0], b[4:4+n]...)
			return p.buf, nil
		}
	}
	p.buf = p.buf[:0]
	for {
		if err := p.readFull(p.hdr[:]); err != nil {
			return nil, err
		}
		n := PayloadLen(p.hdr[:])
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
	if p.wbuf == nil {
		p.wbuf = writeBufs.Get().(*[]byte)
	}
	// Header and payload in one append when they fit: the usual case.
	if buf := *p.wbuf; len(payload) < MaxPayload && len(buf)+4+len(payload) <= cap(buf) {
		n := len(payload)
		buf = append(buf, byte(n), byte(n>>8), byte(n>>16), p.seq)
		*p.wbuf = append(buf, payload...)
		p.seq++
		return nil
	}
	for {
		n := min(len(payload), MaxPayload)
		p.out = [4]byte{byte(n), byte(n >> 8), byte(n >> 16), p.seq}
		p.seq++
		if err := p.buffer(p.out[:]); err != nil {
			return err
		}
		if err := p.buffer(payload[:n]); err != nil {
			return err
		}
		payload = payload[n:]
		if n < MaxPayload {
			return nil
		}
	}
}

// buffer appends b to the write buffer, sending the buffer first when b
// does not fit; what is larger than the buffer is sent directly.
func (p *PacketIO) buffer(b []byte) error {
	if p.wbuf == nil {
		p.wbuf = writeBufs.Get().(*[]byte)
	}
	buf := *p.wbuf
	if len(buf)+len(b) > cap(buf) {
		if len(buf) > 0 {
			if err := p.sendEarly(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
		if len(b) > cap(buf) {
			*p.wbuf = buf
			return p.sendEarly(b)
		}
	}
	*p.wbuf = append(buf, b...)
	return nil
}

// sendEarly writes part of what is being buffered before Flush, noting it
// for FlushAwaitReply: the reply may then come before the wait begins.
func (p *PacketIO) sendEarly(b []byte) error {
	p.partSent = true
	_, err := p.writer.Write(b)
	return err
}

// Flush sends buffered packets and gives the write buffer back.
func (p *PacketIO) Flush() error {
	if p.wbuf == nil {
		return nil
	}
	var err error
	if buf := *p.wbuf; len(buf) > 0 {
		_, err = p.writer.Write(buf)
	}
	p.releaseWriteBuffer()
	return err
}

func (p *PacketIO) releaseWriteBuffer() {
	p.partSent = false
	*p.wbuf = (*p.wbuf)[:0]
	writeBufs.Put(p.wbuf)
	p.wbuf = nil
}

// FlushAwaitReply is Flush for a request whose reply is read next. Go's
// net.Conn.Read first tries a read that, right after a request, finds the
// socket empty, then waits; on a connection made by NewRequestIO the write
// and the wait go through the raw descriptor instead, saving that read
// syscall per request. That is safe only because nothing can arrive before
// the request is sent: the runtime forgets readiness noticed before the
// wait starts (pollReset), and here the wait starts before the write. A
// request too large for the write buffer was partly sent already, and its
// reply may be waiting: it takes the usual path.
func (p *PacketIO) FlushAwaitReply() error {
	if p.request == nil || p.wbuf == nil || p.partSent || p.r != p.w {
		return p.Flush()
	}
	p.nextReadBuffer()
	p.unsent, p.sent, p.rawErr = *p.wbuf, false, nil
	err := p.request.raw.Read(p.rawStep)
	unsent := p.unsent
	p.unsent = nil
	if err == nil {
		err = p.rawErr
	}
	if err == nil && len(unsent) > 0 {
		// The socket took only part of the request: send the rest the
		// usual way; the reply is then read the usual way too.
		_, err = p.writer.Write(unsent)
	}
	p.releaseWriteBuffer()
	return err
}

// awaitStep is FlushAwaitReply's raw I/O: called first to write, it
// returns false to wait for readability; called again, it reads the reply.
func (p *PacketIO) awaitStep(fd uintptr) bool {
	if !p.sent {
		p.sent = true
		for len(p.unsent) > 0 {
			n, err := rawWrite(fd, p.unsent)
			if err == syscall.EINTR {
				continue
			}
			if err == syscall.EAGAIN {
				return true // the caller sends the rest
			}
			if err != 0 {
				p.rawErr = err
				return true
			}
			p.unsent = p.unsent[n:]
		}
		return false
	}
	for {
		n, err := rawRead(fd, p.rbuf)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false // woken without data: wait again
		case err != 0:
			p.rawErr = err
		case n == 0:
			p.rawErr = io.EOF
		default:
			p.w = n
		}
		return true
	}
}

// RelayRows copies to dst, as they are, the row packets of a result set
// that p has already read from the network, renumbering them in dst's
// sequence: a result of many small rows then costs one copy per packet
// instead of a read and a write call each. It stops before the packet
// that ends the rows (EOF or error), before one not wholly buffered and
// before one as long as MaxPayload; ReadPacket reads those. It returns how
// many packets it copied.
func (p *PacketIO) RelayRows(dst *PacketIO) (int, error) {
	copied := 0
	for {
		if dst.wbuf == nil {
			dst.wbuf = writeBufs.Get().(*[]byte)
		}
		buf := *dst.wbuf
		// The rows that fit go over in one copy: a copy per row cost more
		// than the rest of a 100-row relay.
		end, rows, more := p.takeRows(cap(buf)-len(buf), dst.seq)
		if rows > 0 {
			buf = append(buf, p.rbuf[p.r:end]...)
			*dst.wbuf = buf
			p.r = end
			p.seq += uint8(rows)
			dst.seq += uint8(rows)
			copied += rows
		}
		if !more || len(buf) == 0 {
			return copied, nil
		}
		// The next row does not fit what is left of the write buffer.
		if err := dst.sendEarly(buf); err != nil {
			return copied, err
		}
		*dst.wbuf = buf[:0]
	}
}

// takeRows finds, from the read position, the row packets that arrived
// whole and fit in room bytes, and gives them the sequence ids from seq on
// in the read buffer itself (RelayRows consumes them at once). It returns
// where they end, how many there are, and whether another whole row
// follows that did not fit.
func (p *PacketIO) takeRows(room int, seq uint8) (end, rows int, more bool) {
	end, want := p.r, p.seq
	for {
		b := p.rbuf[end:p.w]
		if len(b) < 5 {
			return end, rows, false
		}
		n := PayloadLen(b)
		if n == 0 || n >= MaxPayload || 4+n > len(b) || b[3] != want {
			return end, rows, false
		}
		if first := b[4]; first == ErrHeader || (first == EOFHeader && n < 9) {
			return end, rows, false
		}
		if 4+n > room {
			return end, rows, true
		}
		b[3] = seq
		room -= 4 + n
		end += 4 + n
		want++
		seq++
		rows++
	}
}

// Buffered reports how many bytes wait to be flushed.
func (p *PacketIO) Buffered() int {
	if p.wbuf == nil {
		return 0
	}
	return len(*p.wbuf)
}

// Close closes the connection.
func (p *PacketIO) Close() error { return p.conn.Close() }

// ReadBuffered is how many bytes have arrived and wait to be read: when 0,
// the next ReadPacket will block on the network.
func (p *PacketIO) ReadBuffered() int { return p.w - p.r }
