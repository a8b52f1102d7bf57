package report

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/decompose-dev/decompose/graph"
)

//go:embed assets/cytoscape.min.js
var cytoscapeJS string

//go:embed assets/report.js
var reportJS string

//go:embed assets/report.css
var reportCSS string

//go:embed assets/report.html.tmpl
var pageTemplate string

// errorHook runs first: it counts script errors on the page so a test (or
// a curious user) can read them from the DOM.
const errorHook = `window.addEventListener("error",function(e){var d=document.documentElement;d.setAttribute("data-errors",String(Number(d.getAttribute("data-errors")||0)+1));d.setAttribute("data-last-error",String(e.message));});`

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"clean": Clean,
	"bytes": Bytes,
	"join":  func(ss []string) string { return strings.Join(cleanAll(ss), ", ") },
	"pct": func(a, b int64) string {
		if b == 0 {
			return "0%"
		}
		return strconv.FormatFloat(100*float64(a)/float64(b), 'f', 0, 64) + "%"
	},
}).Parse(pageTemplate))

// htmlPage is what the page template renders.
type htmlPage struct {
	Plan         *graph.Plan
	Hidden       []graph.Coupling
	Network      []graph.Coupling
	Nodes, Edges int
	CSP          string
	CSS          template.CSS
	Data         template.JS
	Hook, Lib    template.JS
	App          template.JS
}

// HTML writes the plan as one self-contained page that works offline: an
// interactive cytoscape.js graph (pods around their components, an edge per
// coupling, its evidence on click) above the plan table, the hidden
// couplings with remedies, the migration order, blind spots and quality.
//
// Trace strings reach the page only through html/template (escaped for
// their context) and a JSON block whose "<", ">" and "&" are escaped; the
// script builds the evidence panel with textContent. A Content Security
// Policy allows only the page's own scripts, by hash.
func HTML(w io.Writer, p *graph.Plan) error {
	elements := graphElements(p)
	data, err := json.Marshal(struct {
		Plan     *graph.Plan `json:"plan"`
		Elements []element   `json:"elements"`
	}{p, elements})
	if err != nil {
		return fmt.Errorf("html report: encode plan: %w", err)
	}
	v := htmlPage{Plan: p, CSS: template.CSS(reportCSS), Data: template.JS(data),
		Hook: template.JS(errorHook), Lib: template.JS(cytoscapeJS), App: template.JS(reportJS)}
	for _, e := range elements {
		if e.Group == "nodes" {
			v.Nodes++
		} else {
			v.Edges++
		}
	}
	for _, c := range p.Couplings {
		if c.Hidden {
			v.Hidden = append(v.Hidden, c)
		} else {
			v.Network = append(v.Network, c)
		}
	}
	// cytoscape.js sets inline styles on the elements it creates, so
	// styles stay 'unsafe-inline' (CSS cannot run script); scripts are
	// allowed only by hash.
	v.CSP = fmt.Sprintf("default-src 'none'; script-src %s %s %s; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'",
		hashSource(errorHook), hashSource(cytoscapeJS), hashSource(reportJS))
	if err := page.Execute(w, v); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	return nil
}

// hashSource is the CSP source expression that allows exactly this inline
// script or style.
func hashSource(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// element is one cytoscape.js element. Ids are positional (p0, c3, e5-1)
// so that no trace string is ever used in a selector; ref indexes the
// plan's pods, components or couplings for the evidence panel.
type element struct {
	Group string      `json:"group"`
	Data  elementData `json:"data"`
}

type elementData struct {
	ID     string  `json:"id"`
	Parent string  `json:"parent,omitempty"`
	Source string  `json:"source,omitempty"`
	Target string  `json:"target,omitempty"`
	Label  string  `json:"label"`
	Kind   string  `json:"kind"`
	Ref    int     `json:"ref"`
	Width  float64 `json:"width,omitempty"`
	W      int     `json:"w,omitempty"` // node width, from its label
	Cross  bool    `json:"cross,omitempty"`
	Hidden bool    `json:"hidden,omitempty"`
}

// graphElements lays the plan out for cytoscape.js: a compound node per
// pod, a node per component inside it, and per coupling an edge from its
// writing (or first) side to every other side.
func graphElements(p *graph.Plan) []element {
	var out []element
	ids := map[string]string{}
	comp := map[string]int{}
	for i, c := range p.Components {
		comp[c.Name] = i
	}
	for pi, pod := range p.Pods {
		pid := "p" + strconv.Itoa(pi)
		out = append(out, element{"nodes", elementData{ID: pid, Label: Clean(pod.Name) + " (" + pod.Workload + ")", Kind: "pod", Ref: pi, W: nodeWidth(pod.Name)}})
		for _, n := range pod.Components {
			ci, ok := comp[n]
			if !ok {
				continue
			}
			ids[n] = "c" + strconv.Itoa(ci)
			out = append(out, element{"nodes", elementData{ID: ids[n], Parent: pid, Label: Clean(n), Kind: "component", Ref: ci, W: nodeWidth(n)}})
		}
	}
	for i, c := range p.Couplings {
		if len(c.Components) == 0 {
			continue
		}
		from := c.Components[0]
		if len(c.From) > 0 {
			from = c.From[0]
		}
		for j, to := range c.Components {
			if to == from || ids[from] == "" || ids[to] == "" {
				continue
			}
			out = append(out, element{"edges", elementData{ID: "e" + strconv.Itoa(i) + "-" + strconv.Itoa(j), Source: ids[from], Target: ids[to],
				Label: string(c.Kind), Kind: string(c.Kind), Ref: i, Width: edgeWidth(c.Bytes), Cross: c.CrossesPods, Hidden: c.Hidden}})
		}
	}
	return out
}

// edgeWidth grows with the logarithm of the bytes a coupling carried.
func edgeWidth(b int64) float64 {
	return math.Round(10*min(1+math.Log2(1+float64(b))/2, 12)) / 10
}

// nodeWidth fits a node to its label, within bounds.
func nodeWidth(label string) int {
	return min(max(16+7*utf8.RuneCountInString(Clean(label)), 60), 220)
}
