package static

import (
	"debug/buildinfo"
	"path"
	"sort"
	"strings"

	"github.com/decompose-dev/decompose/graph"
)

// JoinReport says which code is behind each runtime coupling of a plan:
// what matched a site, what ran but was not predicted from the source,
// and what was predicted but never seen in the recording.
type JoinReport struct {
	Components []ComponentMatch `json:"components"`
	Couplings  []CouplingJoin   `json:"couplings"`
	// NeverSeen lists predicted couplings between binaries that all ran,
	// that the recording did not show (dead or rarely used paths).
	NeverSeen []Coupling `json:"neverSeen"`
	// NotTraced lists the binaries of the source no traced process ran.
	NotTraced []string `json:"notTraced"`
	// Learned gives the run-time value of settings the source reads
	// (shopconf.Config[app_socket] = /srv/run/app.sock), taken from the
	// runtime resource a dynamic site matched.
	Learned []Setting `json:"learned"`
}

// ComponentMatch says which binary a traced component runs, and how that
// was found: "buildinfo" (the executable's Go build information names the
// main package), "name" (the executable's or component's name is the
// binary's), or why none was found.
type ComponentMatch struct {
	Component string `json:"component"`
	Binary    string `json:"binary,omitempty"`
	By        string `json:"by"`
}

// CouplingJoin is one runtime coupling with the code behind it.
type CouplingJoin struct {
	// Index is the coupling's index in plan.Couplings.
	Index      int        `json:"index"`
	Kind       graph.Kind `json:"kind"`
	Resource   string     `json:"resource"`
	Components []string   `json:"components"`
	Code       []CodeSite `json:"code"`
	// Status is "matched" (every Go side has a site naming the resource),
	// "dynamic" (some Go side only has sites whose resource is known at
	// run time), "unpredicted" (some Go side has no site of this kind) or
	// "not go" (no side runs a binary of the source).
	Status string `json:"status"`
	// Predicted is true when decompose static predicted this coupling
	// from the source alone.
	Predicted bool `json:"predicted"`
	// Why explains, per side, what was not matched.
	Why []string `json:"why,omitempty"`
}

// CodeSite is a site behind one side of a runtime coupling: graph.Coupling
// carries it in its Code field. Its Match field says how the site was
// matched, best first: "exact"; "flag" (the value the process was started
// with for the flag the site reads); "suffix" (the runtime path ends with
// the path in the source: installed under another root); "port" (same port
// on loopback); "pattern" (the glob of a partly dynamic value); "key" (a
// dynamic value read from a setting, or a flag default, whose name shares a
// word with the resource: shop_log for .../shop.log); "dynamic" (a site of
// the same kind and operation whose resource is known only at run time: a
// guess).
type CodeSite = graph.CodeSite

// Setting is a setting's value learned from a recording, with the sites
// ("binary file:line") that read it.
type Setting struct {
	Key   string   `json:"key"`
	Value string   `json:"value"`
	Sites []string `json:"sites"`
}

// match quality, best first.
var matchRank = map[string]int{"exact": 0, "flag": 0, "suffix": 1, "port": 1, "pattern": 2, "key": 3, "dynamic": 4}

// Attach matches a plan's runtime couplings to the sites of res: each
// traced component to a binary, then each side's resource to the sites of
// that binary. The plan is not changed.
func Attach(plan *graph.Plan, res *Result) *JoinReport {
	j := &JoinReport{Components: []ComponentMatch{}, Couplings: []CouplingJoin{}, NeverSeen: []Coupling{}, NotTraced: []string{}, Learned: []Setting{}}
	bins, argv := j.matchComponents(plan, res)
	notGo := map[string]string{}
	for _, m := range j.Components {
		notGo[m.Component] = m.By
	}
	sites := map[string][]*Site{}
	for i := range res.Sites {
		sites[res.Sites[i].Binary] = append(sites[res.Sites[i].Binary], &res.Sites[i])
	}
	learned := map[[2]string][]string{}
	for i := range plan.Couplings {
		c := &plan.Couplings[i]
		cj := CouplingJoin{Index: i, Kind: c.Kind, Resource: c.Resource, Components: c.Components, Code: []CodeSite{}}
		goSides := 0
		for _, comp := range c.Components {
			bin, ok := bins[comp]
			if !ok {
				cj.Why = append(cj.Why, comp+": "+notGo[comp])
				continue
			}
			goSides++
			m := sideMatch{c: c, comp: comp, from: contains(c.From, comp), argv: argv[comp]}
			code, why := m.best(bin, sites[bin])
			cj.Code = append(cj.Code, code...)
			cj.Why = append(cj.Why, why...)
			for _, s := range m.learned {
				k := [2]string{s.Key, s.Value}
				learned[k] = append(learned[k], s.Sites...)
			}
		}
		cj.Status = status(goSides, cj.Code, cj.Components, bins)
		j.Couplings = append(j.Couplings, cj)
	}
	j.Learned = sortedSettings(learned)
	j.predictions(res, bins)
	return j
}

