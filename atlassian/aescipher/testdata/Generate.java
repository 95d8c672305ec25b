// Generate writes test vectors for package aescipher: database passwords sealed the way Atlassian's
// cipher tool (com.atlassian.secrets.store.algorithm.AlgorithmSecretStore, formerly
// com.atlassian.db.config.password.ciphers.algorithm.AlgorithmCipher) seals them, made with the
// real javax.crypto classes of the JDK that runs it.
//
// What the tool does, and so what this does: a KeyGenerator key of the chosen algorithm (AES 128
// bits, DES 56, DESede 168) kept as a javax.crypto.spec.SecretKeySpec; algorithm parameters (the
// random IV) from an AlgorithmParameterGenerator; a Cipher of the chosen transformation (e.g.
// "AES/CBC/PKCS5PADDING") initialised with both; a javax.crypto.SealedObject of the password String
// sealed with it. The key, and (unless it goes base64 into the JSON as serializedSealedObject) the
// sealed object, are each written with one ObjectOutputStream.writeObject to files named
// "<class name>_<epoch millis>". The tool uses the BouncyCastle provider; so does this when
// bcprov.jar is on the class path (Debian package libbcprov-java), else the JDK's SunJCE. The tool
// also writes the AlgorithmParameters to a third file; decryption never reads it (the sealed object
// carries the parameters), so it is not written here.
//
// Each vector is a directory holding those files, field.json (the password field's JSON, as the tool
// prints it, with paths prefixed by the output directory given here) and expected.txt (the password,
// UTF-8). Run it from atlassian/aescipher so the relative paths in field.json work for go test:
//
//	java -cp /usr/share/java/bcprov.jar testdata/Generate.java fixed testdata/vectors
//	java -cp /usr/share/java/bcprov.jar testdata/Generate.java random /tmp/fresh 12
//
// "fixed" writes the committed set (chosen passwords, plus foreign streams under foreign/);
// "random" writes COUNT vectors with random passwords. Keys and IVs come from SecureRandom, which
// cannot be seeded reliably, so every run differs: the committed files are simply the output of one.
import java.io.ByteArrayOutputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.AlgorithmParameterGenerator;
import java.security.AlgorithmParameters;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Security;
import java.util.Base64;
import java.util.HashMap;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SealedObject;
import javax.crypto.SecretKey;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

