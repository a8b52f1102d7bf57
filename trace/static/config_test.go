package static

import (
	"go/ast"
	"go/parser"
	"strconv"
	"strings"
	"testing"
)

// TestConfigParse reads the configuration forms a legacy tree ships.
func TestConfigParse(t *testing.T) {
	cases := []struct {
		name, text string
		want       []string // "key=value@line", sorted by key
	}{
		{"key = value", "# comment\n\ndb_addr = 127.0.0.1:5433\nspool   =   /var/spool/x  \n",
			[]string{"db_addr=127.0.0.1:5433@3", "spool=/var/spool/x@4"}},
		{"key: value (yaml)", "listen: 0.0.0.0:80 # public\nhost:port\nurl: \"http://a:8080/\"\n",
			[]string{"listen=0.0.0.0:80@1", "url=http://a:8080/@3"}},
		{"KEY=value (env)", "export DB_URL='postgres://db:5432/x'\nSOCK=/run/app.sock\n; ini comment\n// c\n",
			[]string{"DB_URL=postgres://db:5432/x@1", "SOCK=/run/app.sock@2"}},
		{"ini sections", "[db]\naddr = 10.0.0.1:5432\n",
			[]string{"addr=10.0.0.1:5432@2", "db.addr=10.0.0.1:5432@2"}},
		{"template and env holes", "sock = {{ .Root }}/run/app.sock\nhome = ${HOME}/data\n",
			[]string{"home={$HOME}/data@2", "sock={.Root}/run/app.sock@1"}},
		{"not configuration", "@every 1s /bin/sh rotate.sh\n#!/bin/sh\n= no key\n", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct := configText{file: "x.conf", entries: map[string][]configEntry{}}
			var lines [][]Part
			for _, l := range strings.Split(c.text, "\n") {
				lines = append(lines, []Part{{Lit: l}})
			}
			ct.parse(lines, func(i int) string { return strconv.Itoa(i + 1) })
			var got []string
			for k, es := range ct.entries {
				for _, e := range es {
					got = append(got, k+"="+e.value.String()+"@"+e.set.Pos)
				}
			}
			got = uniqSorted(got)
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestConfigFormat turns the verbs of a fmt.Sprintf format into holes
// named, and keyed within the function, by their arguments.
func TestConfigFormat(t *testing.T) {
	call, err := parser.ParseExpr("fmt.Sprintf(\"a = %d\\nb = %s/x\\nc = %q 100%%\\nd = %s\", i.Ports.DB, root, f())")
	if err != nil {
		t.Fatal(err)
	}
	args := call.(*ast.CallExpr).Args
	format, _ := strconv.Unquote(args[0].(*ast.BasicLit).Value)
	ct := configText{file: "x.conf", entries: map[string][]configEntry{}}
	ct.parse(splitLines(formatParts(format, args[1:], exprKey(nil, "pkg.F"), true)), func(int) string { return "" })
	want := map[string]string{
		"a": "{i.Ports.DB}=pkg.F:i.Ports.DB",
		"b": "{root}/x=pkg.F:root",
		"c": "{f()} 100%=", // a call is evaluated anew: no key
		"d": "{%s}=",       // no argument left
	}
	for k, w := range want {
		es := ct.entries[k]
		if len(es) != 1 {
			t.Errorf("%s: %d entries", k, len(es))
			continue
		}
		key := ""
		for _, p := range es[0].value.Parts {
			if p.Hole != nil {
				key = p.Hole.Key
			}
		}
		if got := es[0].value.String() + "=" + key; got != w {
			t.Errorf("%s: got %s, want %s", k, got, w)
		}
	}
}

func TestConfigKey(t *testing.T) {
	for key, want := range map[string]string{
		"shopconf.Config[db_addr]":  "db_addr",
		"viper.GetString(db.addr)":  "db.addr",
		"env:HOME":                  "",
		"":                          "",
		"ini.Section.Key(listen)":   "listen",
		"writeFiles:i.Ports.DB":     "",
		"legacyshop.(*Install).f:x": "",
	} {
		got, _ := configKey(key)
		if got != want {
			t.Errorf("configKey(%q) = %q, want %q", key, got, want)
		}
	}
}

// FuzzConfigText feeds configuration texts, format strings and script
// lines of the source tree (not trusted to be well formed) to their
// parsers: they must not panic.
func FuzzConfigText(f *testing.F) {
	for _, s := range []string{"a = 1\n[s]\nb: \"x\"", "k = %d%", "x = {{ .A", "y = ${B", "%[1]d %*d %%", "'\"",
		`"$BIN/a" -x {{q .A}} 2>&1 | b --y=1 &`, "exec a -m", "mkfifo -m 0600 {{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ct := configText{file: "x", entries: map[string][]configEntry{}}
		ct.parse(splitLines(formatParts(s, nil, exprKey(nil, "f"), true)), func(int) string { return "" })
		ct.parse(splitLines([]Part{{Lit: s}}), func(int) string { return "" })
		for _, c := range shellCommands(s) {
			parseLaunch(c.words, map[string]bool{"a": true, "b": true}, "T")
			fifoPaths(c.words, "T")
		}
		scriptLines([]byte(s))
		templateFields(s)
	})
}
