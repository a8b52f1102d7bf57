package images

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// hostile is a file name a traced program could have chosen.
const hostile = "we'ird $(touch PWNED) `touch PWNED2`\nname"

// hostileResult is a result whose every trace string is hostile, with
// the source files of its tree below a temporary root.
func hostileResult(t *testing.T) (*Result, string) {
	t.Helper()
	src := t.TempDir()
	dir := filepath.Join(src, "srv", hostile)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	img := &Image{Name: "web", Ref: PlaceholderImage("web"), Pod: "web", Components: []string{hostile}, Closed: true,
		Tree:   []string{"/srv", "/srv/" + hostile, "/srv/" + hostile + "/app"},
		Files:  []Entry{{Path: "/srv/" + hostile + "/app", Class: Executable, Why: "executable of " + hostile, Final: "/srv/" + hostile + "/app", Size: 10}},
		Dirs:   []Dir{{Path: "/run/" + hostile, Class: Scratch, Why: "state"}, {Path: "/tmp", Class: Scratch}},
		Cmd:    []string{"/srv/" + hostile + "/app", "--x='$(id)'", "--password=<redacted>"},
		User:   33,
		GID:    33,
		Expose: []string{"8080/tcp"}}
	return &Result{Images: []*Image{img}, Root: src, Hostname: "vm", RecordedOn: []string{"vm"}}, src
}

// TestBuildScriptQuotesEverything runs build.sh against a fake podman:
// the root filesystem holds the hostile file, the run-time directory is
// made under its exact name, CMD reaches podman as JSON, and no command
// hidden in a name runs.
func TestBuildScriptQuotesEverything(t *testing.T) {
	res, _ := hostileResult(t)
	out := t.TempDir()
	files, err := res.Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(out, f.Name)), 0o755)
		if err := os.WriteFile(filepath.Join(out, f.Name), f.Data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := t.TempDir()
	fake := "#!/bin/sh\ncase \"$1\" in\nimport) shift; printf '%s\\0' \"$@\" > \"$FAKE_OUT/args\"; cat > \"$FAKE_OUT/rootfs.tar\";;\nimage) echo 123;;\nesac\n"
	if err := os.WriteFile(filepath.Join(bin, "podman"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", filepath.Join(out, "build.sh"))
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "FAKE_OUT="+out, "TAG=test", "KEEP_ROOTFS=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, b)
	}
	args, _ := os.ReadFile(filepath.Join(out, "args"))
	want := []string{"-q", "--change", `CMD ["/srv/` + strings.ReplaceAll(hostile, "\n", `\n`) + `/app","--x='$(id)'","--password=<redacted>"]`,
		"--change", "USER 33", "--change", "EXPOSE 8080/tcp", "-", "localhost/decompose/web:test"}
	if got := strings.Split(strings.TrimSuffix(string(args), "\x00"), "\x00"); !slices.Equal(got, want) {
		t.Errorf("podman import args:\n%q\nwant\n%q", got, want)
	}
	names := tarNames(t, filepath.Join(out, "rootfs.tar"))
	for _, n := range []string{"./srv/" + hostile + "/app", "./run/" + hostile + "/", "./tmp/"} {
		if !slices.Contains(names, n) {
			t.Errorf("root filesystem lacks %q: %q", n, names)
		}
	}
	for _, dir := range []string{out, cmd.Dir} {
		if m, _ := filepath.Glob(filepath.Join(dir, "PWNED*")); len(m) > 0 {
			t.Errorf("a command hidden in a file name ran: %v", m)
		}
	}
}

func tarNames(t *testing.T, file string) []string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
}

// TestContainerfileKeepsTraceStringsInTheirPlace checks that a newline in
// a traced name cannot start a Containerfile instruction.
func TestContainerfileKeepsTraceStringsInTheirPlace(t *testing.T) {
	res, _ := hostileResult(t)
	cf := res.Containerfile(res.Images[0])
	var instructions []string
	for _, line := range strings.Split(string(cf), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			instructions = append(instructions, strings.Fields(line)[0])
		}
	}
	if want := []string{"FROM", "COPY", "USER", "EXPOSE", "CMD"}; !slices.Equal(instructions, want) {
		t.Errorf("instructions %v, want %v:\n%s", instructions, want, cf)
	}
	if !bytes.Contains(cf, []byte(`"--password=<redacted>"`)) {
		t.Errorf("CMD lost the redaction placeholder:\n%s", cf)
	}
	res.Images[0].Closed = false
	res.PackagesFrom = "test"
	cf = res.Containerfile(res.Images[0])
	if !bytes.Contains(cf, []byte("FROM "+DebianBase)) || !bytes.Contains(cf, []byte(`COPY ["rootfs/srv/we'ird $(touch PWNED) `+"`touch PWNED2`"+`\nname/app",`)) {
		t.Errorf("the Debian draft does not copy the unpackaged file as a JSON string:\n%s", cf)
	}
}

func TestSummaryEscapesMarkdown(t *testing.T) {
	res, _ := hostileResult(t)
	res.Images[0].Components = []string{"<img src=x onerror=alert(1)>|x"}
	md := string(res.Summary())
	if strings.Contains(md, "<img") || strings.Contains(md, ">|x") {
		t.Errorf("images.md lets a component name through unescaped:\n%s", md)
	}
}
