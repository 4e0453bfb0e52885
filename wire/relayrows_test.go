package wire

import (
	"bytes"
	"net"
	"testing"
)

// captureConn records what is written to it.
type captureConn struct {
	net.Conn
	out bytes.Buffer
}

func (c *captureConn) Write(b []byte) (int, error) { return c.out.Write(b) }

// RelayRows must hand over exactly the row packets, renumbered, whatever
// the read buffer boundaries, and leave the final EOF to ReadPacket.
func TestRelayRows(t *testing.T) {
	var rows [][]byte
	for i := range 300 {
		row := bytes.Repeat([]byte{byte('a' + i%26)}, 1+(i*37)%700)
		if i == 7 {
			row[0] = EOFHeader // a row may start with 0xfe when it is long enough
			row = append(row, make([]byte, 16)...)
		}
		rows = append(rows, row)
	}
	eof := []byte{EOFHeader, 0, 0, 2, 0}
	stream := framed(3, append(rows, eof))

	a, b := net.Pipe()
	defer a.Close()
	go func() {
		// Odd-sized writes: packets straddle the reader's buffers.
		data := stream
		for len(data) > 0 {
			n := min(len(data), 1500)
			if _, err := b.Write(data[:n]); err != nil {
				return
			}
			data = data[n:]
		}
	}()
	in := NewPacketIO(a)
	in.SetSeq(3)
	out := &captureConn{}
	dst := NewPacketIO(out)
	dst.SetSeq(10)
	bulk, slow := 0, 0
	for {
		n, err := in.RelayRows(dst)
		if err != nil {
			t.Fatal(err)
		}
		bulk += n
		p, err := in.ReadPacket()
		if err != nil {
			t.Fatal(err)
		}
		if IsEOF(p) {
			break
		}
		slow++
		if err := dst.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	if bulk+slow != len(rows) {
		t.Fatalf("relayed %d rows in bulk and %d one by one, want %d in all", bulk, slow, len(rows))
	}
	if bulk < len(rows)/2 {
		t.Fatalf("only %d of %d rows relayed in bulk", bulk, len(rows))
	}
	if err := dst.Flush(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.out.Bytes(), framed(10, rows)) {
		t.Fatal("relayed packets differ from the rows renumbered")
	}
}

// framed is packets as a PacketIO sends them, numbered from seq.
func framed(seq uint8, packets [][]byte) []byte {
	c := &captureConn{}
	p := NewPacketIO(c)
	p.SetSeq(seq)
	for _, b := range packets {
		_ = p.WritePacket(b)
	}
	_ = p.Flush()
	return c.out.Bytes()
}

// replayConn serves the same bytes on every read cycle.
type replayConn struct {
	net.Conn
	data []byte
	off  int
}

func (c *replayConn) Read(b []byte) (int, error) {
	if c.off == len(c.data) {
		c.off = 0
	}
	n := copy(b, c.data[c.off:])
	c.off += n
	return n, nil
}

func (c *replayConn) Write(b []byte) (int, error) { return len(b), nil }

// BenchmarkRelayRows relays a result of 100 rows of 125 bytes (sysbench's
// range queries) packet by packet and in bulk.
func BenchmarkRelayRows(b *testing.B) {
	rows := make([][]byte, 100)
	for i := range rows {
		rows[i] = bytes.Repeat([]byte{'x'}, 125)
	}
	stream := framed(1, append(rows, []byte{EOFHeader, 0, 0, 2, 0}))
	for _, bulk := range []bool{false, true} {
		name := "one_by_one"
		if bulk {
			name = "bulk"
		}
		b.Run(name, func(b *testing.B) {
			in := NewRequestIO(&replayConn{data: stream})
			out := NewPacketIO(&replayConn{})
			b.SetBytes(int64(len(stream)))
			for b.Loop() {
				in.SetSeq(1)
				out.SetSeq(1)
				for {
					if bulk {
						if _, err := in.RelayRows(out); err != nil {
							b.Fatal(err)
						}
					}
					p, err := in.ReadPacket()
					if err != nil {
						b.Fatal(err)
					}
					if IsEOF(p) {
						break
					}
					if err := out.WritePacket(p); err != nil {
						b.Fatal(err)
					}
				}
				if err := out.Flush(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
