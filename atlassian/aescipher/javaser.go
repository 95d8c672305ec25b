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
