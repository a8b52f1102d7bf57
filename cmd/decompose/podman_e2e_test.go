package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/decompose-dev/decompose/fixtures/legacyshop"
	"github.com/decompose-dev/decompose/report/k8s"
)

// busyboxApplets are the commands the wrapper scripts and rotate-logs.sh
// use; busybox-static provides them in one static binary.
var busyboxApplets = []string{"sh", "mv", "cat", "sleep", "mkfifo", "kill"}

// buildImages imports one image per container of p: busybox, and every
// file of the install its command names (the program, or the script and
// the programs of a pipeline). shop-db's own config file is not in the plan
// (a file only one program reads is no coupling), so it is baked into its
// image, with the listen address the workload's annotation asks for.
func buildImages(t *testing.T, inst *legacyshop.Install, p *k8s.Pod) {
	t.Helper()
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox is not installed (scripts/test.sh installs busybox-static)")
	}
	paths := regexp.MustCompile(regexp.QuoteMeta(inst.Root) + `/[^'\s"|&;]+`)
	for _, ctr := range p.Template().Spec.Containers {
		rootfs := t.TempDir()
		copyInto(t, rootfs, busybox, "/bin/busybox")
		for _, a := range busyboxApplets {
			if err := os.Symlink("busybox", filepath.Join(rootfs, "bin", a)); err != nil {
				t.Fatal(err)
			}
		}
		os.MkdirAll(filepath.Join(rootfs, "tmp"), 0o1777)
		for _, f := range paths.FindAllString(strings.Join(append(ctr.Command, ctr.Args...), " "), -1) {
			if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
				copyInto(t, rootfs, f, f)
			}
		}
		if ctr.Name == "shop-db" {
			requireDBConf(t, inst, p)
		}
		tarball := filepath.Join(t.TempDir(), "rootfs.tar")
		if out, err := exec.Command("tar", "-C", rootfs, "-cf", tarball, ".").CombinedOutput(); err != nil {
			t.Fatalf("tar: %v: %s", err, out)
		}
		mustPodman(t, "import", "--change", `CMD ["/bin/sh"]`, tarball, ctr.Image)
		image := ctr.Image
		t.Cleanup(func() { podman("rmi", "-f", image) })
	}
}

// requireDBConf fails unless shop-db's workload mounts the directory of
// db.conf: the file is shop-db's own config (named on its command line), so
// the manifests must ship it in a ConfigMap, with its loopback listen
// address changed so that a Service can reach shop-db.
func requireDBConf(t *testing.T, inst *legacyshop.Install, p *k8s.Pod) {
	t.Helper()
	for _, m := range p.Template().Spec.Containers[0].VolumeMounts {
		if m.MountPath == filepath.Dir(inst.DBConf) {
			return
		}
	}
	t.Fatalf("the manifests do not mount shop-db's own config %s", inst.DBConf)
}

func copyInto(t *testing.T, rootfs, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(src)
	full := filepath.Join(rootfs, dst)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, data, fi.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
}

// play runs one pod with podman kube play on network, with its Services'
// names as network aliases. podman 4.3 runs Deployments but not
// StatefulSets, so a StatefulSet is played as a Deployment with the
// claims its volumeClaimTemplates would have made (<claim>-<name>-0).
func play(t *testing.T, dir string, p *k8s.Pod, network string) {
	t.Helper()
	objs := configMapsFor(t, dir, p)
	for _, o := range objs {
		name := o.(*corev1.ConfigMap).Name // podman keeps a volume per ConfigMap
		t.Cleanup(func() { podman("volume", "rm", "-f", name) })
	}
	dep := p.Deployment
	if p.StatefulSet != nil {
		sts := p.StatefulSet
		dep = &appsv1.Deployment{TypeMeta: sts.TypeMeta, ObjectMeta: sts.ObjectMeta, Spec: appsv1.DeploymentSpec{
			Replicas: sts.Spec.Replicas, Selector: sts.Spec.Selector, Template: *sts.Spec.Template.DeepCopy()}}
		dep.Kind = "Deployment"
		for _, c := range sts.Spec.VolumeClaimTemplates {
			claim := c.DeepCopy()
			claim.TypeMeta = corev1.PersistentVolumeClaim{}.TypeMeta
			claim.APIVersion, claim.Kind, claim.Name = "v1", "PersistentVolumeClaim", c.Name+"-"+sts.Name+"-0"
			objs = append(objs, claim)
			dep.Spec.Template.Spec.Volumes = append(dep.Spec.Template.Spec.Volumes, corev1.Volume{Name: c.Name,
				VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim.Name}}})
			name := claim.Name
			t.Cleanup(func() { podman("volume", "rm", "-f", name) })
		}
	}
	data, err := k8s.MarshalDocuments(append(objs, dep))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), p.Name+".yaml")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	net := network
	for i, s := range p.Services {
		sep := ":"
		if i > 0 {
			sep = ","
		}
		net += sep + "alias=" + s.Name
	}
	t.Cleanup(func() { kubeDown(file, p.Name) })
	mustPodman(t, "kube", "play", "--network", net, file)
}

