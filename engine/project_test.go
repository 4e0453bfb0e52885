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

func TestUnionColumns(t *testing.T) {
	id, name := intField("id"), stringField("name")
	id.Table, name.Table = []byte("union_rows"), []byte("union_rows")
	src := &source{fields: []wire.Field{id, name}, rows: [][]string{{"1", "a"}}}
	s, err := (&UnionColumns{Input: src}).Execute(t.Context(), &Env{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range s.Fields() {
		if len(f.Table) != 0 {
			t.Errorf("column %s names table %q; a union's columns name none", f.Name, f.Table)
		}
	}
	if string(src.fields[0].Table) != "union_rows" {
		t.Error("the input's column definitions were changed")
	}
	wantRows(t, readAll(t, s), "1|a\n")
}
