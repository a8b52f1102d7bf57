package static

import (
	"bufio"
	"bytes"
	"go/ast"
	"go/token"
	"go/types"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// ConfigValue is the value a configuration text in the source tree gives a
// key that a binary reads: the evidence behind a value substituted for a
// {cfg["key"]} hole.
type ConfigValue struct {
	// File is the base name of the configuration file the text stands for
	// ("shop.conf"), Key the key as the text writes it.
	File  string `json:"file"`
	Key   string `json:"key"`
	Value string `json:"value"`
	// Pos is the file:line of the value: a line of a file in the tree, or
	// of a Go string that is the file's content.
	Pos string `json:"pos"`
}

func (s ConfigValue) String() string { return s.File + " " + s.Key + " (" + s.Pos + ")" }

// configText is the content of one configuration file, as found in the
// source tree: the file itself (or a sample or template of it), or a Go
// string assigned to a variable named after it.
type configText struct {
	file    string // the base name it stands for
	origin  string // where the text is: a path, or a Go file:line
	entries map[string][]configEntry
}

type configEntry struct {
	value Value
	set   ConfigValue
}

// configSuffixes are the extensions of samples and templates of a
// configuration file shipped instead of the file itself.
var configSuffixes = []string{"", ".example", ".sample", ".dist", ".default", ".tmpl", ".template", ".in", ".orig"}

// applyConfig substitutes, in every site's resources, the settings the
// binary reads from its configuration files (cfg["db_addr"] of a map
// parsed from the file, viper.GetString("db.addr")) with the values the
// configuration texts of the source tree give them. A binary's
// configuration files are the files its sites only read at a path known
// statically (a constant or a flag default); their texts are found by
// base name (findConfigTexts). A value with no literal text and an
// anonymous hole is not substituted (the setting's key says more), but its
// ConfigValue is kept as evidence. The key stays among the resource's Keys.
func (p *program) applyConfig(sites []Site) {
	files := map[string]map[string]bool{} // binary -> base names read
	wanted := map[string]bool{}
	for _, s := range sites {
		if s.Kind != kindFile || (s.Op != "read" && s.Op != "open") {
			continue
		}
		for _, r := range s.Resources {
			if l, ok := r.v.Literal(); ok && l != "" {
				if files[s.Binary] == nil {
					files[s.Binary] = map[string]bool{}
				}
				files[s.Binary][path.Base(l)] = true
				wanted[path.Base(l)] = true
			}
		}
	}
	if len(wanted) == 0 {
		return
	}
	texts := p.findConfigTexts(wanted)
	if len(texts) == 0 {
		return
	}
	for i := range sites {
		s := &sites[i]
		lookup := func(key string) []configEntry {
			var out []configEntry
			for _, t := range texts {
				if files[s.Binary][t.file] {
					out = append(out, t.entries[key]...)
				}
			}
			return out
		}
		var rs []Resource
		changed := false
		for _, r := range s.Resources {
			vs, ok := substitute(r.v, lookup)
			if !ok {
				rs = append(rs, r)
				continue
			}
			changed = true
			for _, v := range vs {
				nr := resource(v)
				nr.Keys = uniqSorted(append(append([]string(nil), r.Keys...), nr.Keys...))
				rs = append(rs, nr)
			}
		}
		if changed {
			s.Resources = mergeResources(rs, nil)
		}
	}
}

// informative reports whether a configuration value says more than the
// key it is read by: it has literal text, or every hole of it is keyed
// (the same in every binary).
func informative(v Value) bool {
	if strings.Trim(v.Pattern(), "*") != "" {
		return true
	}
	for _, p := range v.Parts {
		if p.Hole != nil && p.Hole.Key == "" {
			return false
		}
	}
	return len(v.Parts) > 0
}

// substitute replaces the keyed holes of v found in the configuration
// texts; ok is false when none is.
func substitute(v Value, lookup func(key string) []configEntry) ([]Value, bool) {
	var lists [][]Value
	found := false
	for _, p := range v.Parts {
		part := Value{Parts: []Part{p}}
		var entries []configEntry
		if p.Hole != nil {
			if k, ok := configKey(p.Hole.Key); ok {
				entries = lookup(k)
			}
		}
		if len(entries) == 0 {
			lists = append(lists, []Value{part})
			continue
		}
		found = true
		var opts []Value
		for _, e := range entries {
			o := part
			if informative(e.value) {
				o = e.value
			}
			o.Settings = []ConfigValue{e.set}
			opts = append(opts, o)
		}
		lists = append(lists, opts)
	}
	if !found {
		return nil, false
	}
	out := product(lists, v.String, func(c []Value) Value {
		nv := concat(c...)
		nv.Flags = uniqSorted(append(nv.Flags, v.Flags...))
		return nv
	})
	return out, true
}

// configKey returns the key a keyed hole reads from a configuration:
// k of "pkg.Type[k]" or of "pkg.Getter(k)"; environment variables are
// not configuration-file keys.
func configKey(key string) (string, bool) {
	if key == "" || strings.HasPrefix(key, "env:") {
		return "", false
	}
	if strings.HasSuffix(key, "]") {
		if i := strings.Index(key, "["); i > 0 {
			return key[i+1 : len(key)-1], true
		}
	}
	if strings.HasSuffix(key, ")") {
		if i := strings.Index(key, "("); i > 0 {
			return key[i+1 : len(key)-1], true
		}
	}
	return "", false
}

// findConfigTexts finds the texts of the wanted configuration files
// (base names) in the source tree, sorted by origin: files under the
// scanned directory named like one of them or a sample or template of
// it, and Go strings of the scanned packages assigned to a variable whose
// name is the file's name without punctuation (shopConf for shop.conf),
// including fmt.Sprintf formats, whose verbs become holes named by their
// arguments.
func (p *program) findConfigTexts(wanted map[string]bool) []configText {
	texts := p.configFiles(wanted)
	texts = append(texts, p.configStrings(wanted)...)
	sort.Slice(texts, func(i, j int) bool { return texts[i].origin < texts[j].origin })
	return texts
}

func (p *program) configFiles(wanted map[string]bool) []configText {
	var out []configText
	seen := 0
	filepath.WalkDir(p.dir, func(file string, d fs.DirEntry, err error) error {
		seen++
		if err != nil || seen > maxWalk {
			return filepath.SkipDir
		}
		name := d.Name()
		if d.IsDir() {
			if file != p.dir && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		base := configBase(name, wanted)
		if base == "" || !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(file)
		if err != nil || bytes.IndexByte(data, 0) >= 0 {
			return nil // unreadable or binary: not a configuration text
		}
		rel := file
		if r, err := filepath.Rel(p.dir, file); err == nil {
			rel = filepath.ToSlash(r)
		}
		t := configText{file: base, origin: rel, entries: map[string][]configEntry{}}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		var lines [][]Part
		for sc.Scan() {
			lines = append(lines, []Part{{Lit: sc.Text()}})
		}
		t.parse(lines, func(i int) string { return rel + ":" + strconv.Itoa(i+1) })
		if len(t.entries) > 0 {
			out = append(out, t)
		}
		return nil
	})
	return out
}

// configBase returns the wanted base name that a file name is, or is a
// sample or template of ("" if none).
func configBase(name string, wanted map[string]bool) string {
	for _, suf := range configSuffixes {
		if b, ok := strings.CutSuffix(name, suf); ok && wanted[b] {
			return b
		}
	}
	return ""
}

// configStrings finds the Go strings that are the content of a wanted
// configuration file, in the scanned packages' syntax.
func (p *program) configStrings(wanted map[string]bool) []configText {
	byName := map[string]string{}
	for w := range wanted {
		byName[squash(w)] = w
	}
	var out []configText
	for _, f := range p.src.files {
		for _, d := range f.Decls {
			fn := f.Name.Name
			if fd, ok := d.(*ast.FuncDecl); ok {
				fn = funcLabel(f.Name.Name, fd)
			}
			ast.Inspect(d, func(n ast.Node) bool {
				var names []*ast.Ident
				var values []ast.Expr
				switch n := n.(type) {
				case *ast.AssignStmt:
					for _, l := range n.Lhs {
						id, _ := l.(*ast.Ident)
						names = append(names, id)
					}
					values = n.Rhs
				case *ast.ValueSpec:
					names, values = n.Names, n.Values
				default:
					return true
				}
				if len(names) != len(values) {
					return true
				}
				for i, id := range names {
					if id == nil {
						continue
					}
					if base, ok := byName[squash(id.Name)]; ok {
						if t, ok := p.goConfigText(base, values[i], exprKey(p.src.info[f], fn)); ok {
							out = append(out, t)
						}
					}
				}
				return true
			})
		}
	}
	return out
}

// goConfigText parses a string literal, or the format of a fmt.Sprintf
// call, as the content of configuration file base.
func (p *program) goConfigText(base string, e ast.Expr, key func(ast.Expr) string) (configText, bool) {
	var args []ast.Expr
	if call, ok := e.(*ast.CallExpr); ok {
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || len(call.Args) == 0 || sel.Sel.Name != "Sprintf" {
			return configText{}, false
		}
		e, args = call.Args[0], call.Args[1:]
	}
	bl, ok := e.(*ast.BasicLit)
	if !ok || bl.Kind != token.STRING {
		return configText{}, false
	}
	s, err := strconv.Unquote(bl.Value)
	if err != nil {
		return configText{}, false
	}
	at := p.src.position(bl.Pos())
	raw := strings.HasPrefix(bl.Value, "`")
	t := configText{file: base, origin: at.String(), entries: map[string][]configEntry{}}
	parts := formatParts(s, args, key, args != nil)
	t.parse(splitLines(parts), func(i int) string {
		if !raw {
			i = 0 // escapes: every line is on the literal's line
		}
		return at.file + ":" + strconv.Itoa(at.line+i)
	})
	return t, len(t.entries) > 0
}

// funcLabel names a function for hole keys: "pkg.f", "pkg.(*T).m".
func funcLabel(pkg string, fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return pkg + "." + fd.Name.Name
	}
	return pkg + ".(" + exprText(fd.Recv.List[0].Type) + ")." + fd.Name.Name
}

// squash lowercases s and drops everything but letters and digits.
func squash(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// formatParts turns a format string into literal parts and one hole per
// verb, named by its argument's source text and keyed by key. When
// isFormat is false (a plain string) the text is literal.
func formatParts(s string, args []ast.Expr, key func(ast.Expr) string, isFormat bool) []Part {
	if !isFormat {
		return []Part{{Lit: s}}
	}
	var parts []Part
	var lit strings.Builder
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			lit.WriteByte(s[i])
			continue
		}
		j := i + 1
		for j < len(s) && strings.IndexByte("+-# 0123456789.", s[j]) >= 0 {
			j++
		}
		if j >= len(s) {
			lit.WriteString(s[i:])
			break
		}
		if s[j] == '%' {
			lit.WriteByte('%')
			i = j
			continue
		}
		if lit.Len() > 0 {
			parts = append(parts, Part{Lit: lit.String()})
			lit.Reset()
		}
		h := &Hole{Expr: s[i : j+1]}
		if s[j] != '[' && s[j] != '*' && n < len(args) {
			h.Expr, h.Key = exprText(args[n]), key(args[n])
		}
		parts = append(parts, Part{Hole: h})
		n++
		i = j
	}
	if lit.Len() > 0 {
		parts = append(parts, Part{Lit: lit.String()})
	}
	return parts
}

