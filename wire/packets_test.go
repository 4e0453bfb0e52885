package wire

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// TestOKInfoRoundTrip: an OK packet's info as MariaDB 10.11 writes it to a
// client without session tracking (length-encoded all the same) is read as
// its text and written back byte for byte.
func TestOKInfoRoundTrip(t *testing.T) {
	fromMariaDB, _ := hex.DecodeString("00020002000000265265636f7264733a203220204475706c6963617465733a203020205761726e696e67733a2030")
	ok, valid := ParseOK(fromMariaDB)
	if !valid || string(ok.Info) != "Records: 2  Duplicates: 0  Warnings: 0" || ok.AffectedRows != 2 || ok.Status != 2 {
		t.Fatalf("parsed %+v (%v)", ok, valid)
	}
	if got := AppendOK(nil, ok); !bytes.Equal(got, fromMariaDB) {
		t.Errorf("written back as %x", got)
	}
	bare := []byte{OKHeader, 0, 0, 2, 0, 0, 0}
	if ok, valid := ParseOK(bare); !valid || ok.Info != nil || !bytes.Equal(AppendOK(nil, ok), bare) {
		t.Errorf("an OK without info: %+v (%v)", ok, valid)
	}
}
