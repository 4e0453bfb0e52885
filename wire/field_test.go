package wire

import "testing"

func TestFieldSchemaReadsWhatParseFieldReads(t *testing.T) {
	p := AppendField(nil, &Field{Schema: []byte("shop_1"), Table: []byte("users"), Name: []byte("id"), Type: TypeLong})
	for cut := 0; cut <= len(p); cut++ {
		schema, ok := FieldSchema(p[:cut])
		full, fullOK := ParseField(p[:cut])
		if fullOK && (!ok || string(schema) != string(full.Schema)) {
			t.Fatalf("cut %d: FieldSchema %q %v, ParseField %q", cut, schema, ok, full.Schema)
		}
		if cut == len(p) && string(schema) != "shop_1" {
			t.Fatalf("schema %q, want shop_1", schema)
		}
	}
	if _, ok := FieldSchema(p[:5]); ok {
		t.Fatal("a definition cut inside its schema was read")
	}
}

func TestAppendWithSchemaChangesOnlyTheSchema(t *testing.T) {
	f := Field{Schema: []byte("shop_1"), Table: []byte("users"), OrgTable: []byte("users"), Name: []byte("id"),
		OrgName: []byte("id"), Charset: 63, Length: 11, Type: TypeLong, Flags: 3, Decimals: 2}
	p := AppendField(nil, &f)
	for _, schema := range []string{"shop", "", "a_longer_logical_schema_name"} {
		got, ok := AppendWithSchema(nil, p, schema)
		if !ok {
			t.Fatalf("%q: not rewritten", schema)
		}
		want := f
		want.Schema = []byte(schema)
		if string(got) != string(AppendField(nil, &want)) {
			t.Errorf("%q: % x\nwant % x", schema, got, AppendField(nil, &want))
		}
	}
	if _, ok := AppendWithSchema(nil, p[:5], "shop"); ok {
		t.Error("a definition cut inside its schema was rewritten")
	}
}
