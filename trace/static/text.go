package static

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes a result for people: each binary with its sites, then
// the predicted couplings, then what the scan could not see.
func WriteText(w io.Writer, res *Result) error {
	bw := bufio.NewWriter(w)
	dynamic := 0
	for _, b := range res.Binaries {
		dynamic += b.Dynamic
	}
	fmt.Fprintf(bw, "%d binaries, %d packages loaded, %d sites (%d with dynamic parts), %d predicted couplings\n",
		len(res.Binaries), res.Packages, len(res.Sites), dynamic, len(res.Couplings))
	bySite := map[string][]Site{}
	for _, s := range res.Sites {
		bySite[s.Binary] = append(bySite[s.Binary], s)
	}
	for _, b := range res.Binaries {
		fmt.Fprintf(bw, "\n%s (%s): %d sites, %d dynamic, %d reachable functions\n", b.Name, b.Package, b.Sites, b.Dynamic, b.Reachable)
		writeSites(bw, bySite[b.Name])
		if len(b.Expects) > 0 {
			fmt.Fprintf(bw, "  expects signals: %s\n", strings.Join(b.Expects, ", "))
		}
		if len(b.Env) > 0 {
			fmt.Fprintf(bw, "  reads environment: %s\n", strings.Join(b.Env, ", "))
		}
	}
	fmt.Fprintf(bw, "\npredicted couplings (from source alone; dynamic values are matched only by the settings they come from):\n")
	if len(res.Couplings) == 0 {
		fmt.Fprintln(bw, "  none")
	}
	tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
	for _, c := range res.Couplings {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Kind, c.Resource, sides(c), c.Basis)
	}
	tw.Flush()
	if dynamic > 0 {
		fmt.Fprintf(bw, "\n%d sites have parts known only at run time, shown as {expression}: match them against a recording with --trace.\n", dynamic)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(bw, "note: %s\n", n)
	}
	return bw.Flush()
}

func writeSites(w io.Writer, sites []Site) {
	if len(sites) == 0 {
		fmt.Fprintln(w, "  no sites")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range sites {
		kind := s.Kind
		if s.Network != "" && s.Network != s.Kind {
			kind += "(" + s.Network + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", s.Pos, kind, s.Op, shortResources(s.Resources), s.Call, s.Function)
	}
	tw.Flush()
}

func resourcesText(rs []Resource) string {
	var parts []string
	for _, r := range rs {
		t := r.Value
		if len(r.Flags) > 0 {
			t += " (-" + strings.Join(r.Flags, ", -") + ")"
		}
		parts = append(parts, t)
	}
	if len(parts) == 0 {
		return "?"
	}
	return strings.Join(parts, " | ")
}

// shortResources renders at most three values of at most 80 bytes each
// (--json has them all).
func shortResources(rs []Resource) string {
	var parts []string
	for i, r := range rs {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("(%d more)", len(rs)-3))
			break
		}
		t := resourcesText([]Resource{r})
		if len(t) > 80 {
			t = t[:77] + "..."
		}
		parts = append(parts, t)
	}
	if len(parts) == 0 {
		return "?"
	}
	return strings.Join(parts, " | ")
}

// sides renders "a, b -> c" (from -> others), or "a, b" without a direction.
func sides(c Coupling) string {
	if len(c.From) == 0 || len(c.From) == len(c.Binaries) {
		return strings.Join(c.Binaries, ", ")
	}
	from := map[string]bool{}
	for _, f := range c.From {
		from[f] = true
	}
	var to []string
	for _, b := range c.Binaries {
		if !from[b] {
			to = append(to, b)
		}
	}
	return strings.Join(c.From, ", ") + " -> " + strings.Join(to, ", ")
}

// WriteJoin writes a join report for people: the code behind each
// runtime coupling, then what ran but was not predicted, what was
// predicted but never seen, and the settings learned.
func WriteJoin(w io.Writer, j *JoinReport) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "traced components and their binaries:")
	tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
	for _, c := range j.Components {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Component, orDash(c.Binary), c.By)
	}
	tw.Flush()
	fmt.Fprintln(bw, "\nruntime couplings and the code behind them:")
	for _, c := range j.Couplings {
		pred := "not predicted"
		if c.Predicted {
			pred = "predicted"
		}
		fmt.Fprintf(bw, "  %s %s (%s): %s, %s\n", c.Kind, c.Resource, strings.Join(c.Components, ", "), c.Status, pred)
		tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
		for _, s := range c.Code {
			fmt.Fprintf(tw, "      %s\t%s\t%s\t%s\t%s\n", s.Component, s.Pos, s.Call, s.Function, s.Match)
		}
		tw.Flush()
		for _, why := range c.Why {
			fmt.Fprintf(bw, "      - %s\n", why)
		}
	}
	writeJoinSummary(bw, j)
	return bw.Flush()
}

func writeJoinSummary(w io.Writer, j *JoinReport) {
	var unpredicted []string
	for _, c := range j.Couplings {
		if !c.Predicted && c.Status != "not go" {
			why := c.Status
			if len(c.Why) > 0 {
				why += ": " + c.Why[0]
			}
			unpredicted = append(unpredicted, fmt.Sprintf("%s %s (%s)", c.Kind, c.Resource, why))
		}
	}
	fmt.Fprintf(w, "\nran but not predicted from the source: %d\n", len(unpredicted))
	for _, u := range unpredicted {
		fmt.Fprintf(w, "  %s\n", u)
	}
	fmt.Fprintf(w, "predicted but never seen in the recording: %d\n", len(j.NeverSeen))
	for _, c := range j.NeverSeen {
		fmt.Fprintf(w, "  %s %s (%s)\n", c.Kind, c.Resource, sides(c))
	}
	if len(j.NotTraced) > 0 {
		fmt.Fprintf(w, "binaries no traced process ran: %s\n", strings.Join(j.NotTraced, ", "))
	}
	if len(j.Learned) > 0 {
		fmt.Fprintln(w, "settings learned from the recording:")
		for _, s := range j.Learned {
			fmt.Fprintf(w, "  %s = %s (%s)\n", s.Key, s.Value, strings.Join(s.Sites, ", "))
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
