package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/trace"
)

// hostile are file names an attacker on the traced host could create.
var hostile = []string{
	"/tmp/<img src=x onerror=alert(1)>",
	"/tmp/</script><script>alert(1)</script>",
	"/tmp/line\nbreak|pipe`tick`",
	"/tmp/\x1b[31mred\x1b]0;title\x07",
	"/tmp/bad\xff\xfeutf8",
	"/tmp/" + strings.Repeat("a", 4096),
	"/tmp/\u202egnp.exe",
}

// hostilePlan analyzes a trace whose every shared file has a hostile name.
func hostilePlan(t *testing.T) *graph.Plan {
	t.Helper()
	tr := &trace.Trace{Host: trace.Host{Hostname: "evil\x1b[2J"}, Meta: trace.Meta{Finalized: true}}
	tr.Processes = []trace.Process{
		{ID: 1, PID: 10, Exe: "/opt/x/<b>writer</b>", Argv: []string{"/opt/x/<b>writer</b>", "\x1b[2J"}},
		{ID: 2, PID: 11, Exe: "/opt/x/reader\n2", Argv: []string{"reader"}},
	}
	for i, name := range hostile {
		id := trace.ResourceID(i + 1)
		tr.Resources = append(tr.Resources, trace.Resource{ID: id, Kind: trace.KindFile, Path: name})
		tr.Accesses = append(tr.Accesses,
			trace.Access{Process: 1, Resource: id, OpensWrite: 1, Writes: 1, WriteBytes: 10},
			trace.Access{Process: 2, Resource: id, Opens: 1, Reads: 1, ReadBytes: 10})
	}
	p, err := graph.Analyze([]*trace.Trace{tr}, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Couplings) != len(hostile) {
		t.Fatalf("want %d couplings, got %d", len(hostile), len(p.Couplings))
	}
	return p
}

func TestTextHasNoControlCharacters(t *testing.T) {
	var buf bytes.Buffer
	if err := Text(&buf, hostilePlan(t)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !utf8.ValidString(out) {
		t.Fatal("text output is not valid UTF-8")
	}
	for _, r := range out {
		if (r < ' ' && r != '\n') || r == 0x7f || r == '\u202e' {
			t.Fatalf("text output holds control character %U", r)
		}
	}
	if !strings.Contains(out, `\x1b[31mred`) {
		t.Fatal("escape sequence not shown escaped")
	}
}

func TestMarkdownHasNoRawHTML(t *testing.T) {
	var buf bytes.Buffer
	if err := Markdown(&buf, hostilePlan(t)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"<img", "<script", "</script", "<b>", "\x1b"} {
		if strings.Contains(out, bad) {
			t.Fatalf("markdown holds %q", bad)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| file") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != 9 {
			t.Fatalf("a file name broke the table: %q", line)
		}
	}
}

func TestJSONIsValidAndEscaped(t *testing.T) {
	var buf bytes.Buffer
	if err := JSON(&buf, hostilePlan(t)); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(buf.Bytes()) {
		t.Fatal("invalid JSON")
	}
	if bytes.Contains(buf.Bytes(), []byte("<script")) || bytes.Contains(buf.Bytes(), []byte("<img")) {
		t.Fatal("JSON holds unescaped HTML")
	}
	var back graph.Plan
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range back.Couplings {
		found = found || c.Resource == hostile[0]
	}
	if !found {
		t.Fatal("the hostile name did not survive the round trip intact")
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"plain /var/log/x.log": "plain /var/log/x.log",
		"a\nb":                 `a\nb`,
		"\x1b[31m":             `\x1b[31m`,
		"bad\xffbyte":          `bad\xffbyte`,
		"é ü 漢":                "é ü 漢",
		"\u202e":               `\u202e`,
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 1 << 30: "1.0 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
