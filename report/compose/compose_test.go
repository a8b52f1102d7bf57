package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"
	"github.com/compose-spec/compose-go/v2/cli"
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

// decodeProject decodes a written compose file strictly.
func decodeProject(t *testing.T, files map[string][]byte, name string) *Project {
	t.Helper()
	var p Project
	if err := yaml.UnmarshalStrict(files[name], &p); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(p.Services) != 8 {
		t.Fatalf("%s: %d services, want one per container (8)", name, len(p.Services))
	}
	return &p
}

// TestFixtureCompose: every pod's containers join their lead's network
// and IPC (and process namespace when the pod shares it, by the lead's
// container name), the lead carries the Service names, the exposed port is
// published, depends_on follows the Service dependencies, and config files
// are bind-mounted where the VM had them.
func TestFixtureCompose(t *testing.T) {
	files := fixtureFiles(t)
	p := decodeProject(t, files, SpecFile)
	rot, cache, web := p.Services["rotate-logs-sh"], p.Services["shop-cache"], p.Services["shop-web"]
	if rot.NetworkMode != "service:shop-cache" || rot.Pid != "container:shop-cache" || rot.Ipc != "service:shop-cache" || cache.ContainerName != "shop-cache" {
		t.Errorf("rotate-logs.sh does not share shop-cache's namespaces: %+v (shop-cache's container_name %q)", rot, cache.ContainerName)
	}
	if _, ok := cache.Networks[NetworkName]; !ok || len(web.Ports) != 1 || web.Ports[0].Published != "8080" {
		t.Errorf("leads: shop-cache networks %v, shop-web ports %v", cache.Networks, web.Ports)
	}
	if strings.Join(web.DependsOn, ",") != "shop-cache,shop-db" {
		t.Errorf("shop-web depends on %v, want the pods whose Services it uses", web.DependsOn)
	}
	app := p.Services["shop-app"]
	if app.NetworkMode != "service:shop-web" || app.Pid != "" || app.Networks != nil || web.ContainerName != "" {
		t.Errorf("shop-app: %+v (shop-web's container_name %q: only a pod sharing its PIDs needs one)", app, web.ContainerName)
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
	if !strings.Contains(string(files[SpecFile]), PodmanCompose10File) {
		t.Errorf("%s does not point podman-compose 1.0.3 users at %s", SpecFile, PodmanCompose10File)
	}
}

// TestFixturePodmanCompose10: the file for podman-compose 1.0.3 has the
// same services, images, commands and volumes (the fixture's commands name
// no loopback address to move), but only what 1.0.3 can run (no
// network_mode, pid, ipc or container_name; networks as a list), and its
// header names, pod by pod, the sharing that is lost.
func TestFixturePodmanCompose10(t *testing.T) {
	files := fixtureFiles(t)
	spec, old := decodeProject(t, files, SpecFile), decodeProject(t, files, PodmanCompose10File)
	for name, s := range old.Services {
		if s.NetworkMode != "" || s.Pid != "" || s.Ipc != "" || s.ContainerName != "" {
			t.Errorf("%s: 1.0.3 cannot run %+v", name, s)
		}
		if _, ok := s.Networks[NetworkName]; !ok || len(s.Networks) != 1 || s.Networks[NetworkName] != nil {
			t.Errorf("%s: networks %v, want the project network as a list", name, s.Networks)
		}
		sp := spec.Services[name]
		if sp == nil || s.Image != sp.Image || strings.Join(s.Command, " ") != strings.Join(sp.Command, " ") ||
			fmt.Sprint(s.Volumes) != fmt.Sprint(sp.Volumes) || strings.Join(s.DependsOn, ",") != strings.Join(sp.DependsOn, ",") {
			t.Errorf("%s differs from %s beyond namespaces:\n%+v\n%+v", name, SpecFile, s, sp)
		}
	}
	if !bytes.Contains(files[PodmanCompose10File], []byte("networks:\n    - decompose\n")) {
		t.Errorf("networks are not written as a list:\n%s", files[PodmanCompose10File])
	}
	header := string(files[PodmanCompose10File])
	for _, want := range []string{
		"# NOTE: pod shop-web (shop-app, shop-audit, shop-worker, shop-metrics, shop-web): ",
		"# NOTE: pod shop-cache (rotate-logs-sh, shop-cache): ",
	} {
		if !strings.Contains(header, want) {
			t.Errorf("the header does not say %q:\n%s", want, header)
		}
	}
	if strings.Contains(header, "# NOTE: pod shop-db") {
		t.Error("shop-db has one container: it loses nothing under 1.0.3")
	}
}

// TestGolden compares both compose files with testdata/TestGolden/*.golden
// (regenerate with go test -update).
func TestGolden(t *testing.T) {
	files := fixtureFiles(t)
	for _, name := range []string{SpecFile, PodmanCompose10File} {
		t.Run(name, func(t *testing.T) { golden.RequireEqual(t, files[name]) })
	}
}

// TestNetworksForms: the list form is written when no network carries
// aliases, and both forms are read back.
func TestNetworksForms(t *testing.T) {
	for _, c := range []struct {
		n    ServiceNetworks
		want string
	}{
		{ServiceNetworks{"b": nil, "a": {}}, `["a","b"]`},
		{ServiceNetworks{"a": {Aliases: []string{"x"}}}, `{"a":{"aliases":["x"]}}`},
	} {
		b, err := json.Marshal(c.n)
		if err != nil || string(b) != c.want {
			t.Errorf("%v: %s, %v; want %s", c.n, b, err, c.want)
		}
		var back ServiceNetworks
		if err := json.Unmarshal(b, &back); err != nil || len(back) != len(c.n) {
			t.Errorf("read back %s: %v, %v", b, back, err)
		}
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

// TestSpecLoader loads both files with compose-go, the loader of docker
// compose (schema validation, interpolation from .env, references between
// services resolved), from a directory holding everything Files wrote: the
// drafts must be valid compose files, and the namespace sharing of
// compose.yaml must survive the loader.
func TestSpecLoader(t *testing.T) {
	dir := t.TempDir()
	for name, data := range fixtureFiles(t) {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{SpecFile, PodmanCompose10File} {
		opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, name)}, cli.WithName("legacyshop"),
			cli.WithWorkingDirectory(dir), cli.WithDotEnv)
		if err != nil {
			t.Fatal(err)
		}
		p, err := opts.LoadProject(context.Background())
		if err != nil {
			t.Fatalf("compose-go rejects %s: %v", name, err)
		}
		if len(p.Services) != 8 {
			t.Errorf("%s: compose-go sees %d services, want 8", name, len(p.Services))
		}
		rot := p.Services["rotate-logs-sh"]
		shared := rot.NetworkMode == "service:shop-cache" && rot.Pid == "container:shop-cache" && rot.Ipc == "service:shop-cache"
		if shared != (name == SpecFile) {
			t.Errorf("%s: rotate-logs-sh has network %q, pid %q, ipc %q", name, rot.NetworkMode, rot.Pid, rot.Ipc)
		}
		deps := p.Services["shop-web"].GetDependencies()
		sort.Strings(deps)
		if strings.Join(deps, ",") != "shop-cache,shop-db" {
			t.Errorf("%s: shop-web depends on %s", name, deps)
		}
	}
}
