package static

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAnalyzeErrors(t *testing.T) {
	lib := t.TempDir()
	os.WriteFile(filepath.Join(lib, "go.mod"), []byte("module example.com/lib\n\ngo 1.22\n"), 0o644)
	os.WriteFile(filepath.Join(lib, "lib.go"), []byte("// Package lib has no main.\npackage lib\n"), 0o644)
	cases := []struct {
		dir, want string
	}{
		{lib, "no main package among ./...: static reports sites per binary"},
		{filepath.Join(lib, "missing"), "missing is not a directory"},
	}
	for _, c := range cases {
		_, err := Analyze(context.Background(), Options{Dir: c.dir})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Analyze(%s): %v, want an error with %q", c.dir, err, c.want)
		}
	}
}

func TestValueHelpers(t *testing.T) {
	for _, c := range []struct{ pattern, s string }{
		{"/var/spool/*/*.json", "/var/spool/app/1.json"},
		{"*/etc/app.conf", "/srv/root/etc/app.conf"},
		{"*", ""},
		{"a*b*c", "abbbc"},
	} {
		if !globMatch(c.pattern, c.s) {
			t.Errorf("globMatch(%q, %q) = false", c.pattern, c.s)
		}
	}
	for _, c := range []struct{ pattern, s string }{{"/var/*.json", "/var/x.txt"}, {"a*b", "ac"}} {
		if globMatch(c.pattern, c.s) {
			t.Errorf("globMatch(%q, %q) = true", c.pattern, c.s)
		}
	}
	v := concat(lit("http://"), hole("host", "cfg[host]"), lit(":8080/api"))
	if got := urlHost(v).String(); got != "{host}:8080" {
		t.Errorf("urlHost = %s", got)
	}
	if got := urlHost(lit("https://example.org/x")).String(); got != "example.org:443" {
		t.Errorf("urlHost = %s", got)
	}
	if got := sprintf("%s/%05d.%q-%x", []Value{lit("/run"), lit("42"), lit("a"), hole("n", "")}).String(); got != `/run/00042."a"-{n}` {
		t.Errorf("sprintf = %s", got)
	}
	if got := joinPath([]Value{lit("/a/"), lit(""), hole("x", ""), lit("b")}).String(); got != "/a/{x}/b" {
		t.Errorf("joinPath = %s", got)
	}
}

func TestEndpoints(t *testing.T) {
	for _, c := range []struct {
		v    Value
		want string
	}{
		{lit(":8080"), "local:8080"},
		{lit("0.0.0.0:8080"), "local:8080"},
		{lit("localhost:8080"), "local:8080"},
		{lit("[::1]:8080"), "local:8080"},
		{lit("10.0.0.5:80"), "10.0.0.5:80"},
		{lit("127.0.0.1:0"), ""},
		{hole("cfg[addr]", "conf[addr]"), "{conf[addr]}"},
		{concat(lit(":"), hole("$PORT", "env:PORT")), "local:{env:PORT}"},
	} {
		if got, _ := endpointID(c.v); got != c.want {
			t.Errorf("endpointID(%s) = %q, want %q", c.v, got, c.want)
		}
	}
	for _, c := range []struct{ want, got, match string }{
		{"127.0.0.1:5433", "127.0.0.1:5433", "exact"},
		{"127.0.0.1:5433", ":5433", "port"},
		{"127.0.0.1:5433", "localhost:5433", "port"},
		{"10.0.0.9:5433", "localhost:5433", ""},
		{"127.0.0.1:5433", "127.0.0.1:0", ""},
	} {
		if m := sameEndpoint(c.want, c.got); m != c.match {
			t.Errorf("sameEndpoint(%s, %s) = %q, want %q", c.want, c.got, m, c.match)
		}
	}
	for _, c := range []struct{ want, got, match string }{
		{"/srv/app/etc/app.conf", "/etc/app.conf", "suffix"},
		{"/etc/app.conf", "/etc/app.conf", "exact"},
		{"/srv/app/etc/app.conf", "/etc/other.conf", ""},
		{"/srv/app.conf", ".", ""},
	} {
		if m := samePath(c.want, c.got); m != c.match {
			t.Errorf("samePath(%s, %s) = %q, want %q", c.want, c.got, m, c.match)
		}
	}
}

func TestFirstFlagValue(t *testing.T) {
	argv := [][]string{{"/bin/app", "-v", "--config=/etc/a.conf", "-spool", "/var/q", "-db"}}
	for name, want := range map[string]string{"config": "/etc/a.conf", "spool": "/var/q", "db": "", "v": "--config=/etc/a.conf"} {
		got, _ := firstFlagValue(argv, name)
		if got != want {
			t.Errorf("flag %s = %q, want %q", name, got, want)
		}
	}
}

// FuzzMatchers feeds untrusted text (argv and paths come from traces) to
// the matchers: they must not panic.
func FuzzMatchers(f *testing.F) {
	f.Add("/var/*/x", "/var/a/x", "-config=/x")
	f.Add("**", "", "--")
	f.Fuzz(func(t *testing.T, pattern, s, arg string) {
		globMatch(pattern, s)
		firstFlagValue([][]string{{"exe", arg, s}}, pattern)
		samePath(s, pattern)
		sameEndpoint(s, pattern)
		splitHostPort(s)
		words(s)
	})
}
