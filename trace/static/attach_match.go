package static

import (
	"path"
	"strings"

	"github.com/decompose-dev/decompose/graph"
)

// sideMatch matches one component's side of a runtime coupling to the
// sites of its binary.
type sideMatch struct {
	c       *graph.Coupling
	comp    string
	from    bool       // the writing, connecting or sending side
	argv    [][]string // the arguments its processes were started with
	learned []Setting
}

// best returns the sites that match best (all of equal rank and score),
// and why a side has none or only guessed ones.
func (m *sideMatch) best(bin string, sites []*Site) ([]CodeSite, []string) {
	if m.c.Kind == graph.KindPipe {
		return nil, []string{m.comp + ": an anonymous pipe is set up by the parent (a shell pipeline) on standard streams; no call in the source names it"}
	}
	rank, score := matchRank["dynamic"]+1, 0
	var out []CodeSite
	var picked []*Site
	for _, s := range sites {
		if !m.compatible(s) {
			continue
		}
		match, sc := m.matchSite(s)
		r, ok := matchRank[match]
		if !ok || r > rank || (r == rank && sc < score) {
			continue
		}
		if r < rank || sc > score {
			rank, score, out, picked = r, sc, nil, nil
		}
		out = append(out, CodeSite{Component: m.comp, Binary: bin, Pos: s.Pos, Function: s.Function, Call: s.Call, Match: match})
		picked = append(picked, s)
	}
	switch {
	case out == nil:
		return nil, []string{m.comp + " (" + bin + "): no " + m.what() + " site in its code"}
	case rank >= matchRank["key"]:
		m.learn(out, picked)
		if rank == matchRank["dynamic"] {
			return out, []string{m.comp + " (" + bin + "): only sites whose " + m.what() + " resource is known at run time"}
		}
	}
	return out, nil
}

// learn records the run-time value of a setting when every value of the
// sites behind this side is that one setting (for a directory: a path
// directly under it).
func (m *sideMatch) learn(code []CodeSite, sites []*Site) {
	key := ""
	for _, s := range sites {
		for _, r := range s.Resources {
			k := settingOf(r.v, m.c.Kind == graph.KindDir)
			if k == "" || (key != "" && k != key) {
				return
			}
			key = k
		}
	}
	var where []string
	for _, c := range code {
		where = append(where, c.Binary+" "+c.Pos)
	}
	m.learned = append(m.learned, Setting{Key: key, Value: m.c.Resource, Sites: where})
}

// settingOf returns the key of a value that is one keyed hole (of its
// directory part, for a directory).
func settingOf(v Value, dir bool) string {
	if dir {
		if len(v.Parts) < 2 {
			return ""
		}
		v = parentValue(v)
	}
	if len(v.Parts) != 1 || v.Parts[0].Hole == nil {
		return ""
	}
	return v.Parts[0].Hole.Key
}

func (m *sideMatch) what() string {
	switch m.c.Kind {
	case graph.KindUnix, graph.KindTCP, graph.KindUDP, graph.KindSignal:
		return string(m.c.Kind) + " " + m.op()
	}
	return "file"
}

// op is what this side does on a network or signal coupling.
func (m *sideMatch) op() string {
	switch {
	case m.c.Kind == graph.KindSignal && m.from:
		return "kill"
	case m.c.Kind == graph.KindSignal:
		return "notify"
	case m.from:
		return "dial"
	}
	return "listen"
}

// compatible reports whether a site is of the coupling's kind and plays
// this side's part.
func (m *sideMatch) compatible(s *Site) bool {
	switch m.c.Kind {
	case graph.KindUnix, graph.KindTCP, graph.KindUDP:
		if s.Kind != string(m.c.Kind) && s.Kind != kindNet {
			return false
		}
		return s.Op == m.op() || (m.from && s.Op == "send")
	case graph.KindSignal:
		return s.Kind == kindSignal && s.Op == m.op()
	}
	return s.Kind == kindFile || s.Kind == kindDir || s.Kind == kindFIFO || s.Kind == kindShm
}

