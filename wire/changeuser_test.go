package wire

import (
	"bytes"
	"testing"
)

func TestParseChangeUser(t *testing.T) {
	caps := ClientProtocol41 | ClientSecureConnection | ClientPluginAuth
	full := []byte("alice\x00\x03abcshop\x00\x2d\x00mysql_native_password\x00\x05attrs")
	cu, ok := ParseChangeUser(full, caps)
	if !ok || cu.User != "alice" || !bytes.Equal(cu.Auth, []byte("abc")) || cu.Schema != "shop" ||
		cu.Charset != 45 || cu.Plugin != "mysql_native_password" {
		t.Fatalf("full packet: %+v %v", cu, ok)
	}
	if cu, ok := ParseChangeUser([]byte("bob\x00\x00\x00"), caps); !ok || cu.User != "bob" || len(cu.Auth) != 0 || cu.Schema != "" || cu.Charset != 0 {
		t.Fatalf("no password, no schema: %+v %v", cu, ok)
	}
	if cu, ok := ParseChangeUser([]byte("old\x00secret\x00"), ClientProtocol41); !ok || string(cu.Auth) != "secret" || cu.Schema != "" {
		t.Fatalf("old client: %+v %v", cu, ok)
	}
	for _, bad := range [][]byte{nil, []byte("no terminator"), []byte("u\x00"), []byte("u\x00\x09short"), []byte("u\x00\x00unterminated schema")} {
		if cu, ok := ParseChangeUser(bad, caps); ok {
			t.Errorf("ParseChangeUser(%q) = %+v, want refused", bad, cu)
		}
	}
}

func TestAppendAuthSwitch(t *testing.T) {
	got := AppendAuthSwitch(nil, "mysql_native_password", []byte("0123456789abcdefghij"))
	want := []byte("\xfemysql_native_password\x000123456789abcdefghij\x00")
	if !bytes.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestGreetingSeed(t *testing.T) {
	var g []byte
	g = append(g, 0, 0, 0, 0, 10)
	g = append(g, "5.5.5-10.11.19-MariaDB\x00"...)
	g = append(g, 1, 0, 0, 0)
	g = append(g, "01234567"...)
	g = append(g, 0, 0xff, 0xf7, 45, 2, 0, 0xff, 0x81, 21)
	g = append(g, make([]byte, 10)...)
	g = append(g, "89abcdefghij\x00mysql_native_password\x00"...)
	seed, ok := GreetingSeed(g)
	if !ok || string(seed) != "0123456789abcdefghij" {
		t.Fatalf("GreetingSeed = %q, %v", seed, ok)
	}
	if _, ok := GreetingSeed(g[:len(g)-40]); ok {
		t.Fatal("a greeting cut short gave a seed")
	}
}