// exprKey keys the argument of a format in function fn: a field path
// of a variable of a named struct type by the type and the path
// (legacyshop.Install.Ports.DB: the same field of the same kind of value,
// which a script template reading {{.Ports.DB}} of it gets too), another
// variable or field path by fn and its text (the same expression in the
// same function: two files written by one install step), nothing else
// (a call is evaluated anew). info may be nil.
func exprKey(info *types.Info, fn string) func(ast.Expr) string {
	return func(e ast.Expr) string {
		if !stableExpr(e) {
			return ""
		}
		if k := fieldKey(info, e); k != "" {
			return k
		}
		return fn + ":" + exprText(e)
	}
}

// fieldKey names x.A.B by the named type of x: "pkg.T.A.B".
func fieldKey(info *types.Info, e ast.Expr) string {
	var path []string
	for {
		sel, ok := e.(*ast.SelectorExpr)
		if !ok {
			break
		}
		path = append([]string{sel.Sel.Name}, path...)
		e = sel.X
	}
	id, ok := e.(*ast.Ident)
	if !ok || info == nil || len(path) == 0 {
		return ""
	}
	t := info.TypeOf(id)
	if ptr, ok := t.(*types.Pointer); ok {
		t = ptr.Elem()
	}
	named, ok := t.(*types.Named)
	if !ok || named.Obj().Pkg() == nil || !hasFieldPath(named, path) {
		return ""
	}
	return named.Obj().Pkg().Name() + "." + named.Obj().Name() + "." + strings.Join(path, ".")
}

