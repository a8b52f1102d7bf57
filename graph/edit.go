package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// ErrSameContainer is wrapped by edits that would put two components tied
// by a same-container coupling (shared memory, an anonymous pipe) in
// different pods.
var ErrSameContainer = errors.New("would split a same-container coupling")

// ReadPlan decodes a plan saved as JSON (by analyze --json or the TUI),
// checks that it is consistent and recomputes what follows from its pods.
// Unknown fields are accepted: a newer decompose may add some. name is used
// in error messages.
func ReadPlan(r io.Reader, name string) (*Plan, error) {
	var p Plan
	if err := json.NewDecoder(r).Decode(&p); err != nil {
		return nil, fmt.Errorf("read plan %s: not a plan in JSON (%v): pass a file written by decompose analyze --json or the TUI", name, err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("read plan %s: %w", name, err)
	}
	p.Recompute()
	return &p, nil
}

// Validate checks that every component is in exactly one pod, that pods and
// couplings name known components, and that names are valid.
func (p *Plan) Validate() error {
	if len(p.Components) == 0 || len(p.Pods) == 0 {
		return errors.New("the plan has no components or no pods")
	}
	known := map[string]bool{}
	for _, c := range p.Components {
		if c.Name == "" || known[c.Name] {
			return fmt.Errorf("component name %q is empty or repeated", c.Name)
		}
		known[c.Name] = true
	}
	podOf := map[string]string{}
	podNames := map[string]bool{}
	for _, pod := range p.Pods {
		if pod.Name == "" || dnsName(pod.Name) != pod.Name || podNames[pod.Name] {
			return fmt.Errorf("pod name %q is not a unique Kubernetes name", pod.Name)
		}
		podNames[pod.Name] = true
		if len(pod.Components) == 0 {
			return fmt.Errorf("pod %s has no components", pod.Name)
		}
		for _, c := range pod.Components {
			if !known[c] {
				return fmt.Errorf("pod %s names unknown component %q", pod.Name, c)
			}
			if other, ok := podOf[c]; ok {
				return fmt.Errorf("component %s is in pods %s and %s", c, other, pod.Name)
			}
			podOf[c] = pod.Name
		}
	}
	for _, c := range p.Components {
		if _, ok := podOf[c.Name]; !ok {
			return fmt.Errorf("component %s is in no pod", c.Name)
		}
	}
	for _, c := range p.Couplings {
		if len(c.Components) < 2 {
			return fmt.Errorf("coupling %s %s has fewer than two components", c.Kind, c.Resource)
		}
		for _, n := range append(append([]string(nil), c.Components...), c.From...) {
			if !known[n] {
				return fmt.Errorf("coupling %s %s names unknown component %q", c.Kind, c.Resource, n)
			}
		}
	}
	return nil
}

// Move puts component comp into pod to, or into a new pod named after it
// when to is "". It refuses a move that splits a same-container coupling,
// naming it; same-pod couplings it splits become warnings.
func (p *Plan) Move(comp, to string) error {
	podOf := p.podOf()
	from, ok := podOf[comp]
	if !ok {
		return fmt.Errorf("move %s: no such component", comp)
	}
	if to != "" && !p.hasPod(to) {
		return fmt.Errorf("move %s: no pod %q (pass an existing pod, or none for a new one)", comp, to)
	}
	if to == from {
		return nil
	}
	if to == "" {
		to = p.newPodName(comp)
	}
	podOf[comp] = to
	if err := p.checkSameContainer(podOf); err != nil {
		return fmt.Errorf("move %s to %s: %w", comp, to, err)
	}
	p.applyPods(podOf)
	return nil
}

// Merge moves every component of pod b into pod a.
func (p *Plan) Merge(a, b string) error {
	if !p.hasPod(a) || !p.hasPod(b) || a == b {
		return fmt.Errorf("merge %s and %s: name two different existing pods", a, b)
	}
	podOf := p.podOf()
	for c, pod := range podOf {
		if pod == b {
			podOf[c] = a
		}
	}
	p.applyPods(podOf)
	return nil
}

// Split moves comps out of their pod into one new pod and returns its name.
func (p *Plan) Split(comps []string) (string, error) {
	if len(comps) == 0 {
		return "", errors.New("split: name at least one component")
	}
	podOf := p.podOf()
	name := p.newPodName(comps[0])
	for _, c := range comps {
		if _, ok := podOf[c]; !ok {
			return "", fmt.Errorf("split: no such component %q", c)
		}
		podOf[c] = name
	}
	if err := p.checkSameContainer(podOf); err != nil {
		return "", fmt.Errorf("split %s: %w", strings.Join(comps, ", "), err)
	}
	p.applyPods(podOf)
	return name, nil
}

// checkSameContainer fails when podOf separates a same-container coupling.
func (p *Plan) checkSameContainer(podOf map[string]string) error {
	for _, c := range p.Couplings {
		if c.Distance != SameContainer {
			continue
		}
		for _, n := range c.Components[1:] {
			if podOf[n] != podOf[c.Components[0]] {
				return fmt.Errorf("%w: %s (%s) must stay in one container", ErrSameContainer, c.label(), joinNames(c.Components))
			}
		}
	}
	return nil
}

// applyPods rebuilds the pod list from a component -> pod mapping, keeping
// the existing pods' names and reasons, dropping empty pods, and
// recomputing the plan.
func (p *Plan) applyPods(podOf map[string]string) {
	old := map[string]Pod{}
	for _, pod := range p.Pods {
		old[pod.Name] = pod
	}
	members := map[string][]string{}
	for c, pod := range podOf {
		members[pod] = append(members[pod], c)
	}
	names := make([]string, 0, len(members))
	for n := range members {
		names = append(names, n)
	}
	sort.Strings(names)
	p.Pods = p.Pods[:0]
	for _, n := range names {
		pod := Pod{Name: n, Why: []string{"moved by hand"}}
		if o, ok := old[n]; ok {
			pod.Why = o.Why
		}
		pod.Components = members[n]
		p.Pods = append(p.Pods, pod)
	}
	p.Recompute()
}

func (p *Plan) hasPod(name string) bool {
	for _, pod := range p.Pods {
		if pod.Name == name {
			return true
		}
	}
	return false
}

// newPodName returns an unused pod name derived from a component name.
func (p *Plan) newPodName(comp string) string {
	used := map[string]bool{}
	for _, pod := range p.Pods {
		used[pod.Name] = true
	}
	return uniqueName(dnsName(comp), used)
}

// Diff lists, one line per component, how edited places components
// differently from original: "shop-worker: shop-web -> shop-worker".
func Diff(original, edited *Plan) []string {
	before, after := original.podOf(), edited.podOf()
	var out []string
	for _, c := range original.Components {
		if before[c.Name] != after[c.Name] {
			out = append(out, fmt.Sprintf("%s: %s -> %s", c.Name, before[c.Name], after[c.Name]))
		}
	}
	sort.Strings(out)
	return out
}

// Clone returns a deep copy of p, for keeping an original beside edits.
func (p *Plan) Clone() *Plan {
	b, err := json.Marshal(p)
	if err != nil {
		panic(fmt.Sprintf("graph: a plan failed to encode: %v", err)) // only plain data: cannot happen
	}
	var c Plan
	if err := json.Unmarshal(b, &c); err != nil {
		panic(fmt.Sprintf("graph: a plan failed to decode: %v", err))
	}
	return &c
}
