package aescipher

import (
	"bytes"
	"encoding/binary"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// stream builds Java serialization streams by hand, for the shapes the JDK never writes.
type stream struct{ bytes.Buffer }

func newStream() *stream {
	s := &stream{}
	s.Write([]byte{0xAC, 0xED, 0x00, 0x05})
	return s
}

func (s *stream) b(bs ...byte) *stream { s.Write(bs); return s }
func (s *stream) u16(v int) *stream    { return s.b(byte(v>>8), byte(v)) }
func (s *stream) i32(v int32) *stream {
	var x [4]byte
	binary.BigEndian.PutUint32(x[:], uint32(v))
	return s.b(x[:]...)
}
func (s *stream) utf(v string) *stream { s.u16(len(v)); s.WriteString(v); return s }

// classDesc writes a TC_CLASSDESC with no fields, an empty annotation and the given super (a raw
// tail: TC_NULL, or a reference).
func (s *stream) classDesc(name string, flags byte, super ...byte) *stream {
	s.b(tcClassDesc).utf(name).b(0, 0, 0, 0, 0, 0, 0, 1).b(flags).u16(0).b(tcEndBlockData)
	if len(super) == 0 {
		super = []byte{tcNull}
	}
	return s.b(super...)
}

func TestReadStreamShapes(t *testing.T) {
	handle0 := []byte{tcReference, 0x00, 0x7E, 0x00, 0x00}
	deep := newStream()
	for i := 0; i < maxDepth+2; i++ { // an Object[] holding an Object[] holding …
		deep.b(tcArray).classDesc("[Ljava.lang.Object;", scSerializable).i32(1)
	}
	deep.b(tcNull)

	cases := []struct {
		name    string
		in      []byte
		wantErr string // "" = reads fine
		check   func(t *testing.T, v any)
	}{
		{name: "string", in: newStream().b(tcString).utf("héllo").Bytes(), check: func(t *testing.T, v any) {
			if v != "héllo" {
				t.Errorf("got %#v", v)
			}
		}},
		{name: "long string", in: newStream().b(tcLongString, 0, 0, 0, 0, 0, 0, 0, 2).b('o', 'k').Bytes(), check: func(t *testing.T, v any) {
			if v != "ok" {
				t.Errorf("got %#v", v)
			}
		}},
		{name: "reset then string", in: newStream().b(tcReset, tcString).utf("x").Bytes()},
		{name: "object with a write method and annotations", in: newStream().b(tcObject).
			classDesc("Foo", scSerializable|scWriteMethod).
			b(tcBlockData, 3, 1, 2, 3, tcBlockDataLong).i32(2).b(9, 9).b(tcString).utf("inside").b(tcEndBlockData).Bytes(),
			check: func(t *testing.T, v any) {
				if o, ok := v.(*object); !ok || o.class.name != "Foo" {
					t.Errorf("got %s", kindOf(v))
				}
			}},
		{name: "externalizable with block data", in: newStream().b(tcObject).classDesc("Ext", scExternalizable|scBlockData).
			b(tcBlockData, 1, 0, tcEndBlockData).Bytes()},
		{name: "enum", in: newStream().b(tcEnum).classDesc("Color", scSerializable|scEnum).b(tcString).utf("RED").Bytes()},
		{name: "empty input", in: nil, wantErr: "AC ED 00 05"},
		{name: "wrong version", in: []byte{0xAC, 0xED, 0, 4, tcNull}, wantErr: "AC ED 00 05"},
		{name: "header only", in: newStream().Bytes(), wantErr: "truncated"},
		{name: "string longer than the stream", in: newStream().b(tcString).u16(500).b('a').Bytes(), wantErr: "truncated: string of 500 bytes"},
		{name: "long string of 2^63", in: newStream().b(tcLongString, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff).Bytes(), wantErr: "truncated"},
		{name: "byte array longer than the stream", in: newStream().b(tcArray).classDesc("[B", scSerializable).i32(1 << 30).Bytes(), wantErr: "truncated: array [B of 1073741824"},
		{name: "negative array length", in: newStream().b(tcArray).classDesc("[I", scSerializable).i32(-1).Bytes(), wantErr: "truncated"},
		{name: "object array longer than the stream", in: newStream().b(tcArray).classDesc("[Ljava.lang.Object;", scSerializable).i32(1 << 30).Bytes(), wantErr: "truncated"},
		{name: "array of a non-array class", in: newStream().b(tcArray).classDesc("Foo", scSerializable).i32(0).Bytes(), wantErr: "not an array class"},
		{name: "reference to nothing", in: newStream().b(handle0...).Bytes(), wantErr: "does not exist"},
		{name: "class that is its own superclass", in: newStream().b(tcObject).classDesc("Loop", scSerializable, handle0...).Bytes(), wantErr: "a cycle"},
		{name: "nesting too deep", in: deep.Bytes(), wantErr: "nested more than"},
		{name: "proxy class", in: newStream().b(tcObject, tcProxyClassDesc).Bytes(), wantErr: "proxy"},
		{name: "old-protocol externalizable", in: newStream().b(tcObject).classDesc("Ext", scExternalizable).Bytes(), wantErr: "cannot be skipped"},
		{name: "serializable and externalizable", in: newStream().b(tcObject).classDesc("X", scSerializable|scExternalizable).Bytes(), wantErr: "both"},
		{name: "unknown type code", in: newStream().b(0x42).Bytes(), wantErr: "unknown type code 0x42"},
		{name: "exception in stream", in: newStream().b(tcException).Bytes(), wantErr: "TC_EXCEPTION"},
		{name: "block data at top level", in: newStream().b(tcBlockData, 0).Bytes(), wantErr: "block data"},
		{name: "field count larger than the stream", in: newStream().b(tcObject, tcClassDesc).utf("F").b(0, 0, 0, 0, 0, 0, 0, 1, scSerializable).u16(60000).Bytes(), wantErr: "declares 60000 fields"},
		{name: "unknown field type", in: newStream().b(tcObject, tcClassDesc).utf("F").b(0, 0, 0, 0, 0, 0, 0, 1, scSerializable).u16(1).b('Q').utf("q").Bytes(), wantErr: "unknown field type"},
		{name: "field type name not a string", in: newStream().b(tcObject, tcClassDesc).utf("F").b(0, 0, 0, 0, 0, 0, 0, 1, scSerializable).u16(1).b('L').utf("f").b(tcNull).Bytes(), wantErr: "not a string"},
		{name: "bad modified UTF-8", in: newStream().b(tcString).u16(2).b(0xC3, 0x28).Bytes(), wantErr: "bad modified UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := readStream(c.in)
			if c.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.check != nil {
					c.check(t, v)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("want error %q, got %v (value %s)", c.wantErr, err, kindOf(v))
			}
		})
	}
}

