package aescipher

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"errors"
	"fmt"
	"strings"
)

// Errors Decrypt wraps (test with errors.Is); the text around them says what to do.
var (
	// ErrKeyMismatch: the key does not decrypt the sealed password (wrong key file).
	ErrKeyMismatch = errors.New("the key file does not match the sealed password")
	// ErrUnsupported: a cipher class, algorithm, mode or padding reauth does not decrypt.
	ErrUnsupported = errors.New("unsupported")
	// ErrForeign: a file or value that is not the Java-serialized object expected, or is damaged.
	ErrForeign = errors.New("not the expected Java-serialized object")
)

const (
	classSealedObject  = "javax.crypto.SealedObject"
	classSecretKeySpec = "javax.crypto.spec.SecretKeySpec"
)

// kindError is an error of one of the kinds above (or fs.ErrNotExist, fs.ErrPermission) whose
// text is one plain sentence, without the kind's own text tacked on.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.kind }

func errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// sealedObject holds the fields of a javax.crypto.SealedObject.
type sealedObject struct {
	encryptedContent []byte
	encodedParams    []byte // the cipher's AlgorithmParameters, DER; nil when it had none
	sealAlg          string // the Cipher's transformation, e.g. "AES/CBC/PKCS5PADDING"
	paramsAlg        string // e.g. "AES"
}

// secretKey holds the fields of a javax.crypto.spec.SecretKeySpec. Its bytes never go in an error.
type secretKey struct {
	key       []byte
	algorithm string
}

// topObject reads stream b and checks that it holds an object of class want; what names the source
// for errors ("key file /k").
func topObject(b []byte, want, what string) (*object, error) {
	v, err := readStream(b)
	if err != nil {
		return nil, errorf(ErrForeign, "%s is not a Java-serialized %s: %v", what, want, err)
	}
	o, ok := v.(*object)
	if !ok || o.class.name != want {
		return nil, errorf(ErrForeign, "%s holds a %s, not a %s", what, kindOf(v), want)
	}
	return o, nil
}

func fieldBytes(o *object, class, name, what string, optional bool) ([]byte, error) {
	v, _ := o.field(class, name)
	if v == nil && optional {
		return nil, nil
	}
	a, ok := v.(*array)
	if !ok || a.class.name != "[B" {
		return nil, errorf(ErrForeign, "%s: field %s is a %s, not a byte array", what, name, kindOf(v))
	}
	return a.bytes, nil
}

func fieldString(o *object, class, name, what string, optional bool) (string, error) {
	v, _ := o.field(class, name)
	if v == nil && optional {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", errorf(ErrForeign, "%s: field %s is a %s, not a String", what, name, kindOf(v))
	}
	return s, nil
}

// parseSealedObject reads a Java-serialized javax.crypto.SealedObject.
func parseSealedObject(b []byte, what string) (sealedObject, error) {
	var s sealedObject
	o, err := topObject(b, classSealedObject, what)
	if err != nil {
		return s, err
	}
	if s.encryptedContent, err = fieldBytes(o, classSealedObject, "encryptedContent", what, false); err != nil {
		return s, err
	}
	if s.encodedParams, err = fieldBytes(o, classSealedObject, "encodedParams", what, true); err != nil {
		return s, err
	}
	if s.sealAlg, err = fieldString(o, classSealedObject, "sealAlg", what, false); err != nil {
		return s, err
	}
	if s.paramsAlg, err = fieldString(o, classSealedObject, "paramsAlg", what, true); err != nil {
		return s, err
	}
	return s, nil
}

// parseSecretKey reads a Java-serialized javax.crypto.spec.SecretKeySpec.
func parseSecretKey(b []byte, what string) (secretKey, error) {
	var k secretKey
	o, err := topObject(b, classSecretKeySpec, what)
	if err != nil {
		return k, err
	}
	if k.key, err = fieldBytes(o, classSecretKeySpec, "key", what, false); err != nil {
		return k, err
	}
	if k.algorithm, err = fieldString(o, classSecretKeySpec, "algorithm", what, false); err != nil {
		return k, err
	}
	return k, nil
}

// transformation is a parsed Cipher transformation "ALG/MODE/PADDING".
type transformation struct {
	alg string // canonical: AES, DES, DESede
}

// parseTransformation accepts what Atlassian's tool offers (AES, DES and DESede in CBC mode with
// PKCS5 padding, names in any case, as JCE compares them), and BouncyCastle's PKCS7Padding alias.
func parseTransformation(sealAlg string) (transformation, error) {
	parts := strings.Split(sealAlg, "/")
	alg := canonicalAlg(parts[0])
	if alg == "" || len(parts) != 3 || !strings.EqualFold(parts[1], "CBC") ||
		!(strings.EqualFold(parts[2], "PKCS5Padding") || strings.EqualFold(parts[2], "PKCS7Padding")) {
		return transformation{}, errorf(ErrUnsupported, "the password was sealed with %q, which is not supported: reauth decrypts AES, DES and DESede in CBC mode with PKCS5Padding, the algorithms Atlassian's tool offers",
			sealAlg)
	}
	return transformation{alg: alg}, nil
}

func canonicalAlg(name string) string {
	switch strings.ToUpper(name) {
	case "AES":
		return "AES"
	case "DES":
		return "DES"
	case "DESEDE", "TRIPLEDES":
		return "DESede"
	}
	return ""
}