// matchSite returns the best match among a site's values, with its score
// (the words a key shares with the resource, for "key" matches).
func (m *sideMatch) matchSite(s *Site) (string, int) {
	best, bestScore := "", 0
	for _, r := range s.Resources {
		match, score := m.matchValue(r.v)
		if match == "dynamic" && !m.roleFits(s.Op) {
			continue // a guess needs at least the right operation
		}
		mr, ok := matchRank[match]
		if ok && (best == "" || mr < matchRank[best] || (mr == matchRank[best] && score > bestScore)) {
			best, bestScore = match, score
		}
	}
	return best, bestScore
}

// matchValue matches one value to the coupling's resource.
func (m *sideMatch) matchValue(v Value) (string, int) {
	want := m.c.Resource
	if _, ok := v.Literal(); ok && len(v.Flags) == 1 {
		if given, ok := firstFlagValue(m.argv, v.Flags[0]); ok {
			if m.same(want, given) != "" {
				return "flag", 0
			}
			return "", 0 // started with another value
		}
	}
	if s, ok := v.Literal(); ok {
		if match := m.same(want, s); match != "" {
			return match, 0
		}
		if len(v.Flags) > 0 {
			return m.guess(v.Flags) // a default the start command may override
		}
		return "", 0
	}
	if p := v.Pattern(); p != "" && m.glob(p, want) {
		return "pattern", 0
	}
	if m.c.Kind == graph.KindDir {
		if match := m.matchDir(v); match != "dynamic" {
			return match, 0
		}
	} else if v.Pattern() != "" {
		return "", 0
	}
	var keys []string
	for _, p := range v.Parts {
		if p.Hole != nil && p.Hole.Key != "" {
			keys = append(keys, p.Hole.Key)
		}
	}
	return m.guess(keys)
}

// guess ranks a dynamic value by the words its setting keys (or flag
// names) share with the runtime resource: "key" when some do (the
// setting shop_log names .../shop.log), else "dynamic".
func (m *sideMatch) guess(names []string) (string, int) {
	have := map[string]bool{}
	for _, w := range words(m.c.Resource) {
		have[w] = true
	}
	n := 0
	for _, k := range names {
		for _, w := range words(keyName(k)) {
			if have[w] {
				n++
			}
		}
	}
	if n > 0 {
		return "key", n
	}
	return "dynamic", 0
}

// keyName returns the name a setting key gives its value, without the
// type or package it is read through: spool_dir of
// "shopconf.Config[spool_dir]", "Spool Dir" of "legacyshop.Install.SpoolDir"
// (a field: its words split), HOME of "env:HOME". A flag name is its own.
func keyName(k string) string {
	if name, ok := configKey(k); ok {
		return name
	}
	if name, ok := strings.CutPrefix(k, "env:"); ok {
		return name
	}
	k = k[strings.LastIndexAny(k, ".:")+1:]
	var b strings.Builder
	for i, r := range k {
		if i > 0 && r >= 'A' && r <= 'Z' && k[i-1] >= 'a' && k[i-1] <= 'z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// genericWords say nothing about which resource a setting names.
var genericWords = map[string]bool{"path": true, "file": true, "dir": true, "directory": true, "addr": true, "address": true,
	"name": true, "config": true, "conf": true, "cfg": true, "var": true, "etc": true, "run": true, "srv": true, "opt": true,
	"usr": true, "lib": true, "dev": true, "tmp": true, "home": true, "env": true, "get": true, "getstring": true}

// words splits a key or path into lower-case words of three letters or
// more, without generic ones.
func words(s string) []string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z')
	})
	var out []string
	for _, w := range f {
		if len(w) >= 3 && !genericWords[w] {
			out = append(out, w)
		}
	}
	return out
}