// TestReadStreamHandleLimit: a stream of many small strings in an array stops at maxHandles.
func TestReadStreamHandleLimit(t *testing.T) {
	s := newStream().b(tcArray).classDesc("[Ljava.lang.String;", scSerializable).i32(maxHandles + 10)
	for i := 0; i < maxHandles+10; i++ {
		s.b(tcString).utf("")
	}
	_, err := readStream(s.Bytes())
	if err == nil || !strings.Contains(err.Error(), "more than 4096 objects") {
		t.Fatalf("want the handle limit, got %v", err)
	}
}

// TestReadStreamForeignHashMap: a real java.util.HashMap (writeObject data, Integer and String
// objects) reads to the end, so errors can name what a wrong file holds.
func TestReadStreamForeignHashMap(t *testing.T) {
	v, err := readStream(mustRead(t, filepath.Join("testdata", "vectors", "foreign", "java.util.HashMap.ser")))
	if err != nil {
		t.Fatal(err)
	}
	if kindOf(v) != "java.util.HashMap" {
		t.Fatalf("got %s", kindOf(v))
	}
}

func TestDecodeModifiedUTF8(t *testing.T) {
	cases := []struct {
		in      []byte
		want    string
		wantErr bool
	}{
		{in: []byte("plain"), want: "plain"},
		{in: []byte{0xC0, 0x80}, want: "\x00"},                               // Java writes NUL in two bytes
		{in: []byte{0xC3, 0xA9}, want: "é"},                                  // two-byte form
		{in: []byte{0xE2, 0x82, 0xAC}, want: "€"},                            // three-byte form
		{in: []byte{0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80}, want: "\U0001F600"}, // surrogate pair, 3+3 bytes
		{in: []byte{0x00}, wantErr: true},                                    // raw NUL is never written
		{in: []byte{0xF0, 0x9F, 0x98, 0x80}, wantErr: true},                  // standard 4-byte UTF-8 is not modified UTF-8
		{in: []byte{0xC3}, wantErr: true},                                    // truncated
		{in: []byte{0xE2, 0x82}, wantErr: true},                              // truncated
		{in: []byte{0xC3, 0x28}, wantErr: true},                              // bad continuation
		{in: []byte{0xED, 0xA0, 0xBD}, wantErr: true},                        // lone high surrogate
		{in: []byte{0xED, 0xB8, 0x80, 0xED, 0xA0, 0xBD}, wantErr: true},      // low before high
		{in: []byte{0xED, 0xA0, 0xBD, 0x41}, wantErr: true},                  // high then not low
		{in: []byte{0x80}, wantErr: true},                                    // continuation byte first
	}
	for _, c := range cases {
		got, err := decodeModifiedUTF8(c.in)
		if (err != nil) != c.wantErr || (!c.wantErr && got != c.want) {
			t.Errorf("decode % x = %q, %v; want %q (error %v)", c.in, got, err, c.want, c.wantErr)
		}
	}
}

