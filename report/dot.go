package report

import (
	"io"
	"strconv"
	"strings"

	"github.com/decompose-dev/decompose/graph"
)

// dotColors gives each coupling kind the colour the HTML report uses.
var dotColors = map[graph.Kind]string{
	graph.KindFile: "#d62728", graph.KindConfig: "#7f7f7f", graph.KindDir: "#ff7f0e", graph.KindPipe: "#8c564b",
	graph.KindFIFO: "#e377c2", graph.KindUnix: "#9467bd", graph.KindTCP: "#1f77b4", graph.KindUDP: "#17becf",
	graph.KindShm: "#bcbd22", graph.KindSignal: "#2ca02c",
}

// DOT writes the plan as a Graphviz digraph: a cluster per pod around its
// components, an edge per coupling from its writing (or first) side to
// every other side, coloured by kind, dashed when it crosses pods, thicker
// with more bytes. Node IDs are positional (c0, c1...) and every label is
// a quoted string escaped by dotQuote, so any name or resource is inert.
func DOT(w io.Writer, p *graph.Plan) error {
	ew := &errWriter{w: w}
	ew.printf("digraph decompose {\n  graph [rankdir=LR, fontname=\"sans-serif\", label=%s];\n", dotQuote("decomposition plan: "+strings.Join(p.Hosts, ", ")))
	ew.printf("  node [shape=box, style=rounded, fontname=\"sans-serif\"];\n  edge [fontname=\"sans-serif\", fontsize=9];\n")
	ids := map[string]string{} // component -> node ID ("c" + its index)
	for i, c := range p.Components {
		ids[c.Name] = "c" + strconv.Itoa(i)
	}
	inPod := map[string]bool{}
	for i, pod := range p.Pods {
		ew.printf("  subgraph %s {\n    label=%s;\n    style=dashed;\n", dotQuote("cluster_"+strconv.Itoa(i)), dotQuote("pod "+pod.Name+" ("+pod.Workload+")"))
		for _, n := range pod.Components {
			if id, ok := ids[n]; ok {
				inPod[n] = true
				ew.printf("    %s [label=%s];\n", dotQuote(id), dotQuote(n))
			}
		}
		ew.printf("  }\n")
	}
	for _, c := range p.Couplings {
		if len(c.Components) == 0 {
			continue
		}
		from := c.Components[0]
		if len(c.From) > 0 {
			from = c.From[0]
		}
		style := "solid"
		if c.CrossesPods {
			style = "dashed"
		}
		for _, to := range c.Components {
			if to == from || !inPod[from] || !inPod[to] {
				continue
			}
			ew.printf("  %s -> %s [label=%s, color=%s, style=%s, penwidth=%.1f, tooltip=%s];\n", dotQuote(ids[from]), dotQuote(ids[to]),
				dotQuote(string(c.Kind)), dotQuote(dotColors[c.Kind]), style, edgeWidth(c.Bytes)/2, dotQuote(c.Resource))
		}
	}
	ew.printf("}\n")
	return ew.err
}

// dotQuote makes s a DOT quoted string. Graphviz's lexer knows only one
// escape in quoted strings, \", and reads "\\\"" as a backslash then an
// escaped quote; labels then give backslashes meanings of their own (\n,
// \N, \G). So control characters are first shown as Go escapes (Clean),
// every backslash becomes U+29F5 (a look-alike), and quotes are escaped:
// the string can neither end early nor start a Graphviz escape.
func dotQuote(s string) string {
	s = strings.NewReplacer(`\`, "\u29f5", `"`, `\"`).Replace(Clean(s))
	return `"` + s + `"`
}