// blockCipher makes the block cipher for t from the key, or says why the key cannot be it.
func (t transformation) blockCipher(k secretKey) (cipher.Block, error) {
	if canonicalAlg(k.algorithm) != t.alg {
		return nil, errorf(ErrKeyMismatch, "the key file does not match the sealed password: it holds a %q key but the password was sealed with %s", k.algorithm, t.alg)
	}
	switch t.alg {
	case "AES":
		if n := len(k.key); n != 16 && n != 24 && n != 32 {
			return nil, errorf(ErrKeyMismatch, "the key file does not match the sealed password: it holds a %d-byte AES key (AES needs 16, 24 or 32)", n)
		}
		return aes.NewCipher(k.key)
	case "DES":
		if len(k.key) != 8 {
			return nil, errorf(ErrKeyMismatch, "the key file does not match the sealed password: it holds a %d-byte DES key (DES needs 8)", len(k.key))
		}
		return des.NewCipher(k.key)
	default:
		key := k.key
		if len(key) == 16 { // two-key triple DES, which BouncyCastle accepts: K1 K2 K1
			key = append(append(make([]byte, 0, 24), key...), key[:8]...)
		}
		if len(key) != 24 {
			return nil, errorf(ErrKeyMismatch, "the key file does not match the sealed password: it holds a %d-byte DESede key (DESede needs 24)", len(k.key))
		}
		return des.NewTripleDESCipher(key)
	}
}

// ivFromParams reads the IV from the DER encoding of the cipher's AlgorithmParameters: an OCTET
// STRING (what both SunJCE and BouncyCastle write for IvParameterSpec).
func ivFromParams(der []byte, blockSize int) ([]byte, error) {
	if len(der) < 2 || der[0] != 0x04 {
		return nil, errors.New("its parameters are not a DER OCTET STRING holding an IV")
	}
	n, hdr := int(der[1]), 2
	if n == 0x81 {
		if len(der) < 3 {
			return nil, errors.New("its IV parameters are truncated")
		}
		n, hdr = int(der[2]), 3
	} else if n > 0x7F {
		return nil, errors.New("its IV parameters have an unexpected length encoding")
	}
	if len(der) != hdr+n {
		return nil, fmt.Errorf("its IV parameters are %d bytes where the encoding says %d", len(der)-hdr, n)
	}
	if n != blockSize {
		return nil, fmt.Errorf("its IV is %d bytes where the cipher needs %d", n, blockSize)
	}
	return der[hdr:], nil
}

// open decrypts the sealed object with the key and returns the password it holds. aesOnly refuses
// anything but AES, as Atlassian's AesOnly… classes do.
func open(s sealedObject, k secretKey, aesOnly bool) (string, error) {
	t, err := parseTransformation(s.sealAlg)
	if err != nil {
		return "", err
	}
	if aesOnly && t.alg != "AES" {
		return "", errorf(ErrUnsupported, "the password was sealed with %s, but the AES-only cipher class allows AES alone (the product refuses it too)", s.sealAlg)
	}
	// BouncyCastle labels DESede's IV parameters "DES" (the IV is the same 8 bytes), and Java
	// accepts that: compare families only.
	if s.paramsAlg != "" && strings.TrimSuffix(canonicalAlg(s.paramsAlg), "ede") != strings.TrimSuffix(t.alg, "ede") {
		return "", errorf(ErrForeign, "the sealed object is damaged: its parameters are for %q but it was sealed with %s", s.paramsAlg, s.sealAlg)
	}
	block, err := t.blockCipher(k)
	if err != nil {
		return "", err
	}
	bs := block.BlockSize()
	if s.encodedParams == nil {
		return "", errorf(ErrForeign, "the sealed object is damaged: it carries no IV (encodedParams is null), which %s needs", s.sealAlg)
	}
	iv, err := ivFromParams(s.encodedParams, bs)
	if err != nil {
		return "", errorf(ErrForeign, "the sealed object is damaged: %v", err)
	}
	ct := s.encryptedContent
	if len(ct) == 0 || len(ct)%bs != 0 {
		return "", errorf(ErrForeign, "the sealed object is damaged: its encrypted content is %d bytes, not a whole number of %d-byte blocks", len(ct), bs)
	}
	plain := make([]byte, len(ct))
	defer clear(plain) // the decrypted stream holds the password
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ct)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > bs {
		return "", errorf(ErrKeyMismatch, "the key file does not match the sealed password (decrypting gives bad padding)")
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return "", errorf(ErrKeyMismatch, "the key file does not match the sealed password (decrypting gives bad padding)")
		}
	}
	v, err := readStream(plain[:len(plain)-pad])
	if errors.Is(err, errBadMagic) {
		// Wrong keys pass the padding check about once in 256 tries; they never give this header.
		return "", errorf(ErrKeyMismatch, "the key file does not match the sealed password (the decrypted bytes are not a Java serialization stream)")
	}
	if err != nil {
		// The key is right (a wrong one does not give the stream header), the content is odd.
		return "", errorf(ErrForeign, "the decrypted password is not a String reauth can read: %v", err)
	}
	pw, ok := v.(string)
	if !ok {
		return "", errorf(ErrForeign, "the sealed object holds a %s, not a String password", kindOf(v))
	}
	return pw, nil
}