// stableExpr reports whether e reads a variable or a field path
// (i.Ports.DB): its value is the same wherever the function evaluates it.
func stableExpr(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return true
	case *ast.SelectorExpr:
		return stableExpr(e.X)
	case *ast.ParenExpr:
		return stableExpr(e.X)
	case *ast.StarExpr:
		return stableExpr(e.X)
	}
	return false
}

// splitLines splits parts at the newlines of their literal text.
func splitLines(parts []Part) [][]Part {
	lines := [][]Part{nil}
	for _, p := range parts {
		if p.Hole != nil {
			lines[len(lines)-1] = append(lines[len(lines)-1], p)
			continue
		}
		for i, l := range strings.Split(p.Lit, "\n") {
			if i > 0 {
				lines = append(lines, nil)
			}
			if l != "" {
				lines[len(lines)-1] = append(lines[len(lines)-1], Part{Lit: l})
			}
		}
	}
	return lines
}

// parse reads `key = value`, `key: value`, `KEY=value` and `export
// KEY=value` lines, skipping blank lines, comments (#, ;, //) and lines
// it does not understand; under an INI [section], a key is also known as
// section.key. A value's surrounding quotes go; its {{template actions}}
// become anonymous holes and ${VAR} holes keyed by the environment
// variable. pos gives the position of line i.
func (t *configText) parse(lines [][]Part, pos func(i int) string) {
	section := ""
	for i, line := range lines {
		if len(line) == 0 || line[0].Hole != nil {
			continue
		}
		head := strings.TrimLeft(line[0].Lit, " \t")
		if head == "" || strings.HasPrefix(head, "#") || strings.HasPrefix(head, ";") || strings.HasPrefix(head, "//") {
			continue
		}
		if len(line) == 1 && strings.HasPrefix(head, "[") && strings.HasSuffix(strings.TrimSpace(head), "]") {
			section = strings.Trim(strings.TrimSpace(head), "[]")
			continue
		}
		head = strings.TrimPrefix(head, "export ")
		key, rest, ok := splitKey(head)
		if !ok {
			continue
		}
		val := append([]Part{{Lit: rest}}, line[1:]...)
		v := trimValue(val)
		set := ConfigValue{File: t.file, Key: key, Value: v.String(), Pos: pos(i)}
		t.entries[key] = append(t.entries[key], configEntry{v, set})
		if section != "" {
			t.entries[section+"."+key] = append(t.entries[section+"."+key], configEntry{v, set})
		}
	}
}

