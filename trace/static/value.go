package static

import (
	"path"
	"sort"
	"strings"
)

// maxValues caps the values followed for one expression: past it, the
// expression is reported as dynamic ("one of many values").
const maxValues = 8

// Value is one thing an expression may evaluate to at run time: literal
// text with holes for the parts that could not be followed statically.
type Value struct {
	Parts []Part
	// Flags names the command-line flags whose defaults the literal parts
	// hold: the value changes when the program is started with them.
	Flags []string
	// Settings are the configuration texts of the source tree that gave
	// parts of the value (see applyConfig).
	Settings []ConfigValue

	// defaults are the flag defaults among the literal text, for the
	// values scripts in the tree start the binary with (see applyLaunches).
	defaults []flagLit
}

// flagLit is a flag's literal default.
type flagLit struct{ flag, text string }

// Part is literal text, or a hole for a dynamic sub-expression.
type Part struct {
	Lit  string
	Hole *Hole
}

// Hole is a dynamic part of a value.
type Hole struct {
	// Expr is the source text of the dynamic sub-expression.
	Expr string
	// Key names a lookup of a constant key, the same in any binary that
	// makes it: "env:HOME", "shopconf.Config[app_socket]",
	// "viper.GetString(db.addr)". Empty when the hole is anonymous.
	Key string
}

func lit(s string) Value { return Value{Parts: []Part{{Lit: s}}} }

func hole(expr, key string) Value {
	if expr == "" {
		expr = "?"
	}
	return Value{Parts: []Part{{Hole: &Hole{Expr: expr, Key: key}}}}
}

// Literal returns the value's text when it has no hole.
func (v Value) Literal() (string, bool) {
	var b strings.Builder
	for _, p := range v.Parts {
		if p.Hole != nil {
			return "", false
		}
		b.WriteString(p.Lit)
	}
	return b.String(), true
}

// Dynamic reports whether some part of the value is unknown.
func (v Value) Dynamic() bool {
	_, ok := v.Literal()
	return !ok
}

// String renders the value with each hole as {expression}; the empty
// string is "".
func (v Value) String() string {
	s := v.render(func(h *Hole) string { return "{" + h.Expr + "}" })
	if s == "" {
		return `""`
	}
	return s
}

// Pattern renders the value as a glob whose * (matching any text, slashes
// included) stands for each hole. It is "" when the value has no literal
// text to anchor a match.
func (v Value) Pattern() string {
	p := v.render(func(*Hole) string { return "*" })
	if strings.Trim(p, "*") == "" {
		return ""
	}
	return collapseStars(p)
}

// symbol renders the value for matching across binaries: keyed holes by
// their key, anonymous holes as *. It is "" when nothing in the value is
// known (no literal text and no keyed hole).
func (v Value) symbol() string {
	known := false
	s := v.render(func(h *Hole) string {
		if h.Key == "" {
			return "*"
		}
		known = true
		return "{" + h.Key + "}"
	})
	if !known && strings.Trim(s, "*") == "" {
		return ""
	}
	return collapseStars(s)
}

func (v Value) render(h func(*Hole) string) string {
	var b strings.Builder
	for _, p := range v.Parts {
		if p.Hole != nil {
			b.WriteString(h(p.Hole))
		} else {
			b.WriteString(p.Lit)
		}
	}
	return b.String()
}

func collapseStars(s string) string {
	for strings.Contains(s, "**") {
		s = strings.ReplaceAll(s, "**", "*")
	}
	return s
}

// concat joins values end to end, merging adjacent literal parts.
func concat(vs ...Value) Value {
	var out Value
	for _, v := range vs {
		for _, p := range v.Parts {
			n := len(out.Parts)
			if p.Hole == nil && n > 0 && out.Parts[n-1].Hole == nil {
				out.Parts[n-1].Lit += p.Lit
				continue
			}
			if p.Hole == nil && p.Lit == "" {
				continue
			}
			out.Parts = append(out.Parts, p)
		}
		out.Flags = append(out.Flags, v.Flags...)
		out.Settings = append(out.Settings, v.Settings...)
		out.defaults = append(out.defaults, v.defaults...)
	}
	out.Flags = uniqSorted(out.Flags)
	return out
}

// joinPath joins path elements like filepath.Join: empty elements are
// dropped, and a fully literal result is cleaned.
func joinPath(elems []Value) Value {
	var parts []Value
	for _, e := range elems {
		if s, ok := e.Literal(); ok && s == "" {
			continue
		}
		if len(parts) > 0 {
			parts = append(parts, lit("/"))
		}
		parts = append(parts, e)
	}
	v := concat(parts...)
	if s, ok := v.Literal(); ok {
		return Value{Parts: []Part{{Lit: path.Clean(s)}}, Flags: v.Flags, Settings: v.Settings, defaults: v.defaults}
	}
	for i, p := range v.Parts {
		if p.Hole == nil {
			for strings.Contains(p.Lit, "//") {
				p.Lit = strings.ReplaceAll(p.Lit, "//", "/")
			}
			v.Parts[i].Lit = p.Lit
		}
	}
	return v
}

// product combines one value from each list with f, for every
// combination, capped at maxValues (then one hole stands for them all).
func product(lists [][]Value, expr func() string, f func([]Value) Value) []Value {
	combos := [][]Value{nil}
	for _, l := range lists {
		if len(l) == 0 {
			l = []Value{hole(expr(), "")}
		}
		var next [][]Value
		for _, c := range combos {
			for _, v := range l {
				next = append(next, append(append([]Value(nil), c...), v))
			}
		}
		if len(next) > maxValues {
			return []Value{hole(expr()+" (one of many values)", "")}
		}
		combos = next
	}
	out := make([]Value, 0, len(combos))
	for _, c := range combos {
		out = append(out, f(c))
	}
	return dedupe(out)
}

// dedupe removes repeated values (same text and flags) and sorts them;
// more than maxValues collapse into one hole.
func dedupe(vs []Value) []Value {
	seen := map[string]bool{}
	var out []Value
	for _, v := range vs {
		k := v.String() + "\x00" + strings.Join(v.Flags, ",")
		if !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// capValues collapses a list over maxValues into one hole for expr.
func capValues(vs []Value, expr func() string) []Value {
	vs = dedupe(vs)
	if len(vs) > maxValues {
		return []Value{hole(expr()+" (one of many values)", "")}
	}
	return vs
}

func uniqSorted(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	sort.Strings(s)
	out := s[:1]
	for _, x := range s[1:] {
		if x != out[len(out)-1] {
			out = append(out, x)
		}
	}
	return out
}

// globMatch reports whether s matches pattern, where * matches any text,
// slashes included, and every other byte matches itself.
func globMatch(pattern, s string) bool {
	star, mark := -1, 0
	p, i := 0, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
