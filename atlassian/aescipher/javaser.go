package aescipher

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"
)

// A strict reader of the Java Object Serialization Stream format (Java Object Serialization
// Specification, chapter 6), only as far as a SealedObject, a SecretKeySpec and a String need, plus
// enough of the rest (class annotations, writeObject data, arrays, enums) to read a foreign stream
// to its end and say what it holds. It builds no Java objects and runs no code: values are plain Go
// data. Every length is checked against the bytes that remain before anything is allocated, so a
// hostile stream cannot make it allocate much more than its own size.

// Type codes and class-description flags of the stream format.
const (
	streamMagic      = 0xACED
	streamVersion    = 5
	tcNull           = 0x70
	tcReference      = 0x71
	tcClassDesc      = 0x72
	tcObject         = 0x73
	tcString         = 0x74
	tcArray          = 0x75
	tcClass          = 0x76
	tcBlockData      = 0x77
	tcEndBlockData   = 0x78
	tcReset          = 0x79
	tcBlockDataLong  = 0x7A
	tcException      = 0x7B
	tcLongString     = 0x7C
	tcProxyClassDesc = 0x7D
	tcEnum           = 0x7E
	baseWireHandle   = 0x7E0000

	scWriteMethod    = 0x01
	scSerializable   = 0x02
	scExternalizable = 0x04
	scBlockData      = 0x08
	scEnum           = 0x10
)

// Limits that keep hostile input bounded. Real SealedObject and SecretKeySpec streams nest two
// levels deep and hold under ten handles.
const (
	maxStreamBytes = 1 << 20 // nothing we read is near this: a 70,000-character password seals to ~70 KiB
	maxDepth       = 32
	maxHandles     = 4096
	maxClassChain  = 64
	maxValues      = 1 << 16 // field values and array elements, all objects together
)

// StreamError says where a stream stopped making sense.
type StreamError struct {
	Offset int // byte offset into the stream
	Msg    string
}

func (e *StreamError) Error() string { return fmt.Sprintf("at byte %d: %s", e.Offset, e.Msg) }

// errBadMagic marks a stream that does not even start like Java serialization.
var errBadMagic = errors.New("not a Java serialization stream (no AC ED 00 05 header)")

type classDesc struct {
	name   string
	flags  byte
	fields []fieldDesc
	super  *classDesc
}

type fieldDesc struct {
	typ  byte // B C D F I J S Z, or [ and L for objects
	name string
}

// object is a deserialized TC_OBJECT: the field values of each serializable class in its chain.
type object struct {
	class *classDesc
	data  []classData // from the top-most superclass down to class
}

type classData struct {
	desc   *classDesc
	values map[string]any // primitives as primitive; objects as nil, string, *object, *array, ...
}

// field returns the value of field name declared by class className, and whether it is present.
func (o *object) field(className, name string) (any, bool) {
	for _, d := range o.data {
		if d.desc.name == className {
			v, ok := d.values[name]
			return v, ok
		}
	}
	return nil, false
}

type array struct {
	class *classDesc
	bytes []byte // set for byte[] ("[B")
	elems []any  // set for arrays of objects
}

type primitive struct {
	typ  byte
	bits uint64
}

type enumConst struct {
	class *classDesc
	name  string
}

type classRef struct{ desc *classDesc }

// blockMarker is what content returns for block data and TC_ENDBLOCKDATA, which are legal only
// inside annotations.
type blockMarker struct{ end bool }

type streamReader struct {
	buf     []byte
	off     int
	handles []any
	depth   int
	values  int // field values and array elements read so far (maxValues)
}

