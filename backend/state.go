package backend

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// NamesVar is the pseudo-variable holding a session's SET NAMES argument.
const NamesVar = "NAMES"

// State is the part of a client session that backend connections must mirror:
// system variables (as "@@name"), user variables ("@name") and the character
// set (NamesVar), each with the SQL literal to assign. The zero State is the
// default every pooled connection starts with.
type State struct {
	assign map[string]string
	key    string
}

// Set records an assignment; the value is an SQL literal ready to replay.
func (s *State) Set(name, value string) {
	if s.assign == nil {
		s.assign = map[string]string{}
	}
	s.assign[name] = value
	s.rekey()
}

// Unset forgets an assignment, so connections go back to the default.
func (s *State) Unset(name string) {
	delete(s.assign, name)
	s.rekey()
}

// Get returns the literal recorded for name.
func (s *State) Get(name string) (string, bool) {
	v, ok := s.assign[name]
	return v, ok
}

// Seconds reads a variable counting seconds (wait_timeout); ok is false
// when it is not set or not a positive number.
func (s *State) Seconds(name string) (d time.Duration, ok bool) {
	v, set := s.assign[name]
	if !set {
		return 0, false // before parsing: a failed parse allocates its error
	}
	return parseSeconds(v)
}

// parseSeconds reads a positive number of seconds, as timeout variables hold.
func parseSeconds(v string) (time.Duration, bool) {
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil || secs <= 0 {
		return 0, false
	}
	return time.Duration(secs * float64(time.Second)), true
}

// Reset returns the state to the defaults (COM_RESET_CONNECTION).
func (s *State) Reset() { s.assign, s.key = nil, "" }

// Key identifies the state: connections that applied the same key need no SET.
func (s *State) Key() string { return s.key }

func (s *State) vars() map[string]string { return s.assign }

// AppendUserVars appends the names ("@name") of the user variables set.
func (s *State) AppendUserVars(names []string) []string {
	for name := range s.assign {
		if strings.HasPrefix(name, "@") && !strings.HasPrefix(name, "@@") {
			names = append(names, name)
		}
	}
	return names
}

func (s *State) rekey() {
	if len(s.assign) == 0 {
		s.key = ""
		return
	}
	names := make([]string, 0, len(s.assign))
	for n := range s.assign {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(s.assign[n])
		b.WriteByte(0)
	}
	s.key = b.String()
}
