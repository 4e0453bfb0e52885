package wire

import "bytes"

// Capability flags that shape a COM_CHANGE_USER packet.
const (
	ClientSecureConnection uint32 = 0x00008000
	ClientPluginAuth       uint32 = 0x00080000
)

// ChangeUser is a COM_CHANGE_USER request, without its command byte.
type ChangeUser struct {
	User    string
	Auth    []byte // the scramble, answering the greeting's seed
	Schema  string
	Charset uint16 // 0 when the client sent none
	Plugin  string
}

// ParseChangeUser reads a COM_CHANGE_USER payload (after the command byte)
// as a client with capabilities caps writes it. Connection attributes, which
// may follow, are not read.
func ParseChangeUser(p []byte, caps uint32) (ChangeUser, bool) {
	var cu ChangeUser
	var ok bool
	if cu.User, p, ok = cutNul(p); !ok {
		return cu, false
	}
	if caps&ClientSecureConnection != 0 {
		if len(p) < 1 || len(p) < 1+int(p[0]) {
			return cu, false
		}
		cu.Auth, p = p[1:1+int(p[0])], p[1+int(p[0]):]
	} else {
		var auth string
		if auth, p, ok = cutNul(p); !ok {
			return cu, false
		}
		cu.Auth = []byte(auth)
	}
	if len(p) == 0 {
		return cu, true // an old client: no schema or anything after
	}
	if cu.Schema, p, ok = cutNul(p); !ok {
		return cu, false
	}
	if len(p) >= 2 {
		cu.Charset, p = uint16(p[0])|uint16(p[1])<<8, p[2:]
	}
	if caps&ClientPluginAuth != 0 && len(p) > 0 {
		if cu.Plugin, _, ok = cutNul(p); !ok {
			cu.Plugin = string(p)
		}
	}
	return cu, true
}

// cutNul splits a NUL-terminated string off the front of p.
func cutNul(p []byte) (string, []byte, bool) {
	i := bytes.IndexByte(p, 0)
	if i < 0 {
		return "", p, false
	}
	return string(p[:i]), p[i+1:], true
}

// AppendAuthSwitch appends an authentication method switch request: the
// client answers with seed scrambled by plugin.
func AppendAuthSwitch(b []byte, plugin string, seed []byte) []byte {
	b = append(b, EOFHeader)
	b = append(b, plugin...)
	b = append(b, 0)
	b = append(b, seed...)
	return append(b, 0)
}