// matchDir matches the value of a file site to a directory coupling: an
// entry of the directory (a recorded entry, or the value's own directory).
func (m *sideMatch) matchDir(v Value) string {
	for _, e := range m.c.Evidence.Resources {
		if p := v.Pattern(); p != "" && m.glob(p, e) {
			return "pattern"
		}
	}
	dir := parentValue(v)
	if s, ok := dir.Literal(); ok {
		return m.same(m.c.Resource, s)
	}
	if p := dir.Pattern(); p != "" {
		if m.glob(p, m.c.Resource) {
			return "pattern"
		}
		return ""
	}
	return "dynamic" // decided by the keys of the value
}

// parentValue cuts a value at the last slash of its literal parts.
func parentValue(v Value) Value {
	for i := len(v.Parts) - 1; i >= 0; i-- {
		p := v.Parts[i]
		if p.Hole != nil {
			continue
		}
		if j := strings.LastIndex(p.Lit, "/"); j >= 0 {
			head := Value{Parts: append([]Part(nil), v.Parts[:i]...), Flags: v.Flags}
			return concat(head, lit(p.Lit[:j]))
		}
	}
	return hole("?", "")
}

// same compares a runtime resource with a literal from the source.
func (m *sideMatch) same(want, got string) string {
	switch m.c.Kind {
	case graph.KindTCP, graph.KindUDP:
		return sameEndpoint(want, got)
	case graph.KindSignal:
		if want == got || got == "all" {
			return "exact"
		}
		return ""
	case graph.KindDir:
		if r := samePath(want, got); r != "" {
			return r
		}
		return samePath(want, path.Dir(got))
	}
	return samePath(want, got)
}

// samePath: "exact", or "suffix" when the runtime path ends with the
// source's path (the application was installed under another root).
func samePath(want, got string) string {
	if got == "" {
		return ""
	}
	got = path.Clean(got)
	if want == got {
		return "exact"
	}
	rel := strings.TrimPrefix(got, "/")
	if rel != "" && rel != "." && strings.HasSuffix(want, "/"+rel) {
		return "suffix"
	}
	return ""
}

// sameEndpoint: "exact", or "port" when both sides are local (or the
// source listens on every address) and the ports agree.
func sameEndpoint(want, got string) string {
	if want == got {
		return "exact"
	}
	wh, wp := splitHostPort(want)
	gh, gp := splitHostPort(got)
	if wp == "" || wp != gp || gp == "0" {
		return ""
	}
	if (isLocalHost(wh) && isLocalHost(gh)) || gh == "" || gh == "0.0.0.0" || gh == "::" {
		return "port"
	}
	return ""
}

// glob matches a pattern against a runtime path or address, also as a
// suffix for paths (installed under another root).
func (m *sideMatch) glob(p, s string) bool {
	if globMatch(p, s) {
		return true
	}
	return strings.HasPrefix(p, "/") && globMatch("*"+p, s)
}

// roleFits reports whether the operation of a site fits what this side
// was seen doing (its evidence role), for guesses on dynamic values.
func (m *sideMatch) roleFits(op string) bool {
	switch m.c.Kind {
	case graph.KindUnix, graph.KindTCP, graph.KindUDP, graph.KindSignal:
		return true
	}
	var role string
	for _, ep := range m.c.Evidence.Processes {
		if ep.Component == m.comp {
			role += ep.Role + ", "
		}
	}
	fits := map[string][]string{
		"reads":       {"read", "readwrite", "open", "list", "mmap"},
		"writes":      {"write", "create", "append", "readwrite", "open"},
		"creates":     {"create", "append", "rename", "link", "mkdir", "mkfifo"},
		"renames":     {"rename"},
		"removes":     {"remove", "rename"},
		"maps shared": {"mmap"},
	}
	for r, ops := range fits {
		if strings.Contains(role, r) && contains(ops, op) {
			return true
		}
	}
	return false
}
