package aescipher

// The grammar of the stream (Java Object Serialization Specification 6.4): contents, class
// descriptions, objects, arrays, enums, and the annotations written by writeObject methods.

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
