package static

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxWalk bounds the files looked at when searching for scripts.
const maxWalk = 50000

// scriptNotes names the programs under the patterns' directories that are
// not Go (shell, Python, Perl... scripts, by extension or #! line): their
// couplings are visible only at run time.
func scriptNotes(dir string, patterns []string) []string {
	var found []string
	for _, p := range patterns {
		root, ok := strings.CutSuffix(p, "/...")
		if !ok || !(root == "." || strings.HasPrefix(root, "./") || strings.HasPrefix(root, "/")) {
			continue
		}
		if !filepath.IsAbs(root) {
			root = filepath.Join(dir, root)
		}
		found = append(found, findScripts(dir, root)...)
	}
	found = uniqSorted(found)
	if len(found) == 0 {
		return nil
	}
	shown := found
	if len(shown) > 10 {
		shown = append(shown[:10:10], fmt.Sprintf("and %d more", len(found)-10))
	}
	return []string{fmt.Sprintf("not Go, not analyzed but for the command lines that start the binaries (their couplings show only at run time): %s", strings.Join(shown, ", "))}
}

// findScripts lists the scripts under root, relative to dir, skipping
// hidden, testdata, vendor and node_modules directories.
func findScripts(dir, root string) []string {
	var found []string
	seen := 0
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		seen++
		if err != nil || seen > maxWalk {
			return filepath.SkipDir
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if isScript(path, name) {
			if rel, err := filepath.Rel(dir, path); err == nil {
				path = filepath.ToSlash(rel)
			}
			found = append(found, path)
		}
		return nil
	})
	return found
}

var scriptExts = []string{".sh", ".bash", ".py", ".pl", ".rb", ".php", ".sh.tmpl", ".sh.in"}

func isScript(path, name string) bool {
	for _, e := range scriptExts {
		if strings.HasSuffix(name, e) {
			return true
		}
	}
	if strings.Contains(name, ".") {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 2)
	n, _ := f.Read(head)
	return bytes.Equal(head[:n], []byte("#!"))
}
