package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// hostileNames are created on disk by the recorded programs: markup,
// quotes, control characters, invalid UTF-8.
var hostileNames = []string{
	"<img src=x onerror=alert(1)>",
	"line\nbreak",
	"\x1b[31mred\x1b]0;title\x07",
	`quote"and'apos`,
	"bad\xffutf8",
}

// TestHostileNamesFlowThroughEverything records two programs sharing files
// with hostile names (in a directory with a hostile name), then checks that
// analyze --json, every report format and the Kubernetes manifests stay
// valid and inert (issue 9).
func TestHostileNamesFlowThroughEverything(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("recording needs root; CI runs as root")
	}
	dir := filepath.Join(t.TempDir(), "<script>alert(1)</script>\n\x1b[2J")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writer, reader := filepath.Join(t.TempDir(), "writer.sh"), filepath.Join(t.TempDir(), "reader.sh")
	var w, r strings.Builder
	for i, n := range hostileNames {
		path := filepath.Join(dir, n)
		if err := os.WriteFile(filepath.Join(dir, "name"+string(rune('0'+i))), []byte(path), 0o644); err != nil {
			t.Fatal(err)
		}
		// The shell reads each hostile path from a file: no quoting games.
		w.WriteString(`p=$(cat "$D/name` + string(rune('0'+i)) + `"); echo data > "$p"` + "\n")
		r.WriteString(`p=$(cat "$D/name` + string(rune('0'+i)) + `"); cat "$p" > /dev/null` + "\n")
	}
	os.WriteFile(writer, []byte(w.String()+"sleep 1\n"), 0o755)
	os.WriteFile(reader, []byte("sleep 0.5\n"+r.String()), 0o755)
	out := filepath.Join(t.TempDir(), "hostile.trace")
	script := "export D=\"$1\"; sh " + writer + " & sh " + reader + "; wait"
	if code, _, errOut := decompose(t, "record", "-o", out, "--", "sh", "-c", script, "sh", dir); code != 0 {
		t.Fatalf("record: exit %d: %s", code, errOut)
	}

	code, js, errOut := decompose(t, "analyze", "--json", out)
	if code != 0 || !json.Valid([]byte(js)) {
		t.Fatalf("analyze --json: exit %d, valid %v: %s", code, json.Valid([]byte(js)), errOut)
	}
	found := 0
	var plan struct {
		Couplings []struct{ Resource string } `json:"couplings"`
	}
	json.Unmarshal([]byte(js), &plan)
	for _, c := range plan.Couplings {
		for _, n := range hostileNames {
			if strings.HasSuffix(c.Resource, "/"+strings.ToValidUTF8(n, "\uFFFD")) || strings.HasSuffix(c.Resource, "/"+n) {
				found++
			}
		}
	}
	if found < len(hostileNames)-1 {
		t.Fatalf("only %d hostile names reached the plan intact:\n%s", found, js)
	}
	checkReports(t, out)
	checkManifests(t, out)
}

func checkReports(t *testing.T, tracePath string) {
	t.Helper()
	for _, f := range []string{"text", "md", "html", "dot"} {
		code, body, errOut := decompose(t, "report", "-f", f, tracePath)
		if code != 0 {
			t.Fatalf("report -f %s: exit %d: %s", f, code, errOut)
		}
		if !utf8.ValidString(body) && f != "dot" {
			t.Errorf("report -f %s is not valid UTF-8", f)
		}
		switch f {
		case "text":
			for _, r := range body {
				if (r < ' ' && r != '\n') || r == 0x7f {
					t.Fatalf("text report holds control character %U", r)
				}
			}
		case "md", "html":
			for _, bad := range []string{"<img src=x", "<script>alert", "\x1b"} {
				if strings.Contains(body, bad) {
					t.Fatalf("%s report holds %q raw", f, bad)
				}
			}
		case "dot":
			cmd := exec.Command("dot", "-Tcanon")
			cmd.Stdin = strings.NewReader(body)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("dot rejects the DOT report: %v\n%s", err, out)
			}
		}
	}
}

func checkManifests(t *testing.T, tracePath string) {
	t.Helper()
	dir := t.TempDir()
	if code, _, errOut := decompose(t, "manifests", "-f", "k8s", "-o", dir, tracePath); code != 0 {
		t.Fatalf("manifests: exit %d: %s", code, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no manifests written")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range bytes.Split(b, []byte("\n---\n")) {
			var v any
			if err := yaml.Unmarshal(doc, &v); err != nil {
				t.Fatalf("%s is not valid YAML: %v", f, err)
			}
		}
		if bytes.Contains(b, []byte("\x1b")) {
			t.Fatalf("%s holds a raw escape character", f)
		}
	}
}
