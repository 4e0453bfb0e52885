package engine

import (
	"testing"

	"github.com/shardproxy/shardproxy/wire"
)

func TestProject(t *testing.T) {
	fields := []wire.Field{intField("id"), stringField("name"), weightField()}
	src := &source{fields: fields, rows: [][]string{{"1", "a", "x"}, {"2", null, null}}}
	p := &Project{Hidden: 1, Input: src}
	s, err := p.Execute(t.Context(), &Env{})
	if err != nil {
		t.Fatal(err)
	}
	if f := s.Fields(); len(f) != 2 || string(f[1].Name) != "name" {
		t.Errorf("fields %v", f)
	}
	wantRows(t, readAll(t, s), "1|a\n2|NULL\n")
	wantCode(t, runErr(&Project{Hidden: 4, Input: src}, &Env{}), ErUnknown)
}
