package static

import (
	"bufio"
	"bytes"
	"fmt"
	"go/types"
	"os"

	"github.com/decompose-dev/decompose/graph"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// launch is one command line of a script in the tree that starts a
// binary: the flags it passes.
type launch struct {
	binary string
	script string // path relative to the scanned directory
	line   int
	flags  map[string]Value
}

// applyLaunches adds, to every value that holds a flag's default, the
// values the scripts of the tree (init scripts, start scripts and their
// templates) start the binary with: `"$BIN/shop-worker" -db
// 127.0.0.1:{{.Ports.DB}}` gives shop-worker's -db the value
// 127.0.0.1:{.Ports.DB}. The default stays one of the values (the binary
// may be started otherwise). A template action naming a field path
// ({{.Ports.DB}}) is keyed by the field of the one struct type of the
// scanned packages that has every field the script names
// (legacyshop.Install.Ports.DB), the key a Go configuration text written
// from that struct's field gets too (see fieldKey), so the flag and the
// configuration value meet. It returns notes naming the launches used,
// and the pipes the scripts set up between two binaries (a | b): pipe
// couplings.
func (p *program) applyLaunches(sites []Site, binaries []Binary) ([]string, []Coupling) {
	names := map[string]bool{}
	for _, b := range binaries {
		names[path.Base(b.Name)] = true
	}
	launches, fifos, pipes := p.findLaunches(names)
	defer markFIFOs(sites, fifos)
	if len(launches) == 0 {
		return nil, pipes
	}
	byBinary := map[string][]launch{}
	var used []string
	for _, l := range launches {
		byBinary[l.binary] = append(byBinary[l.binary], l)
		used = append(used, fmt.Sprintf("%s:%d %s", l.script, l.line, l.binary))
	}
	for i := range sites {
		s := &sites[i]
		ls := byBinary[path.Base(s.Binary)]
		if len(ls) == 0 {
			continue
		}
		var rs []Resource
		for _, r := range s.Resources {
			rs = append(rs, r)
			for _, v := range overrides(r.v, ls) {
				nr := resource(v)
				nr.Keys = uniqSorted(append(append([]string(nil), r.Keys...), nr.Keys...))
				rs = append(rs, nr)
			}
		}
		s.Resources = mergeResources(rs, nil)
	}
	return []string{"flags taken from the scripts that start the binaries: " + strings.Join(uniqSorted(used), ", ")}, pipes
}

// overrides returns v with each flag default it holds replaced by the
// values the launches give that flag.
func overrides(v Value, ls []launch) []Value {
	var out []Value
	for _, d := range v.defaults {
		for _, l := range ls {
			fv, ok := l.flags[d.flag]
			if !ok {
				continue
			}
			if nv, ok := replaceLit(v, d.text, fv); ok {
				nv.Settings = append(append([]ConfigValue(nil), v.Settings...), ConfigValue{
					File: path.Base(l.script), Key: "-" + d.flag, Value: fv.String(), Pos: l.script + ":" + strconv.Itoa(l.line)})
				out = append(out, nv)
			}
		}
	}
	return out
}

// replaceLit replaces the first occurrence of text in v's literal parts
// with the parts of by.
func replaceLit(v Value, text string, by Value) (Value, bool) {
	for i, p := range v.Parts {
		if p.Hole != nil {
			continue
		}
		j := strings.Index(p.Lit, text)
		if j < 0 {
			continue
		}
		var parts []Value
		for _, q := range v.Parts[:i] {
			parts = append(parts, Value{Parts: []Part{q}})
		}
		parts = append(parts, lit(p.Lit[:j]), Value{Parts: by.Parts}, lit(p.Lit[j+len(text):]))
		for _, q := range v.Parts[i+1:] {
			parts = append(parts, Value{Parts: []Part{q}})
		}
		nv := concat(parts...)
		nv.Flags = v.Flags
		return nv, true
	}
	return Value{}, false
}

// findLaunches reads the scripts under the patterns' directories for
// command lines that start one of the binaries, for the FIFOs they make
// (mkfifo), by path identity, and for the pipes they set up between two
// binaries (a | b).
func (p *program) findLaunches(binaries map[string]bool) ([]launch, map[string]string, []Coupling) {
	var out []launch
	var pipes []Coupling
	fifos := map[string]string{}
	for _, script := range p.scripts() {
		data, err := os.ReadFile(filepath.Join(p.dir, filepath.FromSlash(script)))
		if err != nil || bytes.IndexByte(data, 0) >= 0 {
			continue
		}
		typeKey := p.templateType(templateFields(string(data)))
		for _, sl := range scriptLines(data) {
			cmds := shellCommands(sl.text)
			for i, c := range cmds {
				cmd := c.words
				l, ok := parseLaunch(cmd, binaries, typeKey)
				if ok {
					l.script, l.line = script, sl.line
					out = append(out, l)
				}
				if c.pipe && i+1 < len(cmds) {
					if pc, ok := pipeCoupling(script, sl.line, cmd, cmds[i+1].words, binaries); ok {
						pipes = append(pipes, pc)
					}
				}
				if commandName(cmd) == "mkfifo" {
					for _, id := range fifoPaths(cmd, typeKey) {
						fifos[id] = script + ":" + strconv.Itoa(sl.line)
					}
				}
			}
		}
	}
	return out, fifos, pipes
}

// pipeCoupling is the pipe a script line sets up from one binary's
// standard output into another's standard input.
func pipeCoupling(script string, line int, from, to []string, binaries map[string]bool) (Coupling, bool) {
	a, b := commandName(from), commandName(to)
	if !binaries[a] || !binaries[b] || a == b {
		return Coupling{}, false
	}
	return Coupling{Kind: graph.KindPipe, Resource: "pipe", Binaries: uniqSorted([]string{a, b}), From: []string{a},
		Basis: fmt.Sprintf("%s pipes the standard output of %s into %s", script, a, b),
		Sites: []string{fmt.Sprintf("%s:%d", script, line)}}, true
}

// fifoPaths returns the identities of the paths a mkfifo command makes.
func fifoPaths(cmd []string, typeKey string) []string {
	var out []string
	words := commandWords(cmd)
	for i := 1; i < len(words); i++ {
		switch {
		case words[i] == "-m" || words[i] == "--mode":
			i++
		case strings.HasPrefix(words[i], "-"):
		default:
			if id, ok := pathID(scriptValue(words[i], typeKey)); ok {
				out = append(out, id)
			}
		}
	}
	return out
}

// scriptLine is a logical line of a script: physical lines joined where
// one ends with \ or with a pipe, numbered by the first.
type scriptLine struct {
	text string
	line int
}

func scriptLines(data []byte) []scriptLine {
	var out []scriptLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	var cur *scriptLine
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		if cur == nil {
			out = append(out, scriptLine{line: n})
			cur = &out[len(out)-1]
		}
		t := strings.TrimRight(text, " \t")
		switch {
		case strings.HasSuffix(t, "\\"):
			cur.text += strings.TrimSuffix(t, "\\") + " "
		case strings.HasSuffix(t, "|") && !strings.HasSuffix(t, "||"), strings.HasSuffix(t, "&&"), strings.HasSuffix(t, "||"):
			cur.text += t + " "
		default:
			cur.text += text
			cur = nil
		}
	}
	return out
}

