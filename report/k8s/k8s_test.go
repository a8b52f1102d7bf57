package k8s

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/decompose-dev/decompose/fixtures/recordings"
	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/trace"
)

// fixturePlan analyzes the bundled legacyshop recording.
func fixturePlan(t *testing.T) *graph.Plan {
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
	return p
}

func mustFiles(t *testing.T, p *graph.Plan, o Options) []File {
	t.Helper()
	s, err := Build(p, o)
	if err != nil {
		t.Fatal(err)
	}
	files, err := s.Files()
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestFixtureManifests checks the drafts for legacyshop: valid objects,
// the workload kinds, Services and volumes the plan implies, selectors that
// match, and evidence on every object.
func TestFixtureManifests(t *testing.T) {
	files := mustFiles(t, fixturePlan(t), Options{})
	objs := validateFiles(t, files)
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, " "); got != "configmaps.yaml shop-cache.yaml shop-web.yaml shop-db.yaml kustomization.yaml" {
		t.Fatalf("files: %s", got)
	}
	for file, list := range objs {
		for _, o := range list {
			checkObject(t, file, o)
		}
	}
	db := objs["shop-db.yaml"]
	sts, ok := db[0].(*appsv1.StatefulSet)
	if !ok || len(sts.Spec.VolumeClaimTemplates) != 1 || sts.Spec.VolumeClaimTemplates[0].Name != "legacyshop-db" {
		t.Fatalf("shop-db: want a StatefulSet with a claim template for its data, got %T", db[0])
	}
	if m := sts.Spec.Template.Spec.Containers[0].VolumeMounts; len(m) != 1 || m[0].MountPath != "/srv/legacyshop/var/lib/legacyshop/db" {
		t.Errorf("shop-db mounts %v, want its data dir at the VM's path", m)
	}
	web := objs["shop-web.yaml"]
	dep := web[0].(*appsv1.Deployment)
	svc := web[1].(*corev1.Service)
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || svc.Spec.Ports[0].Port != 8080 {
		t.Errorf("shop-web Service: %s %v, want LoadBalancer on 8080", svc.Spec.Type, svc.Spec.Ports)
	}
	checkShopWebPod(t, dep)
	cache := objs["shop-cache.yaml"][0].(*appsv1.Deployment)
	if ps := cache.Spec.Template.Spec.ShareProcessNamespace; ps == nil || !*ps {
		t.Error("shop-cache: rotate-logs.sh signals shop-cache, so the pod must share its process namespace")
	}
	if a := cache.Annotations[AnnotationAddresses]; !strings.Contains(a, "127.0.0.1:6380 to 0.0.0.0:6380") {
		t.Errorf("shop-cache: no hint to listen beyond loopback: %q", a)
	}
}

// checkObject checks what every object must carry: evidence, and for
// workloads, a selector that matches the template and Services that select
// it.
func checkObject(t *testing.T, file string, o interface{}) {
	t.Helper()
	switch x := o.(type) {
	case *appsv1.Deployment:
		checkWorkload(t, file, x.Annotations, x.Spec.Selector.MatchLabels, x.Spec.Template)
	case *appsv1.StatefulSet:
		checkWorkload(t, file, x.Annotations, x.Spec.Selector.MatchLabels, x.Spec.Template)
	case *corev1.Service:
		if x.Annotations[AnnotationEvidence] == "" || x.Spec.Selector[LabelName] != strings.TrimSuffix(file, ".yaml") {
			t.Errorf("%s: Service %s lacks evidence or selects another pod", file, x.Name)
		}
	case *corev1.ConfigMap:
		if x.Annotations[AnnotationEvidence] == "" {
			t.Errorf("%s: ConfigMap %s lacks evidence", file, x.Name)
		}
	}
}

func checkWorkload(t *testing.T, file string, ann, sel map[string]string, tmpl corev1.PodTemplateSpec) {
	t.Helper()
	if ann[AnnotationEvidence] == "" {
		t.Errorf("%s: workload lacks %s", file, AnnotationEvidence)
	}
	if !labels.SelectorFromSet(sel).Matches(labels.Set(tmpl.Labels)) {
		t.Errorf("%s: selector %v does not match template labels %v", file, sel, tmpl.Labels)
	}
	vols := map[string]bool{}
	for _, v := range tmpl.Spec.Volumes {
		vols[v.Name] = true
	}
	for _, c := range tmpl.Spec.Containers {
		if ann[ImageAnnotationPrefix+c.Name] == "" {
			t.Errorf("%s: container %s has no note on its image", file, c.Name)
		}
		for _, m := range c.VolumeMounts {
			if !vols[m.Name] && !strings.HasSuffix(file, "shop-db.yaml") {
				t.Errorf("%s: container %s mounts unknown volume %s", file, c.Name, m.Name)
			}
		}
	}
}

// checkShopWebPod: the pipe puts shop-worker and shop-logger in one
// container, the FIFO is made before shop-audit and shop-app start, and
// shared memory is a Memory emptyDir at /dev/shm.
func checkShopWebPod(t *testing.T, dep *appsv1.Deployment) {
	t.Helper()
	ctrs := map[string]corev1.Container{}
	for _, c := range dep.Spec.Template.Spec.Containers {
		ctrs[c.Name] = c
	}
	if len(ctrs) != 5 {
		t.Fatalf("shop-web: %d containers, want 5 (shop-worker | shop-logger share one)", len(ctrs))
	}
	worker := ctrs["shop-worker"]
	if len(worker.Command) != 3 || !strings.Contains(worker.Command[2], "/shop-worker' | '") {
		t.Errorf("shop-worker container does not run the pipeline: %q", worker.Command)
	}
	for _, n := range []string{"shop-app", "shop-audit"} {
		if c := ctrs[n]; len(c.Command) != 3 || !strings.Contains(c.Command[2], "mkfifo -m 0600 '/srv/legacyshop/run/legacyshop/audit.fifo'") {
			t.Errorf("%s does not make the FIFO first: %q", n, c.Command)
		}
	}
	if c := ctrs["shop-web"]; len(c.Command) != 1 || c.Command[0] != "/srv/legacyshop/opt/legacyshop/bin/shop-web" {
		t.Errorf("shop-web command %q, want the recorded argv", c.Command)
	}
	if c := ctrs["shop-app"]; len(c.Env) == 0 || c.Env[0].Value != "shop-cache:6380" {
		t.Errorf("shop-app: no address hint for shop-cache: %v", c.Env)
	}
	for _, v := range dep.Spec.Template.Spec.Volumes {
		if v.Name == "dev-shm" && (v.EmptyDir == nil || v.EmptyDir.Medium != corev1.StorageMediumMemory) {
			t.Errorf("dev-shm is not a Memory emptyDir: %+v", v)
		}
	}
}

func TestSameBytesTwice(t *testing.T) {
	p := fixturePlan(t)
	a, b := mustFiles(t, p, Options{}), mustFiles(t, fixturePlan(t), Options{})
	for i := range a {
		if a[i].Name != b[i].Name || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Fatalf("%s differs between two runs", a[i].Name)
		}
	}
}
