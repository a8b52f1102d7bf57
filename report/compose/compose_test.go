package compose

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/decompose-dev/decompose/fixtures/recordings"
	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/report/k8s"
	"github.com/decompose-dev/decompose/trace"
)

func fixtureFiles(t *testing.T) map[string][]byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "legacyshop.trace")
	if err := os.WriteFile(path, recordings.LegacyshopSynthetic, 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := graph.Analyze([]*trace.Trace{tr}, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	set, err := k8s.Build(p, k8s.Options{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := Files(set)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		out[f.Name] = f.Data
	}
	return out
}

// TestFixtureCompose: every pod's containers join their lead's network
// and IPC (and process namespace when the pod shares it), the lead carries
// the Service names, the exposed port is published, depends_on follows the
// Service dependencies, and config files are bind-mounted where the VM had
// them.
func TestFixtureCompose(t *testing.T) {
	files := fixtureFiles(t)
	var p Project
	if err := yaml.UnmarshalStrict(files["compose.yaml"], &p); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	if len(p.Services) != 8 {
		t.Fatalf("%d services, want one per container (8)", len(p.Services))
	}
	rot, cache, web := p.Services["rotate-logs-sh"], p.Services["shop-cache"], p.Services["shop-web"]
	if rot.NetworkMode != "service:shop-cache" || rot.Pid != "service:shop-cache" || rot.Ipc != "service:shop-cache" {
		t.Errorf("rotate-logs.sh does not share shop-cache's namespaces: %+v", rot)
	}
	if cache.Networks[NetworkName] == nil || len(web.Ports) != 1 || web.Ports[0].Published != "8080" {
		t.Errorf("leads: shop-cache networks %v, shop-web ports %v", cache.Networks, web.Ports)
	}
	if strings.Join(web.DependsOn, ",") != "shop-cache,shop-db" {
		t.Errorf("shop-web depends on %v, want the pods whose Services it uses", web.DependsOn)
	}
	app := p.Services["shop-app"]
	if app.NetworkMode != "service:shop-web" || app.Pid != "" {
		t.Errorf("shop-app: %+v", app)
	}
	var conf bool
	for _, v := range app.Volumes {
		conf = conf || (v.Type == "bind" && v.Source == "./config/legacyshop-config/shop.conf" && v.Target == "/srv/legacyshop/etc/legacyshop/shop.conf" && v.ReadOnly)
	}
	if !conf {
		t.Errorf("shop.conf is not bind-mounted where the VM had it: %+v", app.Volumes)
	}
	if _, ok := files["config/legacyshop-config/shop.conf"]; !ok {
		t.Error("config/legacyshop-config/shop.conf not written")
	}
}

// TestDollarsStayLiteral: "$" from a trace reaches the container as "$"
// (compose's "$$"), and secret references come from .env.
func TestDollarsStayLiteral(t *testing.T) {
	c := &converter{env: map[string]bool{}}
	got := c.words([]string{"--password=$(DECOMPOSE_SECRET_X)", "$$(HOME)", "$USER", "a$$b"})
	want := []string{"--password=${DECOMPOSE_SECRET_X}", "$$(HOME)", "$$USER", "a$$b"}
	if strings.Join(got, " ") != strings.Join(want, " ") || !c.env["DECOMPOSE_SECRET_X"] {
		t.Errorf("got %q, want %q (env %v)", got, want, c.env)
	}
}