// splitKey splits "key = rest" or "key: rest" at the first separator
// after a key made of letters, digits and _ . -; a colon must be followed
// by a blank or end the line (host:port is not a key).
func splitKey(s string) (key, rest string, ok bool) {
	i := strings.IndexFunc(s, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '.' || r == '-')
	})
	if i <= 0 {
		return "", "", false
	}
	key = s[:i]
	after := strings.TrimLeft(s[i:], " \t")
	switch {
	case strings.HasPrefix(after, "="):
		return key, after[1:], true
	case strings.HasPrefix(after, ":") && (len(after) == 1 || after[1] == ' ' || after[1] == '\t'):
		return key, after[1:], true
	}
	return "", "", false
}

// trimValue trims a value's blanks, a trailing " # comment" of literal
// text and surrounding quotes, and turns {{actions}} and ${VAR} into holes.
func trimValue(parts []Part) Value {
	var v Value
	for _, p := range parts {
		if p.Hole != nil {
			v.Parts = append(v.Parts, p)
			continue
		}
		v.Parts = append(v.Parts, literalHoles(p.Lit)...)
	}
	v = concat(v)
	if n := len(v.Parts); n > 0 && v.Parts[n-1].Hole == nil {
		if i := strings.Index(v.Parts[n-1].Lit, " #"); i >= 0 {
			v.Parts[n-1].Lit = v.Parts[n-1].Lit[:i]
		}
	}
	if n := len(v.Parts); n > 0 {
		if v.Parts[0].Hole == nil {
			v.Parts[0].Lit = strings.TrimLeft(v.Parts[0].Lit, " \t")
		}
		if v.Parts[n-1].Hole == nil {
			v.Parts[n-1].Lit = strings.TrimRight(v.Parts[n-1].Lit, " \t\r")
		}
	}
	if n := len(v.Parts); n > 0 && v.Parts[0].Hole == nil && v.Parts[n-1].Hole == nil {
		first, last := v.Parts[0].Lit, v.Parts[n-1].Lit
		for _, q := range []string{`"`, `'`} {
			if (n > 1 || len(first) >= 2) && strings.HasPrefix(first, q) && strings.HasSuffix(last, q) {
				v.Parts[0].Lit = first[1:]
				v.Parts[n-1].Lit = strings.TrimSuffix(v.Parts[n-1].Lit, q)
				break
			}
		}
	}
	return concat(v)
}

// literalHoles splits literal configuration text at {{template actions}}
// (anonymous holes) and ${VAR} references (keyed env:VAR).
func literalHoles(s string) []Part {
	var out []Part
	for s != "" {
		a, e := strings.Index(s, "{{"), strings.Index(s, "${")
		switch {
		case a >= 0 && (e < 0 || a < e):
			end := strings.Index(s[a:], "}}")
			if end < 0 {
				return append(out, Part{Lit: s})
			}
			out = append(out, Part{Lit: s[:a]}, Part{Hole: &Hole{Expr: strings.TrimSpace(s[a+2 : a+end])}})
			s = s[a+end+2:]
		case e >= 0:
			end := strings.IndexByte(s[e:], '}')
			if end < 0 {
				return append(out, Part{Lit: s})
			}
			name := s[e+2 : e+end]
			out = append(out, Part{Lit: s[:e]}, Part{Hole: &Hole{Expr: "$" + name, Key: "env:" + name}})
			s = s[e+end+1:]
		default:
			return append(out, Part{Lit: s})
		}
	}
	return out
}
