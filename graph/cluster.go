package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	gonum "gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/community"
	"gonum.org/v1/gonum/graph/simple"
)

// group is a set of components that must share a pod, with the reasons.
type group struct {
	comps []*component
	why   []string
}

// cluster proposes pods: it first merges the components of every coupling
// that must not cross a pod boundary (union-find over same-container and
// same-pod couplings), then runs Louvain over the remaining couplings
// between groups that are free to move. Groups holding a backing service or
// stateful component are anchors: they get a pod of their own, as
// product.md asks, however much traffic they carry.
func (e *engine) cluster(included []*component, couplings []Coupling) [][]*component {
	index := map[string]int{}
	for i, c := range included {
		index[c.name] = i
	}
	parent := make([]int, len(included))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for _, c := range couplings {
		if !c.Distance.mustColocate() {
			continue
		}
		first := index[c.Components[0]]
		for _, n := range c.Components[1:] {
			if a, b := find(first), find(index[n]); a != b {
				parent[b] = a
			}
		}
	}
	reasons := map[int][]string{}
	for _, why := range mergeReasons(couplings) {
		r := find(index[why.component])
		reasons[r] = append(reasons[r], why.text)
	}
	byRoot := map[int]*group{}
	var groups []*group
	for i, c := range included {
		r := find(i)
		g := byRoot[r]
		if g == nil {
			g = &group{why: reasons[r]}
			byRoot[r] = g
			groups = append(groups, g)
		}
		g.comps = append(g.comps, c)
	}
	return e.louvain(groups, couplings)
}

var distanceWords = map[Distance]string{
	SameContainer: "same container",
	SamePod:       "same pod",
	SeparatePods:  "separate pods",
	AnyDistance:   "any distance",
}

// louvain merges free groups into communities by the traffic between them.
// Node IDs follow the groups' order, which follows component names, and the
// random source is seeded: the result is deterministic.
func (e *engine) louvain(groups []*group, couplings []Coupling) [][]*component {
	groupOf := map[string]int{}
	anchor := make([]bool, len(groups))
	for i, g := range groups {
		for _, c := range g.comps {
			groupOf[c.name] = i
			anchor[i] = anchor[i] || c.backing
		}
	}
	g := simple.NewWeightedUndirectedGraph(0, 0)
	for i := range groups {
		g.AddNode(simple.Node(i))
	}
	for _, c := range couplings {
		if c.Distance != SeparatePods {
			continue
		}
		a, b := groupOf[c.Components[0]], groupOf[c.Components[len(c.Components)-1]]
		if a == b || anchor[a] || anchor[b] {
			continue
		}
		w := 1 + math.Log1p(float64(c.Bytes))
		if old := g.WeightedEdge(int64(a), int64(b)); old != nil {
			w += old.Weight()
		}
		g.SetWeightedEdge(g.NewWeightedEdge(simple.Node(a), simple.Node(b), w))
	}
	var communities [][]gonum.Node
	if g.Edges().Len() == 0 || e.opts.Resolution == 0 {
		for i := range groups {
			communities = append(communities, []gonum.Node{simple.Node(i)})
		}
	} else {
		seed := e.opts.Seed
		reduced := community.Modularize(g, e.opts.Resolution, rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		communities = reduced.Communities()
	}
	var pods [][]*component
	for _, members := range communities {
		var pod []*component
		for _, n := range members {
			pod = append(pod, groups[n.ID()].comps...)
		}
		if len(members) > 1 {
			why := fmt.Sprintf("community detection (Louvain, resolution %g) grouped %d sets of components by the traffic between them", e.opts.Resolution, len(members))
			for _, n := range members {
				groups[n.ID()].why = append(groups[n.ID()].why, why)
			}
		}
		sort.Slice(pod, func(i, j int) bool { return pod[i].name < pod[j].name })
		pods = append(pods, pod)
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i][0].name < pods[j][0].name })
	e.groupWhy = map[*component][]string{}
	for _, gr := range groups {
		e.groupWhy[gr.comps[0]] = gr.why
	}
	return pods
}

// label names a coupling by kind and resource, once: "anonymous pipe",
// "signal SIGHUP", "unix /run/app.sock".
func (c *Coupling) label() string {
	if c.Kind == KindPipe {
		return "anonymous pipe"
	}
	return string(c.Kind) + " " + c.Resource
}

// reason is one line of why a group of components shares a pod, keyed by
// one of its components.
type reason struct{ component, text string }

// mergeReasons explains the must-co-locate couplings, one line each, except
// that several files shared by the same components in one directory make
// one line ("a + b: 12 files in /tmp/x (same pod)").
func mergeReasons(couplings []Coupling) []reason {
	type dirKey struct{ comps, dir string }
	files := map[dirKey]int{}
	for _, c := range couplings {
		if c.Distance.mustColocate() && c.Kind == KindFile {
			files[dirKey{joinNames(c.Components), parentDir(c.Resource)}]++
		}
	}
	var out []reason
	done := map[dirKey]bool{}
	for _, c := range couplings {
		if !c.Distance.mustColocate() {
			continue
		}
		text := fmt.Sprintf("%s: %s (%s)", joinNames(c.Components), c.label(), distanceWords[c.Distance])
		if k := (dirKey{joinNames(c.Components), parentDir(c.Resource)}); c.Kind == KindFile && files[k] > 1 {
			if done[k] {
				continue
			}
			done[k] = true
			text = fmt.Sprintf("%s: %d files in %s (%s)", k.comps, files[k], k.dir, distanceWords[c.Distance])
		}
		out = append(out, reason{c.Components[0], text})
	}
	return out
}
