package report

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/decompose-dev/decompose/graph"
)

// Markdown writes the plan as a Markdown page: a Mermaid diagram of the
// pods, the plan table, hidden couplings with remedies, the migration order,
// blind spots and quality figures.
func Markdown(w io.Writer, p *graph.Plan) error {
	ew := &errWriter{w: w}
	ew.printf("# Decomposition plan\n\n")
	ew.printf("Hosts: %s. %d pods, %d components, %d couplings.\n\n", mdList(p.Hosts), len(p.Pods), len(p.Components), len(p.Couplings))
	writeMermaid(ew, p)
	ew.printf("## Pods\n\n| pod | workload | components | services | volumes | config |\n|---|---|---|---|---|---|\n")
	for _, pod := range p.Pods {
		var svcs, vols, cms []string
		for _, s := range pod.Services {
			exp := ""
			if s.Exposed {
				exp = " (exposed)"
			}
			svcs = append(svcs, fmt.Sprintf("%s %s/%d%s", s.Name, s.Protocol, s.Port, exp))
		}
		for _, v := range pod.Volumes {
			vols = append(vols, fmt.Sprintf("%s: %s %s", v.Name, v.Kind, v.Path))
		}
		for _, cm := range pod.ConfigMaps {
			cms = append(cms, cm.Name+": "+strings.Join(cm.Files, ", "))
		}
		ew.printf("| %s | %s | %s | %s | %s | %s |\n", mdCell(pod.Name), pod.Workload, mdList(pod.Components),
			mdList(svcs), mdList(vols), mdList(cms))
	}
	ew.printf("\nMigration order (dependencies first): %s.\n", mdList(p.Order))
	ew.printf("\n## Hidden couplings\n\n| kind | resource | components | distance | crosses pods | bytes | evidence | remedy |\n|---|---|---|---|---|---|---|---|\n")
	for _, c := range p.Couplings {
		if !c.Hidden {
			continue
		}
		remedy := ""
		if c.CrossesPods {
			remedy = c.Remedy
		}
		why := c.Why
		if len(c.Code) > 0 {
			why += " (code: " + codeSites(c.Code) + ")"
		}
		ew.printf("| %s | %s | %s | %s | %v | %s | %s | %s |\n", c.Kind, mdCell(c.Resource), mdList(c.Components), c.Distance,
			c.CrossesPods, Bytes(c.Bytes), mdCell(why), mdCell(remedy))
	}
	ew.printf("\n## Network couplings\n\n| kind | endpoint | components | distance | bytes |\n|---|---|---|---|---|\n")
	for _, c := range p.Couplings {
		if !c.Hidden {
			ew.printf("| %s | %s | %s | %s | %s |\n", c.Kind, mdCell(c.Resource), mdList(c.Components), c.Distance, Bytes(c.Bytes))
		}
	}
	ew.printf("\n## Blind spots\n\n")
	if len(p.BlindSpots) == 0 {
		ew.printf("None recorded.\n")
	}
	for _, b := range p.BlindSpots {
		ew.printf("- %s: %d%s\n", mdCell(b.What), b.Count, mdCell(hostSuffix(b.Host)))
	}
	q := p.Quality
	ew.printf("\n## Quality\n\n- couplings crossing pods: %d of %d\n- bytes crossing pods: %s of %s\n- modularity: %.2f\n- hidden couplings inside pods: %d, crossing: %d\n",
		q.CouplingsCut, q.Couplings, Bytes(q.BytesCut), Bytes(q.Bytes), q.Modularity, q.HiddenInsidePods, q.HiddenCrossing)
	ew.printf("- left out: %d components sharing nothing (%s), %d ignored\n", len(p.Excluded.ShareNothing), mdList(p.Excluded.ShareNothing), len(p.Excluded.Ignored))
	return ew.err
}

// writeMermaid draws pods as subgraphs around their components, with an
// edge per coupling between components.
func writeMermaid(ew *errWriter, p *graph.Plan) {
	ids := map[string]string{}
	for i, c := range p.Components {
		ids[c.Name] = fmt.Sprintf("c%d", i)
	}
	ew.printf("```mermaid\nflowchart LR\n")
	for i, pod := range p.Pods {
		ew.printf("  subgraph p%d[\"pod %s (%s)\"]\n", i, mermaidText(pod.Name), pod.Workload)
		for _, n := range pod.Components {
			ew.printf("    %s[\"%s\"]\n", ids[n], mermaidText(n))
		}
		ew.printf("  end\n")
	}
	for _, c := range p.Couplings {
		from := c.Components[0]
		if len(c.From) > 0 {
			from = c.From[0]
		}
		arrow := "-->"
		if c.CrossesPods {
			arrow = "-.->"
		}
		for _, to := range c.Components {
			if to != from {
				ew.printf("  %s %s|%s| %s\n", ids[from], arrow, mermaidText(string(c.Kind)), ids[to])
			}
		}
	}
	ew.printf("```\n\n")
}

var mermaidUnsafe = regexp.MustCompile(`["<>&|\[\](){}#;` + "`" + `]`)

// mermaidText keeps only characters that cannot end a Mermaid label.
func mermaidText(s string) string {
	return mermaidUnsafe.ReplaceAllString(Clean(s), "_")
}

var mdSpecial = strings.NewReplacer("|", `\|`, "`", "\\`", "<", "&lt;", ">", "&gt;", "&", "&amp;", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "\n", " ", "\r", " ")

// mdCell escapes s for a Markdown table cell: no HTML, no table breaks.
func mdCell(s string) string { return mdSpecial.Replace(Clean(s)) }

func mdList(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = mdCell(s)
	}
	return strings.Join(out, ", ")
}