// readStream reads the stream header and the first object in b. Like ObjectInputStream.readObject,
// it ignores whatever follows that object.
func readStream(b []byte) (any, error) {
	if len(b) > maxStreamBytes {
		return nil, &StreamError{0, fmt.Sprintf("stream is %d bytes, over the %d-byte limit", len(b), maxStreamBytes)}
	}
	if len(b) < 4 || binary.BigEndian.Uint16(b) != streamMagic || binary.BigEndian.Uint16(b[2:]) != streamVersion {
		return nil, errBadMagic
	}
	r := &streamReader{buf: b, off: 4}
	v, err := r.content()
	if err != nil {
		return nil, err
	}
	if _, ok := v.(blockMarker); ok {
		return nil, r.errAt(4, "stream starts with block data, not an object")
	}
	return v, nil
}

func (r *streamReader) errAt(off int, format string, args ...any) error {
	return &StreamError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (r *streamReader) need(n int, what string) error {
	if n < 0 || n > len(r.buf)-r.off {
		return r.errAt(r.off, "truncated: %s needs %d bytes, %d remain", what, n, len(r.buf)-r.off)
	}
	return nil
}

func (r *streamReader) u8(what string) (byte, error) {
	if err := r.need(1, what); err != nil {
		return 0, err
	}
	r.off++
	return r.buf[r.off-1], nil
}

func (r *streamReader) bytes(n int, what string) ([]byte, error) {
	if err := r.need(n, what); err != nil {
		return nil, err
	}
	r.off += n
	return r.buf[r.off-n : r.off], nil
}

func (r *streamReader) u16(what string) (int, error) {
	b, err := r.bytes(2, what)
	if err != nil {
		return 0, err
	}
	return int(binary.BigEndian.Uint16(b)), nil
}

func (r *streamReader) i32(what string) (int32, error) {
	b, err := r.bytes(4, what)
	if err != nil {
		return 0, err
	}
	return int32(binary.BigEndian.Uint32(b)), nil
}

func (r *streamReader) u64(what string) (uint64, error) {
	b, err := r.bytes(8, what)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint64(b), nil
}

// utf reads a modified-UTF-8 string whose length prefix is 2 bytes (or 8 for TC_LONGSTRING).
func (r *streamReader) utf(long bool, what string) (string, error) {
	start := r.off
	var n uint64
	if long {
		v, err := r.u64(what + " length")
		if err != nil {
			return "", err
		}
		n = v
	} else {
		v, err := r.u16(what + " length")
		if err != nil {
			return "", err
		}
		n = uint64(v)
	}
	if n > uint64(len(r.buf)-r.off) {
		return "", r.errAt(start, "truncated: %s of %d bytes, %d remain", what, n, len(r.buf)-r.off)
	}
	b, _ := r.bytes(int(n), what)
	s, err := decodeModifiedUTF8(b)
	if err != nil {
		return "", r.errAt(start, "%s: %v", what, err)
	}
	return s, nil
}

func (r *streamReader) newHandle(v any) (int, error) {
	if len(r.handles) >= maxHandles {
		return 0, r.errAt(r.off, "more than %d objects", maxHandles)
	}
	r.handles = append(r.handles, v)
	return len(r.handles) - 1, nil
}

// content reads one item: an object, a string, an array, a class, an enum constant, null, a
// reference, a class description, or a block-data marker (which callers outside annotations reject).
func (r *streamReader) content() (any, error) {
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > maxDepth {
		return nil, r.errAt(r.off, "objects nested more than %d deep", maxDepth)
	}
	for {
		start := r.off
		tc, err := r.u8("type code")
		if err != nil {
			return nil, err
		}
		switch tc {
		case tcReset:
			r.handles = r.handles[:0]
			continue
		case tcNull:
			return nil, nil
		case tcReference:
			return r.reference(start)
		case tcString, tcLongString:
			s, err := r.utf(tc == tcLongString, "string")
			if err != nil {
				return nil, err
			}
			if _, err := r.newHandle(s); err != nil {
				return nil, err
			}
			return s, nil
		case tcObject:
			return r.newObject(start)
		case tcArray:
			return r.newArray(start)
		case tcClass:
			d, err := r.classDesc(true)
			if err != nil {
				return nil, err
			}
			c := classRef{d}
			_, err = r.newHandle(c)
			return c, err
		case tcEnum:
			return r.newEnum(start)
		case tcClassDesc, tcProxyClassDesc:
			r.off = start
			return r.classDesc(true)
		case tcBlockData, tcBlockDataLong:
			n := 0
			if tc == tcBlockData {
				b, err := r.u8("block length")
				if err != nil {
					return nil, err
				}
				n = int(b)
			} else {
				v, err := r.i32("block length")
				if err != nil {
					return nil, err
				}
				n = int(v)
			}
			if _, err := r.bytes(n, "block data"); err != nil {
				return nil, err
			}
			return blockMarker{}, nil
		case tcEndBlockData:
			return blockMarker{end: true}, nil
		case tcException:
			return nil, r.errAt(start, "stream holds an exception the writer hit (TC_EXCEPTION)")
		default:
			return nil, r.errAt(start, "unknown type code 0x%02x", tc)
		}
	}
}

func (r *streamReader) reference(start int) (any, error) {
	h, err := r.i32("handle")
	if err != nil {
		return nil, err
	}
	i := int64(h) - baseWireHandle
	if i < 0 || i >= int64(len(r.handles)) {
		return nil, r.errAt(start, "reference to handle 0x%x, which does not exist", h)
	}
	return r.handles[i], nil
}

// objectValue reads content that must be a value (not block data).
func (r *streamReader) objectValue(what string) (any, error) {
	start := r.off
	v, err := r.content()
	if err != nil {
		return nil, err
	}
	if _, ok := v.(blockMarker); ok {
		return nil, r.errAt(start, "block data where %s should be", what)
	}
	return v, nil
}

// annotation skips class or object annotations: block data and objects up to TC_ENDBLOCKDATA.
func (r *streamReader) annotation() error {
	for {
		v, err := r.content()
		if err != nil {
			return err
		}
		if m, ok := v.(blockMarker); ok && m.end {
			return nil
		}
	}
}

// classDesc reads a class description (TC_CLASSDESC, a reference to one, or TC_NULL when
// allowNull). Dynamic proxy classes are refused: nothing we read is one.
func (r *streamReader) classDesc(allowNull bool) (*classDesc, error) {
	start := r.off
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > maxDepth {
		return nil, r.errAt(start, "class descriptions nested more than %d deep", maxDepth)
	}
	tc, err := r.u8("class description")
	if err != nil {
		return nil, err
	}
	switch tc {
	case tcNull:
		if allowNull {
			return nil, nil
		}
		return nil, r.errAt(start, "null class description")
	case tcReference:
		v, err := r.reference(start)
		if err != nil {
			return nil, err
		}
		d, ok := v.(*classDesc)
		if !ok {
			return nil, r.errAt(start, "reference to a %s where a class description should be", kindOf(v))
		}
		return d, nil
	case tcProxyClassDesc:
		return nil, r.errAt(start, "dynamic proxy class (TC_PROXYCLASSDESC): not a sealed password or key")
	case tcClassDesc:
	default:
		return nil, r.errAt(start, "type code 0x%02x where a class description should be", tc)
	}
	name, err := r.utf(false, "class name")
	if err != nil {
		return nil, err
	}
	if _, err := r.u64("serialVersionUID"); err != nil {
		return nil, err
	}
	d := &classDesc{name: name}
	if _, err := r.newHandle(d); err != nil {
		return nil, err
	}
	if d.flags, err = r.u8("class flags"); err != nil {
		return nil, err
	}
	if d.flags&scSerializable != 0 && d.flags&scExternalizable != 0 {
		return nil, r.errAt(r.off-1, "class %s is flagged both Serializable and Externalizable", name)
	}
	n, err := r.u16("field count")
	if err != nil {
		return nil, err
	}
	if n*3 > len(r.buf)-r.off { // each field takes at least a type code and a name length
		return nil, r.errAt(r.off-2, "truncated: class %s declares %d fields", name, n)
	}
	d.fields = make([]fieldDesc, 0, n)
	for i := 0; i < n; i++ {
		fstart := r.off
		typ, err := r.u8("field type")
		if err != nil {
			return nil, err
		}
		fname, err := r.utf(false, "field name")
		if err != nil {
			return nil, err
		}
		switch typ {
		case 'B', 'C', 'D', 'F', 'I', 'J', 'S', 'Z':
		case '[', 'L':
			t, err := r.objectValue("a field's type name")
			if err != nil {
				return nil, err
			}
			if _, ok := t.(string); !ok {
				return nil, r.errAt(fstart, "field %s.%s: type name is a %s, not a string", name, fname, kindOf(t))
			}
		default:
			return nil, r.errAt(fstart, "field %s.%s: unknown field type %q", name, fname, typ)
		}
		d.fields = append(d.fields, fieldDesc{typ: typ, name: fname})
	}
	if err := r.annotation(); err != nil {
		return nil, err
	}
	if d.super, err = r.classDesc(true); err != nil {
		return nil, err
	}
	return d, nil
}

func (r *streamReader) newObject(start int) (any, error) {
	d, err := r.classDesc(false)
	if err != nil {
		return nil, err
	}
	if d.flags&scEnum != 0 || (len(d.name) > 0 && d.name[0] == '[') {
		return nil, r.errAt(start, "TC_OBJECT of class %s, which is an enum or array class", d.name)
	}
	chain, err := r.chain(start, d)
	if err != nil {
		return nil, err
	}
	o := &object{class: d}
	if _, err := r.newHandle(o); err != nil {
		return nil, err
	}
	for _, c := range chain {
		switch {
		case c.flags&scExternalizable != 0:
			if c.flags&scBlockData == 0 {
				return nil, r.errAt(start, "class %s is Externalizable in the old protocol: its data cannot be skipped", c.name)
			}
			if err := r.annotation(); err != nil {
				return nil, err
			}
		case c.flags&scSerializable != 0:
			values := make(map[string]any, len(c.fields))
			for _, f := range c.fields {
				v, err := r.fieldValue(c, f)
				if err != nil {
					return nil, err
				}
				values[f.name] = v
			}
			o.data = append(o.data, classData{desc: c, values: values})
			if c.flags&scWriteMethod != 0 {
				if err := r.annotation(); err != nil {
					return nil, err
				}
			}
		}
	}
	return o, nil
}

// chain lists d and its superclasses, top-most first, refusing cycles (a class description may
// name itself as its superclass through a handle).
func (r *streamReader) chain(start int, d *classDesc) ([]*classDesc, error) {
	var chain []*classDesc
	for c := d; c != nil; c = c.super {
		if len(chain) >= maxClassChain {
			return nil, r.errAt(start, "class %s has more than %d superclasses (a cycle?)", d.name, maxClassChain)
		}
		chain = append(chain, c)
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain, nil
}

var primitiveSize = map[byte]int{'B': 1, 'Z': 1, 'C': 2, 'S': 2, 'I': 4, 'F': 4, 'J': 8, 'D': 8}

func (r *streamReader) countValues(n int) error {
	if n > maxValues-r.values {
		return r.errAt(r.off, "more than %d field values and array elements", maxValues)
	}
	r.values += n
	return nil
}

func (r *streamReader) fieldValue(c *classDesc, f fieldDesc) (any, error) {
	if err := r.countValues(1); err != nil {
		return nil, err
	}
	if size, ok := primitiveSize[f.typ]; ok {
		b, err := r.bytes(size, "field "+c.name+"."+f.name)
		if err != nil {
			return nil, err
		}
		var bits uint64
		for _, x := range b {
			bits = bits<<8 | uint64(x)
		}
		return primitive{typ: f.typ, bits: bits}, nil
	}
	return r.objectValue("field " + c.name + "." + f.name)
}

func (r *streamReader) newArray(start int) (any, error) {
	d, err := r.classDesc(false)
	if err != nil {
		return nil, err
	}
	if len(d.name) < 2 || d.name[0] != '[' {
		return nil, r.errAt(start, "array of class %q, which is not an array class", d.name)
	}
	a := &array{class: d}
	if _, err := r.newHandle(a); err != nil {
		return nil, err
	}
	n32, err := r.i32("array length")
	if err != nil {
		return nil, err
	}
	n := int(n32)
	elem := d.name[1]
	if size, ok := primitiveSize[elem]; ok {
		if n < 0 || n > (len(r.buf)-r.off)/size {
			return nil, r.errAt(start, "truncated: array %s of %d elements", d.name, n32)
		}
		b, _ := r.bytes(n*size, "array")
		if elem == 'B' {
			a.bytes = b
		}
		return a, nil
	}
	if elem != 'L' && elem != '[' {
		return nil, r.errAt(start, "array class %q has an unknown element type", d.name)
	}
	if n < 0 || n > len(r.buf)-r.off { // every element takes at least one byte
		return nil, r.errAt(start, "truncated: array %s of %d elements", d.name, n32)
	}
	if err := r.countValues(n); err != nil {
		return nil, err
	}
	a.elems = make([]any, 0, n)
	for i := 0; i < n; i++ {
		v, err := r.objectValue("array element")
		if err != nil {
			return nil, err
		}
		a.elems = append(a.elems, v)
	}
	return a, nil
}

func (r *streamReader) newEnum(start int) (any, error) {
	d, err := r.classDesc(false)
	if err != nil {
		return nil, err
	}
	e := &enumConst{class: d}
	if _, err := r.newHandle(e); err != nil {
		return nil, err
	}
	v, err := r.objectValue("enum constant name")
	if err != nil {
		return nil, err
	}
	s, ok := v.(string)
	if !ok {
		return nil, r.errAt(start, "enum %s: constant name is a %s, not a string", d.name, kindOf(v))
	}
	e.name = s
	return e, nil
}

// kindOf names what a value is, for errors ("a java.util.HashMap", "a string").
func kindOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "java.lang.String"
	case *object:
		return x.class.name
	case *array:
		return "array " + x.class.name
	case *classDesc:
		return "class description " + x.name
	case classRef:
		return "class object"
	case *enumConst:
		return "enum " + x.class.name
	default:
		return fmt.Sprintf("%T", v)
	}
}

