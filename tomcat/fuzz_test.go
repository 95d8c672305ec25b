package tomcat

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDetect: any server.xml/context.xml pair gives a result or an error, never a panic, and a
// persisting result always says where its files are (or that they cannot be cleared).
func FuzzDetect(f *testing.F) {
	for _, name := range []string{"jira-server.xml", "confluence-server.xml"} {
		b, _ := os.ReadFile(filepath.Join("testdata", name))
		c, _ := os.ReadFile(filepath.Join("testdata", "context-persist.xml"))
		f.Add(b, c)
	}
	f.Add([]byte("<Server><Context><Manager/></Context></Server>"), []byte("<Context><Manager pathname=''/></Context>"))
	f.Fuzz(func(t *testing.T, server, context []byte) {
		read := func(p string) ([]byte, error) {
			switch filepath.Base(p) {
			case "server.xml":
				return server, nil
			case "context.xml":
				return context, nil
			}
			return nil, fs.ErrNotExist
		}
		p, err := Detect(read, "/opt/x")
		if err != nil {
			return
		}
		if p.State == On && p.Clearable && len(p.Files) == 0 {
			t.Fatalf("persistence on and clearable, but no files: %+v", p)
		}
	})
}