public class Generate {
    static final SecureRandom RANDOM = new SecureRandom();
    static Provider bc; // BouncyCastle when on the class path, else null (SunJCE)
    static long lastMillis;

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || !(args[0].equals("fixed") || args[0].equals("random"))) {
            System.err.println("usage: java [-cp bcprov.jar] Generate.java fixed|random OUTDIR [COUNT]");
            System.exit(2);
        }
        bc = loadBouncyCastle();
        String base = args[1].endsWith("/") ? args[1] : args[1] + "/";
        Files.createDirectories(Paths.get(base));
        if (args[0].equals("fixed")) {
            fixed(base);
        } else {
            random(base, args.length > 2 ? Integer.parseInt(args[2]) : 12);
        }
        System.err.println("vectors written to " + base + " (provider " + (bc != null ? "BC" : "SunJCE") + ")");
    }

    static Provider loadBouncyCastle() {
        try {
            Provider p = (Provider) Class.forName("org.bouncycastle.jce.provider.BouncyCastleProvider")
                    .getDeclaredConstructor().newInstance();
            Security.addProvider(p); // as the tool does: appended, so SunJCE still decrypts by default
            return p;
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    static void fixed(String base) throws Exception {
        seal(base, "aes-ascii", "Jira-db-pass_42", "AES/CBC/PKCS5PADDING", "AES", bc, true, false);
        // Non-ASCII: Latin-1, a BMP symbol, a CJK ideograph and a supplementary character (a
        // surrogate pair, which Java's modified UTF-8 writes as two 3-byte sequences).
        seal(base, "aes-unicode", "Pässwörd-€-密码-\uD83D\uDE00", "AES/CBC/PKCS5PADDING", "AES", bc, true, false);
        seal(base, "aes-long", "x".repeat(40) + "-long-password-".repeat(20) + "end", "AES/CBC/PKCS5PADDING", "AES", bc, true, false);
        // Over 65535 bytes of modified UTF-8: serialized as TC_LONGSTRING.
        seal(base, "aes-longstring", "L".repeat(70000), "AES/CBC/PKCS5Padding", "AES", bc, true, false);
        seal(base, "aes-serialized", "serialized-in-json", "AES/CBC/PKCS5PADDING", "AES", bc, false, false);
        seal(base, "desede", "triple-des-pass", "DESede/CBC/PKCS5Padding", "DESede", bc, true, false);
        seal(base, "des", "des-pass", "DES/CBC/PKCS5Padding", "DES", bc, true, false);
        // The JDK's own provider, with the "algorithm" key the docs show in the decryption JSON.
        seal(base, "aes-sunjce", "sunjce-pass", "AES/CBC/PKCS5Padding", "AES", null, true, true);

        // Foreign streams: what a wrong path or a mixed-up file would give.
        Path foreign = Paths.get(base, "foreign");
        Files.createDirectories(foreign);
        HashMap<String, String> map = new HashMap<>();
        map.put("sealedObjectFilePath", "/nowhere");
        map.put("keyFilePath", "/nowhere");
        Files.write(foreign.resolve("java.util.HashMap.ser"), serialize(map));
        Files.write(foreign.resolve("java.lang.String.ser"), serialize("just a string"));
        // A SealedObject whose content is not a String, with its key.
        SecretKeySpec key = newKey("AES", null);
        Cipher c = Cipher.getInstance("AES/CBC/PKCS5Padding");
        c.init(Cipher.ENCRYPT_MODE, key, newParams("AES", null));
        Files.write(foreign.resolve("sealed-hashmap.ser"), serialize(new SealedObject(map, c)));
        Files.write(foreign.resolve("sealed-hashmap.key"), serialize(key));
    }

    static void random(String base, int count) throws Exception {
        String[][] kinds = {
            {"AES/CBC/PKCS5PADDING", "AES"}, {"AES/CBC/PKCS5Padding", "AES"},
            {"DESede/CBC/PKCS5Padding", "DESede"}, {"DES/CBC/PKCS5Padding", "DES"},
        };
        for (int i = 0; i < count; i++) {
            String[] kind = kinds[i % kinds.length];
            boolean files = (i / kinds.length) % 2 == 0;
            Provider p = (i % 3 == 2) ? null : bc;
            String pw = i == count - 1 ? randomPassword(70000 + RANDOM.nextInt(1000)) : randomPassword(1 + RANDOM.nextInt(80));
            String name = String.format("r%02d-%s-%s-%s", i, kind[1].toLowerCase(), files ? "files" : "json", p != null ? "bc" : "sunjce");
            seal(base, name, pw, kind[0], kind[1], p, files, false);
        }
    }

    // randomPassword mixes ASCII, other BMP characters and supplementary ones; never a lone surrogate
    // (a Java String may hold one, but it has no UTF-8 form, so no database accepts it).
    static String randomPassword(int codePoints) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < codePoints; i++) {
            int r = RANDOM.nextInt(100);
            int cp;
            if (r < 70) {
                cp = 0x20 + RANDOM.nextInt(0x5F);
            } else if (r < 90) {
                do {
                    cp = 0x80 + RANDOM.nextInt(0xFFFE - 0x80);
                } while (cp >= 0xD800 && cp <= 0xDFFF);
            } else {
                cp = 0x10000 + RANDOM.nextInt(0x10FFFF - 0x10000);
            }
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }

    static SecretKeySpec newKey(String keyAlg, Provider p) throws Exception {
        KeyGenerator kg = p != null ? KeyGenerator.getInstance(keyAlg, p) : KeyGenerator.getInstance(keyAlg);
        kg.init(keyAlg.equals("AES") ? 128 : keyAlg.equals("DES") ? 56 : 168);
        SecretKey k = kg.generateKey();
        return k instanceof SecretKeySpec ? (SecretKeySpec) k : new SecretKeySpec(k.getEncoded(), k.getAlgorithm());
    }

    static AlgorithmParameters newParams(String keyAlg, Provider p) throws Exception {
        if (p != null) {
            // As the tool does (an AlgorithmParameterGenerator of the key's algorithm).
            AlgorithmParameterGenerator g = AlgorithmParameterGenerator.getInstance(keyAlg, p);
            g.init(Math.abs(RANDOM.nextInt()), new SecureRandom());
            return g.generateParameters();
        }
        // SunJCE has no parameter generator for these: a random IV does the same job.
        byte[] iv = new byte[keyAlg.equals("AES") ? 16 : 8];
        RANDOM.nextBytes(iv);
        AlgorithmParameters ap = AlgorithmParameters.getInstance(keyAlg);
        ap.init(new IvParameterSpec(iv));
        return ap;
    }

    static void seal(String base, String name, String password, String transformation, String keyAlg,
                     Provider p, boolean separateFile, boolean withAlgorithm) throws Exception {
        Path dir = Paths.get(base, name);
        Files.createDirectories(dir);
        String prefix = base + name + "/";
        SecretKeySpec key = newKey(keyAlg, p);
        Cipher cipher = p != null ? Cipher.getInstance(transformation, p) : Cipher.getInstance(transformation);
        cipher.init(Cipher.ENCRYPT_MODE, key, newParams(keyAlg, p));
        SealedObject sealed = new SealedObject(password, cipher);

        long ts = uniqueMillis();
        String keyPath = prefix + SecretKeySpec.class.getName() + "_" + ts;
        Files.write(Paths.get(keyPath), serialize(key));
        StringBuilder json = new StringBuilder("{");
        if (separateFile) {
            String sealedPath = prefix + SealedObject.class.getName() + "_" + ts;
            Files.write(Paths.get(sealedPath), serialize(sealed));
            json.append("\"sealedObjectFilePath\":").append(jsonString(sealedPath)).append(",");
        }
        json.append("\"keyFilePath\":").append(jsonString(keyPath));
        if (!separateFile) {
            json.append(",\"serializedSealedObject\":")
                .append(jsonString(Base64.getEncoder().encodeToString(serialize(sealed))));
        }
        if (withAlgorithm) {
            json.append(",\"algorithm\":").append(jsonString(transformation));
        }
        json.append("}");
        Files.write(dir.resolve("field.json"), json.toString().getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("expected.txt"), password.getBytes(StandardCharsets.UTF_8));
    }

    // uniqueMillis keeps file names distinct when two vectors are made in the same millisecond.
    static long uniqueMillis() {
        long now = System.currentTimeMillis();
        lastMillis = Math.max(now, lastMillis + 1);
        return lastMillis;
    }

    static byte[] serialize(Serializable o) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(o);
        }
        return bytes.toByteArray();
    }

    // jsonString escapes like Gson (which the tool uses): quotes, backslashes, control characters,
    // and its HTML-safe set, so '=' in base64 padding comes out as \u003d.
    static String jsonString(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\t': sb.append("\\t"); break;
                case '<': case '>': case '&': case '=': case '\'':
                    sb.append(String.format("\\u%04x", (int) ch)); break;
                default:
                    if (ch < 0x20) {
                        sb.append(String.format("\\u%04x", (int) ch));
                    } else {
                        sb.append(ch);
                    }
            }
        }
        return sb.append('"').toString();
    }
}