// decodeModifiedUTF8 decodes Java's modified UTF-8 (DataInput.readUTF): UTF-16 code units in one to
// three bytes each, NUL as C0 80, supplementary characters as two encoded surrogates. Unpaired
// surrogates are refused: no database password can hold one.
func decodeModifiedUTF8(b []byte) (string, error) {
	units := make([]uint16, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c != 0 && c < 0x80:
			units = append(units, uint16(c))
			i++
		case c&0xE0 == 0xC0:
			if i+1 >= len(b) || b[i+1]&0xC0 != 0x80 {
				return "", fmt.Errorf("bad modified UTF-8 at string byte %d", i)
			}
			units = append(units, uint16(c&0x1F)<<6|uint16(b[i+1]&0x3F))
			i += 2
		case c&0xF0 == 0xE0:
			if i+2 >= len(b) || b[i+1]&0xC0 != 0x80 || b[i+2]&0xC0 != 0x80 {
				return "", fmt.Errorf("bad modified UTF-8 at string byte %d", i)
			}
			units = append(units, uint16(c&0x0F)<<12|uint16(b[i+1]&0x3F)<<6|uint16(b[i+2]&0x3F))
			i += 3
		default:
			return "", fmt.Errorf("bad modified UTF-8 at string byte %d", i)
		}
	}
	for i := 0; i < len(units); i++ {
		u := units[i]
		if utf16.IsSurrogate(rune(u)) {
			if u >= 0xDC00 || i+1 >= len(units) || units[i+1] < 0xDC00 || units[i+1] > 0xDFFF {
				return "", fmt.Errorf("unpaired UTF-16 surrogate at character %d", i)
			}
			i++
		}
	}
	return string(utf16.Decode(units)), nil
}
