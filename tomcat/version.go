package tomcat

import (
	"archive/zip"
	"bufio"
	"bytes"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Version returns the Tomcat version found in the first of dirs that has lib/catalina.jar
// (ServerInfo.properties or the manifest) or RELEASE-NOTES, or "" when none says.
func Version(read ReadFunc, dirs ...string) string {
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if b, err := read(path.Join(d, "lib", "catalina.jar")); err == nil {
			if v := jarVersion(b); v != "" {
				return v
			}
		}
		if b, err := read(path.Join(d, "RELEASE-NOTES")); err == nil {
			if m := releaseNotesRE.FindSubmatch(b); m != nil {
				return string(m[1])
			}
		}
	}
	return ""
}

var (
	releaseNotesRE = regexp.MustCompile(`Apache Tomcat Version ([0-9]+\.[0-9]+\.[0-9]+)`)
	versionRE      = regexp.MustCompile(`^([0-9]+\.[0-9]+\.[0-9]+)`)
)

func jarVersion(b []byte) string {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return ""
	}
	read := func(name, key string) string {
		f, err := zr.Open(name)
		if err != nil {
			return ""
		}
		defer f.Close()
		sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), key)
			if ok && strings.TrimSpace(k) == "" {
				if m := versionRE.FindString(strings.TrimSpace(v)); m != "" {
					return m
				}
			}
		}
		return ""
	}
	if v := read("org/apache/catalina/util/ServerInfo.properties", "server.number="); v != "" {
		return v
	}
	return read("META-INF/MANIFEST.MF", "Implementation-Version:")
}

// atLeast reports whether version v is >= major.minor; ok is false when v is not a version.
func atLeast(v string, major, minor int) (newer, ok bool) {
	parts := strings.Split(v, ".")
	if len(parts) < 2 {
		return false, false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false, false
	}
	return ma > major || (ma == major && mi >= minor), true
}
