package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/decompose-dev/decompose/graph"
)

// Text writes the readable summary of a plan: the pods with their
// components, then hidden couplings with one-line evidence and remedy, then
// blind spots, what was left out, and the quality figures.
func Text(w io.Writer, p *graph.Plan) error {
	ew := &errWriter{w: w}
	comps := map[string]graph.Component{}
	for _, c := range p.Components {
		comps[c.Name] = c
	}
	hidden := 0
	for _, c := range p.Couplings {
		if c.Hidden {
			hidden++
		}
	}
	ew.printf("%d pods, %d components, %d couplings (%d hidden) on %s\n",
		len(p.Pods), len(p.Components), len(p.Couplings), hidden, strings.Join(cleanAll(p.Hosts), ", "))
	ew.printf("migration order: %s\n", strings.Join(p.Order, " -> "))
	for _, pod := range p.Pods {
		ew.printf("\nPOD %s (%s)\n", pod.Name, pod.Workload)
		tw := tabwriter.NewWriter(ew, 2, 4, 2, ' ', 0)
		for _, n := range pod.Components {
			c := comps[n]
			fmt.Fprintf(tw, "  %s\t%d proc\t%s\t%s\n", Clean(c.Name), c.Processes, Clean(componentTraits(c)), Clean(strings.Join(c.Listens, " ")))
		}
		tw.Flush()
		for _, s := range pod.Services {
			expose := ""
			if s.Exposed {
				expose = ", exposed outside the app"
			}
			clients := ""
			if len(s.Clients) > 0 {
				clients = " for " + strings.Join(cleanAll(s.Clients), ", ")
			}
			ew.printf("  service %s %s/%d%s%s\n", s.Name, s.Protocol, s.Port, clients, expose)
		}
		for _, v := range pod.Volumes {
			medium := ""
			if v.Medium != "" {
				medium = " (" + v.Medium + ")"
			}
			ew.printf("  volume  %s %s%s at %s: %s\n", v.Name, v.Kind, medium, Clean(v.Path), Clean(v.Why))
		}
		for _, cm := range pod.ConfigMaps {
			shared := ""
			if cm.Shared {
				shared = " (shared with other pods)"
			}
			ew.printf("  config  %s: %s%s\n", cm.Name, strings.Join(cleanAll(cm.Files), ", "), shared)
		}
		for _, s := range pod.Secrets {
			ew.printf("  secret  %s: %d redacted value(s) from %s's command line\n", s.Name, s.Keys, Clean(s.Component))
		}
		for _, why := range pod.Why {
			ew.printf("  why: %s\n", Clean(why))
		}
	}
	writeHidden(ew, p)
	ew.printf("\nBLIND SPOTS\n")
	if len(p.BlindSpots) == 0 {
		ew.printf("  none recorded\n")
	}
	for _, b := range p.BlindSpots {
		count := fmt.Sprintf(": %d", b.Count)
		if b.Count == 0 { // a standing limit of the recorder, not an event count
			count = ""
		}
		ew.printf("  %s%s%s\n", Clean(b.What), count, hostSuffix(b.Host))
	}
	x := p.Excluded
	ew.printf("\nLEFT OUT: %d sharing nothing (%s), %d recorder, %d ignored, %d platform-file accesses\n",
		len(x.ShareNothing), strings.Join(cleanAll(x.ShareNothing), ", "), x.Recorder, len(x.Ignored), x.PlatformFiles)
	q := p.Quality
	ew.printf("QUALITY: %d of %d couplings cross pods (%s of %s), modularity %.2f, hidden couplings %d inside pods / %d crossing\n",
		q.CouplingsCut, q.Couplings, Bytes(q.BytesCut), Bytes(q.Bytes), q.Modularity, q.HiddenInsidePods, q.HiddenCrossing)
	return ew.err
}

func writeHidden(ew *errWriter, p *graph.Plan) {
	ew.printf("\nHIDDEN COUPLINGS\n")
	for _, crossing := range []bool{true, false} {
		title := "  crossing pod boundaries (change before splitting):\n"
		if !crossing {
			title = "  inside pods (why they stay together):\n"
		}
		printed := false
		for _, c := range p.Couplings {
			if !c.Hidden || c.CrossesPods != crossing {
				continue
			}
			if !printed {
				ew.printf("%s", title)
				printed = true
			}
			ew.printf("    %-6s %s: %s [%s, %s]\n", c.Kind, Clean(c.Resource), Clean(c.Why), Bytes(c.Bytes), c.Distance)
			if crossing && c.Remedy != "" {
				ew.printf("           remedy: %s\n", c.Remedy)
			}
			if len(c.Code) > 0 {
				ew.printf("           code: %s\n", Clean(codeSites(c.Code)))
			}
		}
	}
}

// componentTraits summarises what kind of component c is.
func componentTraits(c graph.Component) string {
	var t []string
	if c.Exposed {
		t = append(t, "exposed")
	}
	if c.Stateful {
		t = append(t, "stateful")
	}
	if c.Backing && !c.Stateful {
		t = append(t, "backing service")
	}
	if c.Script != "" {
		t = append(t, "script")
	}
	if len(t) == 0 {
		return "-"
	}
	return strings.Join(t, ",")
}

func hostSuffix(h string) string {
	if h == "" {
		return ""
	}
	return " (" + Clean(h) + ")"
}

// Bytes formats a byte count for people.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// errWriter keeps the first write error so that renderers check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}

// codeSites lists where the sides of a coupling are in the source, best
// matches first as the join ordered them: "shop-app cmd/app/main.go:91".
func codeSites(sites []graph.CodeSite) string {
	parts := make([]string, len(sites))
	for i, s := range sites {
		parts[i] = s.Binary + " " + s.Pos
		if s.Match == "dynamic" {
			parts[i] += " (guess)"
		}
	}
	return strings.Join(parts, ", ")
}