// markFIFOs makes FIFO sites of the file sites whose path a script makes
// with mkfifo: opening a FIFO is how two programs talk through it.
func markFIFOs(sites []Site, fifos map[string]string) {
	for i := range sites {
		s := &sites[i]
		if s.Kind != kindFile {
			continue
		}
		for _, r := range s.Resources {
			if id, ok := pathID(r.v); ok && fifos[id] != "" {
				s.Kind = kindFIFO
			}
		}
	}
}

// scripts lists the scripts under the patterns' directories.
func (p *program) scripts() []string {
	var found []string
	for _, pat := range p.patterns {
		root, ok := strings.CutSuffix(pat, "/...")
		if !ok || !(root == "." || strings.HasPrefix(root, "./") || strings.HasPrefix(root, "/")) {
			continue
		}
		if !filepath.IsAbs(root) {
			root = filepath.Join(p.dir, root)
		}
		found = append(found, findScripts(p.dir, root)...)
	}
	return uniqSorted(found)
}

// shellCmd is a simple command of a script line: its words, and whether
// its standard output is piped into the next command.
type shellCmd struct {
	words []string
	pipe  bool
}

// shellCommands splits a script line into the words of each simple
// command (at |, &, ;, && and ||), dropping quotes, comments and
// redirections, and keeping {{template actions}} whole.
func shellCommands(line string) []shellCmd {
	var cmds []shellCmd
	var cmd []string
	var word strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			w := word.String()
			if isRedirect(w) {
				w = ""
			}
			if w != "" {
				cmd = append(cmd, w)
			}
		}
		word.Reset()
		inWord = false
	}
	end := func(pipe bool) {
		flush()
		if len(cmd) > 0 {
			cmds = append(cmds, shellCmd{cmd, pipe})
		}
		cmd = nil
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case strings.HasPrefix(line[i:], "{{"):
			j := strings.Index(line[i:], "}}")
			if j < 0 {
				j = len(line) - i - 2
			}
			word.WriteString(line[i : i+j+2])
			inWord, i = true, i+j+1
		case c == '\'' || c == '"':
			j := strings.IndexByte(line[i+1:], c)
			if j < 0 {
				j = len(line) - i - 1
			}
			word.WriteString(line[i+1 : i+1+j])
			inWord, i = true, i+1+j
		case c == '#' && !inWord:
			end(false)
			return cmds
		case c == ' ' || c == '\t':
			flush()
		case c == '|':
			double := strings.HasPrefix(line[i:], "||")
			end(!double)
			if double {
				i++
			}
		case c == ';' || (c == '&' && !(inWord && strings.HasSuffix(word.String(), ">"))):
			end(false)
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	end(false)
	return cmds
}

