package report

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/decompose-dev/decompose/fixtures/legacyshop"
	"github.com/decompose-dev/decompose/fixtures/recordings"
	"github.com/decompose-dev/decompose/fixtures/synth"
	"github.com/decompose-dev/decompose/fixtures/truth"
	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/trace"
)

// Payloads that change the page title if they ever run as script.
const (
	imgPayload    = `<img src=x onerror="document.title='PWNED-IMG'">`
	scriptPayload = `</script><script>document.title='PWNED-SCRIPT'</script>`
)

// analyzeTrace writes t and runs the engine on it.
func analyzeTrace(t *testing.T, data []byte, tr *trace.Trace) *graph.Plan {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.trace")
	if tr != nil {
		if err := synth.Write(tr, path); err != nil {
			t.Fatal(err)
		}
	} else if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	opened, err := trace.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := graph.Analyze([]*trace.Trace{opened}, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// hostileShopPlan is the legacyshop plan recorded on a VM whose paths and
// program names carry script payloads: the ground truth is expanded with a
// hostile root and the front end's executable renamed.
func hostileShopPlan(t *testing.T) *graph.Plan {
	t.Helper()
	var g truth.GroundTruth
	if err := json.Unmarshal(legacyshop.ExpectedJSON(), &g); err != nil {
		t.Fatal(err)
	}
	for i := range g.Components {
		if g.Components[i].Name == "shop-web" {
			g.Components[i].Exe = "shop-web" + imgPayload
		}
	}
	root := "/srv/" + scriptPayload + "/" + imgPayload + "/x\"y'z$(id)\\"
	vars := map[string]string{"ROOT": root, "WEB_PORT": "8080", "CACHE_PORT": "6380", "DB_PORT": "5433", "METRICS_PORT": "8125", "SHM": "/dev/shm/" + imgPayload}
	expanded, err := g.Expand(vars)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := synth.Build(expanded, synth.Options{BinDir: root + "/bin", HostIP: "10.0.0.10", Hostname: "vm" + imgPayload, Rounds: 2})
	if err != nil {
		t.Fatal(err)
	}
	return analyzeTrace(t, nil, tr)
}

// chromium renders page in headless Chromium (offline: the file is local
// and background networking is off) and returns the DOM after scripts ran
// and what Chromium logged.
func chromium(t *testing.T, page, fragment, screenshot string) (dom, log string) {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (scripts/test.sh installs it): apt-get install -y chromium")
	}
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
		"--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0",
		"--virtual-time-budget=5000", "--window-size=1400,1000"}
	if screenshot != "" {
		args = append(args, "--screenshot="+screenshot)
	} else {
		args = append(args, "--dump-dom")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(args, "file://"+page+fragment)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, errOut.String())
	}
	return out.String(), errOut.String()
}

// writeHTML renders p into a page in a temp dir.
func writeHTML(t *testing.T, p *graph.Plan) string {
	t.Helper()
	var b bytes.Buffer
	if err := HTML(&b, p); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plan.html")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// attr reads one attribute of the <body> (or <html>) the page script set.
func attr(dom, tag, name string) string {
	open := regexp.MustCompile(`<` + tag + `[^>]*>`).FindString(dom)
	m := regexp.MustCompile(` ` + name + `="([^"]*)"`).FindStringSubmatch(open)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestHTMLInChromium loads the fixture's report in real headless Chromium:
// it renders offline with no console message and no script error, the
// graph has a node per pod and component and an edge per coupling side,
// and a screenshot is written.
func TestHTMLInChromium(t *testing.T) {
	p := analyzeTrace(t, recordings.LegacyshopSynthetic, nil)
	page := writeHTML(t, p)
	dom, log := chromium(t, page, "#e0-1", "")
	checkClean(t, dom, log)
	wantNodes := len(p.Pods) + len(p.Components)
	if got := attr(dom, "body", "data-nodes"); got != strconv.Itoa(wantNodes) || attr(dom, "body", "data-ready") != "1" {
		t.Fatalf("graph shows %q nodes (ready %q), want %d", got, attr(dom, "body", "data-ready"), wantNodes)
	}
	if got, want := attr(dom, "body", "data-edges"), attr(dom, "body", "data-expected-edges"); got != want || got == "0" {
		t.Errorf("graph shows %s edges, want %s", got, want)
	}
	if !strings.Contains(dom, "<h3>config "+p.Couplings[0].Resource+"</h3>") || !strings.Contains(dom, "first seen") {
		t.Errorf("the evidence panel does not show the selected coupling")
	}
	shot := filepath.Join(t.TempDir(), "plan.png")
	chromium(t, page, "", shot)
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10000 {
		t.Fatalf("no screenshot: %v", err)
	}
}

// checkClean fails on any console message or counted script error.
func checkClean(t *testing.T, dom, log string) {
	t.Helper()
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, ":CONSOLE") {
			t.Errorf("console message: %s", line)
		}
	}
	if n := attr(dom, "html", "data-errors"); n != "" {
		t.Errorf("%s script errors, the last: %s", n, attr(dom, "html", "data-last-error"))
	}
}

// TestHostileNamesDoNotRunInChromium renders a plan whose file names, host
// name and program name carry <img onerror> and </script> payloads, and
// shows the evidence of the hostile component and of a hostile coupling:
// no payload runs (the title is unchanged), no element is injected, and
// the payloads are shown as text.
func TestHostileNamesDoNotRunInChromium(t *testing.T) {
	p := hostileShopPlan(t)
	page := writeHTML(t, p)
	raw, _ := os.ReadFile(page)
	if bytes.Contains(raw, []byte(scriptPayload)) || bytes.Contains(raw, []byte(imgPayload)) {
		t.Fatal("a payload appears unescaped in the page source")
	}
	web, conf := -1, -1
	for i, c := range p.Components {
		if strings.Contains(c.Name, "<img") {
			web = i
		}
	}
	for i, c := range p.Couplings {
		if c.Kind == graph.KindConfig {
			conf = i
		}
	}
	if web < 0 || conf < 0 {
		t.Fatalf("the hostile plan lost its payloads: component %d, config coupling %d", web, conf)
	}
	for _, fragment := range []string{"#c" + strconv.Itoa(web), "#e" + strconv.Itoa(conf) + "-1", ""} {
		dom, log := chromium(t, page, fragment, "")
		checkClean(t, dom, log)
		title := regexp.MustCompile(`<title>([^<]*)</title>`).FindStringSubmatch(dom)
		if title == nil || strings.Contains(title[1], "PWNED") {
			t.Fatalf("%s: a payload ran: title %q", fragment, title)
		}
		if strings.Contains(dom, `<img src="x"`) || strings.Contains(dom, "<script>document.title") {
			t.Fatalf("%s: a payload became an element", fragment)
		}
		if !strings.Contains(dom, "&lt;img src=x onerror=") {
			t.Errorf("%s: the payload is not shown as text", fragment)
		}
	}
}