// kubeDown stops a played pod and removes the anonymous volumes of its
// emptyDirs, which podman keeps.
func kubeDown(file, pod string) {
	out, _ := podman("pod", "inspect", pod+"-pod-0", "--format", "{{range .Containers}}{{.Name}} {{end}}")
	var vols []string
	for _, c := range strings.Fields(out) {
		names, _ := podman("inspect", c, "--format", "{{range .Mounts}}{{if eq .Type \"volume\"}}{{.Name}} {{end}}{{end}}")
		vols = append(vols, strings.Fields(names)...)
	}
	podman("kube", "down", file)
	for _, v := range vols {
		podman("volume", "rm", "-f", v)
	}
}

// configMapsFor returns the ConfigMaps p's volumes refer to.
func configMapsFor(t *testing.T, dir string, p *k8s.Pod) []runtime.Object {
	t.Helper()
	want := map[string]bool{}
	for _, v := range p.Template().Spec.Volumes {
		if v.ConfigMap != nil {
			want[v.ConfigMap.Name] = true
		}
	}
	var out []runtime.Object
	if len(want) == 0 {
		return nil
	}
	for _, o := range decodeFile(t, filepath.Join(dir, "configmaps.yaml")) {
		if cm, ok := o.(*corev1.ConfigMap); ok && want[cm.Name] {
			out = append(out, cm)
		}
	}
	return out
}

// podIP is the address of a played pod on the podman network.
func podIP(t *testing.T, pod string) string {
	t.Helper()
	return containerIP(t, mustPodman(t, "pod", "inspect", pod+"-pod-0", "--format", "{{.InfraContainerID}}"))
}

// containerIP is the address of a container on its podman network.
func containerIP(t *testing.T, container string) string {
	t.Helper()
	ip := mustPodman(t, "inspect", container, "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}")
	if ip == "" {
		t.Fatalf("container %s has no address on the network", container)
	}
	return ip
}

// mountOf is where a container's mount of dest lives on the host.
func mountOf(t *testing.T, container, dest string) string {
	t.Helper()
	out := mustPodman(t, "inspect", container, "--format", "{{range .Mounts}}{{.Destination}}={{.Source}}\n{{end}}")
	for _, line := range strings.Split(out, "\n") {
		if d, src, ok := strings.Cut(line, "="); ok && d == dest {
			return src
		}
	}
	t.Fatalf("%s does not mount %s: %s", container, dest, out)
	return ""
}

// podCheck is one piece of work a decomposed application must be seen
// doing.
type podCheck struct {
	what string
	ok   func() bool
}

// waitChecks gives each check 15 s to pass and reports, with the pods'
// logs, every one that does not.
func waitChecks(t *testing.T, checks []podCheck) {
	t.Helper()
	for _, c := range checks {
		deadline := time.Now().Add(15 * time.Second)
		for !c.ok() {
			if time.Now().After(deadline) {
				t.Errorf("%s: not seen after 15s\n%s", c.what, podLogs())
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// containerNamer names the podman container that runs a pod's container.
type containerNamer func(pod, container string) string

// kubePlayName is podman kube play's name for a Deployment's container.
func kubePlayName(pod, container string) string { return pod + "-pod-0-" + container }

// checkPods checks that every pod did its part of the work.
func checkPods(t *testing.T, inst *legacyshop.Install, name containerNamer) {
	t.Helper()
	data := mountOf(t, name("shop-db", "shop-db"), inst.DataDir)
	webLogs := mountOf(t, name("shop-web", "shop-app"), inst.LogDir)
	cacheLogs := mountOf(t, name("shop-cache", "shop-cache"), inst.LogDir)
	waitChecks(t, []podCheck{
		{"orders reached shop-db's volume over the network", func() bool { return lines(filepath.Join(data, "orders.dat"), "") >= 40 }},
		{"shop-app and shop-web share shop.log", func() bool { return lines(filepath.Join(webLogs, "shop.log"), " shop-app order ") >= 40 }},
		// audit.log and worker.log are private to their writer's container.
		{"shop-audit logged every order from the FIFO", func() bool { return inContainer(name("shop-web", "shop-audit"), inst.AuditLog, " accepted") >= 40 }},
		{"shop-logger logged the worker's pipe", func() bool {
			return inContainer(name("shop-web", "shop-worker"), inst.WorkerLog, "processed order") >= 40
		}},
		{"rotate-logs.sh rotated shop-cache's log and signalled it", func() bool {
			_, err := os.Stat(filepath.Join(cacheLogs, "cache.log.1"))
			return err == nil
		}},
	})
}

func lines(path, substr string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return count(string(b), substr)
}

// inContainer counts the lines with substr of a file inside a container.
func inContainer(container, path, substr string) int {
	out, err := podman("exec", container, "/bin/cat", path)
	if err != nil {
		return 0
	}
	return count(out, substr)
}

func count(b, substr string) int {
	n := 0
	for _, l := range strings.Split(b, "\n") {
		if l != "" && strings.Contains(l, substr) {
			n++
		}
	}
	return n
}