// isRedirect reports whether a word is a redirection (>file, 2>>file,
// <file): none of a program's arguments.
func isRedirect(w string) bool {
	w = strings.TrimLeft(w, "0123456789&")
	return strings.HasPrefix(w, ">") || strings.HasPrefix(w, "<")
}

// parseLaunch reads a command that starts a binary (by the base name of
// its first word, after VAR=value assignments and exec/nohup) and its
// flags: -name value, --name value, -name=value.
func parseLaunch(words []string, binaries map[string]bool, typeKey string) (launch, bool) {
	words = commandWords(words)
	if len(words) == 0 || !binaries[path.Base(words[0])] {
		return launch{}, false
	}
	l := launch{binary: path.Base(words[0]), flags: map[string]Value{}}
	for i := 1; i < len(words); i++ {
		w := words[i]
		if !strings.HasPrefix(w, "-") || w == "-" || w == "--" {
			continue
		}
		name := strings.TrimLeft(w, "-")
		value, ok := "", false
		if n, v, has := strings.Cut(name, "="); has {
			name, value, ok = n, v, true
		} else if i+1 < len(words) && !strings.HasPrefix(words[i+1], "-") {
			value, ok = words[i+1], true
			i++
		}
		if ok && name != "" {
			l.flags[name] = scriptValue(value, typeKey)
		}
	}
	return l, len(l.flags) > 0
}

// commandWords drops the VAR=value assignments and exec, nohup and env
// before a command's program.
func commandWords(words []string) []string {
	for len(words) > 0 && (strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-") ||
		words[0] == "exec" || words[0] == "nohup" || words[0] == "env") {
		words = words[1:]
	}
	return words
}

// commandName is the base name of a command's program ("" if none).
func commandName(words []string) string {
	if words = commandWords(words); len(words) > 0 {
		return path.Base(words[0])
	}
	return ""
}

// scriptValue turns a script word into a value: {{actions}} and $VARs
// are holes, an action naming a field path keyed by the template's type.
func scriptValue(w, typeKey string) Value {
	var v Value
	for _, p := range literalHoles(w) {
		if p.Hole == nil {
			v.Parts = append(v.Parts, shellVars(p.Lit)...)
			continue
		}
		h := *p.Hole
		if !strings.HasPrefix(h.Expr, "$") {
			if f := actionField(h.Expr); f != "" {
				h.Expr = f
				if typeKey != "" {
					h.Key = typeKey + f
				}
			}
		}
		v.Parts = append(v.Parts, Part{Hole: &h})
	}
	return concat(v)
}

// shellVars makes holes of the $NAME references in literal script text:
// shell variables, whose values the script sets at run time.
func shellVars(s string) []Part {
	var out []Part
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i+1 >= len(s) {
			return append(out, Part{Lit: s})
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
			j++
		}
		if j == i+1 {
			out = append(out, Part{Lit: s[:j]})
			s = s[j:]
			continue
		}
		out = append(out, Part{Lit: s[:i]}, Part{Hole: &Hole{Expr: s[i:j]}})
		s = s[j:]
	}
}

// actionField returns the field path a template action reads ({{q
// .SpoolDir}} reads .SpoolDir), "" if none.
func actionField(action string) string {
	for _, w := range strings.Fields(strings.Trim(action, "-")) {
		if strings.HasPrefix(w, ".") && len(w) > 1 {
			return w
		}
	}
	return ""
}

// templateFields lists the field paths the actions of a template read.
func templateFields(text string) []string {
	var out []string
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			return uniqSorted(out)
		}
		j := strings.Index(text[i:], "}}")
		if j < 0 {
			return uniqSorted(out)
		}
		if f := actionField(text[i+2 : i+j]); f != "" {
			out = append(out, f)
		}
		text = text[i+j+2:]
	}
}

// templateType names the one struct type of the scanned packages that
// has every field path of fields ("legacyshop.Install"); "" when there
// is none, several, or no field.
func (p *program) templateType(fields []string) string {
	if len(fields) == 0 {
		return ""
	}
	var found []string
	for pkg := range p.own {
		scope := pkg.Scope()
		for _, name := range scope.Names() {
			tn, ok := scope.Lookup(name).(*types.TypeName)
			if !ok {
				continue
			}
			all := true
			for _, f := range fields {
				all = all && hasFieldPath(tn.Type(), strings.Split(strings.TrimPrefix(f, "."), "."))
			}
			if all {
				found = append(found, pkg.Name()+"."+name)
			}
		}
	}
	sort.Strings(found)
	if len(found) != 1 {
		return ""
	}
	return found[0]
}

// hasFieldPath reports whether t (or what it points to) has the fields
// of path, each in the previous one's type.
func hasFieldPath(t types.Type, path []string) bool {
	for _, name := range path {
		if ptr, ok := t.Underlying().(*types.Pointer); ok {
			t = ptr.Elem()
		}
		st, ok := t.Underlying().(*types.Struct)
		if !ok {
			return false
		}
		var next types.Type
		for i := 0; i < st.NumFields(); i++ {
			if st.Field(i).Name() == name {
				next = st.Field(i).Type()
			}
		}
		if next == nil {
			return false
		}
		t = next
	}
	return true
}
