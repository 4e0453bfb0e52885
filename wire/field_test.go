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