func TestIVFromParams(t *testing.T) {
	iv := bytes.Repeat([]byte{7}, 16)
	cases := []struct {
		name string
		der  []byte
		ok   bool
	}{
		{"octet string", append([]byte{0x04, 16}, iv...), true},
		{"long-form length", append([]byte{0x04, 0x81, 16}, iv...), true},
		{"wrong tag", append([]byte{0x30, 16}, iv...), false},
		{"short", append([]byte{0x04, 16}, iv[:8]...), false},
		{"trailing bytes", append(append([]byte{0x04, 16}, iv...), 0), false},
		{"IV of the wrong size", append([]byte{0x04, 8}, iv[:8]...), false},
		{"empty", nil, false},
		{"multi-byte length", []byte{0x04, 0x82, 0, 16}, false},
	}
	for _, c := range cases {
		got, err := ivFromParams(c.der, 16)
		if c.ok != (err == nil) || (c.ok && !bytes.Equal(got, iv)) {
			t.Errorf("%s: got % x, %v", c.name, got, err)
		}
	}
}

// TestStreamErrorOffset: errors carry the byte offset, for "truncated at byte N" messages.
func TestStreamErrorOffset(t *testing.T) {
	_, err := readStream(newStream().b(tcString).u16(5).b('a').Bytes())
	var se *StreamError
	if !errors.As(err, &se) || se.Offset != 5 {
		t.Fatalf("want a StreamError at byte 5, got %v", err)
	}
}

// TestReadStreamAllocationBound: the worst shape we know (a class of many one-byte fields, then
// objects of it, each costing only its field bytes) stops at maxValues, having allocated a bounded
// amount however long the stream is.
func TestReadStreamAllocationBound(t *testing.T) {
	const fields = 4000
	s := newStream().b(tcArray).classDesc("[Ljava.lang.Object;", scSerializable).i32(200)
	s.b(tcObject, tcClassDesc).utf("Wide").b(0, 0, 0, 0, 0, 0, 0, 1, scSerializable).u16(fields)
	for i := 0; i < fields; i++ {
		s.b('B').utf(string([]rune{rune('a' + i%26), rune('a' + i/26%26), rune('a' + i/676)}))
	}
	s.b(tcEndBlockData, tcNull).Write(make([]byte, fields))
	for i := 1; i < 200; i++ {
		// Handle 2 is class Wide (0: the array's class, 1: the array).
		s.b(tcObject, tcReference, 0x00, 0x7E, 0x00, 0x02).Write(make([]byte, fields))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := readStream(s.Bytes())
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "field values") {
		t.Fatalf("want the value limit, got %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Fatalf("reading a %d-byte stream allocated %d MiB", s.Len(), alloc>>20)
	}
}
