package compose

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/decompose-dev/decompose/report/k8s"
)

// TestLoopbackRewrite: loopback addresses of the listeners of pods with
// several containers become service names, only as whole addresses, and
// ports two services claim are left alone and said.
func TestLoopbackRewrite(t *testing.T) {
	pod := func(name string, ctrs ...corev1.Container) *k8s.Pod {
		return &k8s.Pod{Name: name, Deployment: &appsv1.Deployment{Spec: appsv1.DeploymentSpec{
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: ctrs}}}}}
	}
	ctr := func(name string, ports ...int32) corev1.Container {
		c := corev1.Container{Name: name}
		for _, p := range ports {
			c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: p, Protocol: corev1.ProtocolTCP})
		}
		return c
	}
	c := &converter{set: &k8s.Set{Pods: []*k8s.Pod{
		pod("web", ctr("nginx", 80), ctr("php-fpm", 9000), ctr("stats", 7000)),
		pod("db", ctr("postgres", 5432)), // alone in its pod: nothing to move
		pod("other", ctr("a", 7000), ctr("b")),
	}}}
	c.names()
	l := c.newLoopback()
	for in, want := range map[string]string{
		"fastcgi_pass 127.0.0.1:9000;":   "fastcgi_pass php-fpm:9000;",
		"listen = localhost:9000":        "listen = php-fpm:9000",
		"[::1]:80,127.0.0.1:9000":        "nginx:80,php-fpm:9000",
		"127.0.0.1:90001 127.0.0.1:900":  "127.0.0.1:90001 127.0.0.1:900",
		"10.127.0.0.1:9000 127.0.0.10:9": "10.127.0.0.1:9000 127.0.0.10:9",
		"127.0.0.1:5432 127.0.0.1:7000":  "127.0.0.1:5432 127.0.0.1:7000",
	} {
		if got := l.rewrite(in); got != want {
			t.Errorf("rewrite(%q) = %q, want %q", in, got, want)
		}
	}
	notes := strings.Join(l.notes(c), "\n")
	for _, want := range []string{
		"pod web (nginx, php-fpm, stats): ", "127.0.0.1:80 -> nginx:80 (TCP), 127.0.0.1:9000 -> php-fpm:9000 (TCP)",
		"port 7000 has listeners in several services (stats, a)",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes do not say %q:\n%s", want, notes)
		}
	}
	if strings.Contains(notes, "pod db") || strings.Contains(notes, "stats:7000") {
		t.Errorf("notes name a single-container pod or a clashing port:\n%s", notes)
	}
	var spec *loopback
	if got := spec.rewrite("127.0.0.1:9000"); got != "127.0.0.1:9000" {
		t.Errorf("Flavor Spec rewrote %q", got)
	}
}