// matchComponents finds the binary of every traced component, and the
// arguments its processes were started with.
func (j *JoinReport) matchComponents(plan *graph.Plan, res *Result) (map[string]string, map[string][][]string) {
	byPkg, byName := map[string]string{}, map[string]string{}
	for _, b := range res.Binaries {
		byPkg[b.Package] = b.Name
		byName[path.Base(b.Name)] = b.Name
	}
	bins, argv := map[string]string{}, map[string][][]string{}
	for _, c := range plan.Components {
		m := matchComponent(c, byPkg, byName)
		j.Components = append(j.Components, m)
		if m.Binary == "" {
			continue
		}
		bins[c.Name] = m.Binary
		for _, mem := range c.Members {
			argv[c.Name] = append(argv[c.Name], mem.Argv)
		}
	}
	ran := map[string]bool{}
	for _, b := range bins {
		ran[b] = true
	}
	for _, b := range res.Binaries {
		if !ran[b.Name] {
			j.NotTraced = append(j.NotTraced, b.Name)
		}
	}
	return bins, argv
}

func matchComponent(c graph.Component, byPkg, byName map[string]string) ComponentMatch {
	m := ComponentMatch{Component: c.Name}
	if c.Script != "" {
		m.By = "script " + path.Base(c.Script) + " run by " + path.Base(c.Exe) + ": not Go source"
		return m
	}
	exes := []string{c.Exe}
	for _, mem := range c.Members {
		exes = append(exes, mem.Exe)
	}
	for _, exe := range exes {
		if info, err := buildinfo.ReadFile(exe); err == nil {
			if b, ok := byPkg[info.Path]; ok {
				m.Binary, m.By = b, "buildinfo"
				return m
			}
			m.By = "a Go binary of " + info.Path + ", which is not in the source"
			return m
		}
	}
	for _, name := range []string{path.Base(c.Exe), c.Name} {
		if b, ok := byName[name]; ok {
			m.Binary, m.By = b, "name"
			return m
		}
	}
	m.By = "no binary of the source is named " + path.Base(c.Exe)
	return m
}

func status(goSides int, code []CodeSite, comps []string, bins map[string]string) string {
	if goSides == 0 {
		return "not go"
	}
	best := map[string]int{}
	for _, s := range code {
		r, ok := best[s.Component]
		if !ok || matchRank[s.Match] < r {
			best[s.Component] = matchRank[s.Match]
		}
	}
	st := "matched"
	for _, c := range comps {
		if _, ok := bins[c]; !ok {
			continue
		}
		r, ok := best[c]
		switch {
		case !ok:
			return "unpredicted"
		case r == matchRank["dynamic"]:
			st = "dynamic"
		}
	}
	return st
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedSettings(m map[[2]string][]string) []Setting {
	out := []Setting{}
	for k, sites := range m {
		out = append(out, Setting{Key: k[0], Value: k[1], Sites: uniqSorted(sites)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Key != out[j].Key {
			return out[i].Key < out[j].Key
		}
		return out[i].Value < out[j].Value
	})
	return out
}

// predictions marks the runtime couplings that were predicted, and lists
// the predicted couplings between traced binaries that never showed.
func (j *JoinReport) predictions(res *Result, bins map[string]string) {
	ran := map[string]bool{}
	for _, b := range bins {
		ran[b] = true
	}
	for _, p := range res.Couplings {
		seen := false
		for i := range j.Couplings {
			if covers(p, j.Couplings[i].Code) || sameEnds(p, j.Couplings[i], bins) {
				j.Couplings[i].Predicted = true
				seen = true
			}
		}
		all := true
		for _, b := range p.Binaries {
			all = all && ran[b]
		}
		if !seen && all {
			j.NeverSeen = append(j.NeverSeen, p)
		}
	}
}

// sameEnds reports whether a predicted coupling without code sites (a
// pipe a start script sets up) joins the binaries of a runtime coupling of
// its kind.
func sameEnds(p Coupling, c CouplingJoin, bins map[string]string) bool {
	if p.Kind != graph.KindPipe || c.Kind != p.Kind {
		return false
	}
	var got []string
	for _, comp := range c.Components {
		got = append(got, bins[comp])
	}
	return strings.Join(uniqSorted(got), ",") == strings.Join(p.Binaries, ",")
}

// covers reports whether the code behind a runtime coupling includes the
// predicted coupling's sites in at least two of its binaries.
func covers(p Coupling, code []CodeSite) bool {
	want := map[string]bool{}
	for _, s := range p.Sites {
		want[s] = true
	}
	hit := map[string]bool{}
	for _, c := range code {
		if want[c.Binary+" "+c.Pos] {
			hit[c.Binary] = true
		}
	}
	return len(hit) >= 2
}

// firstFlagValue returns the value argv gives flag name ("-name v",
// "--name=v"...), if any.
func firstFlagValue(argvs [][]string, name string) (string, bool) {
	for _, argv := range argvs {
		for i := 1; i < len(argv); i++ {
			a := argv[i]
			if !strings.HasPrefix(a, "-") {
				continue
			}
			a = strings.TrimLeft(a, "-")
			if v, ok := strings.CutPrefix(a, name+"="); ok {
				return v, true
			}
			if a == name && i+1 < len(argv) {
				return argv[i+1], true
			}
		}
	}
	return "", false
}
