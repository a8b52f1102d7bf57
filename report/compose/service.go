package compose

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/decompose-dev/decompose/report/k8s"
)

// pod converts one pod's containers into services.
func (c *converter) pod(p *k8s.Pod) error {
	tmpl := p.Template()
	var meta metav1.Object = p.Deployment
	if p.StatefulSet != nil {
		meta = p.StatefulSet
	}
	lead := c.lead[p.Name]
	vols, err := c.volumes(p)
	if err != nil {
		return err
	}
	for _, ctr := range tmpl.Spec.Containers {
		name := c.service[[2]string{p.Name, ctr.Name}]
		s := &Service{Image: ctr.Image, Restart: "always", Labels: map[string]string{}}
		s.Entrypoint, s.Command = c.words(c.loop.rewriteAll(ctr.Command)), c.words(c.loop.rewriteAll(ctr.Args))
		s.Environment = c.environment(ctr.Env)
		if sc := ctr.SecurityContext; sc != nil && sc.RunAsUser != nil {
			s.User = strconv.FormatInt(*sc.RunAsUser, 10)
		}
		if s.Volumes, err = c.mounts(name, ctr, vols); err != nil {
			return fmt.Errorf("compose: pod %s: %w", p.Name, err)
		}
		if note := meta.GetAnnotations()[k8s.ImageAnnotationPrefix+ctr.Name]; note != "" {
			s.Labels[k8s.ImageAnnotationPrefix+"image"] = escape(note)
		}
		if name == lead {
			c.leadService(s, p, meta.GetAnnotations())
		} else {
			c.member(s, lead, sharesPID(p))
		}
		c.project.Services[name] = s
	}
	return nil
}

// mounts converts a container's volume mounts.
func (c *converter) mounts(service string, ctr corev1.Container, vols map[string][]Mount) ([]Mount, error) {
	var out []Mount
	for _, m := range ctr.VolumeMounts {
		mnt, ok := vols[m.Name]
		if !ok {
			return nil, fmt.Errorf("container %s mounts unknown volume %s", ctr.Name, m.Name)
		}
		for _, x := range mnt {
			x.Target = joinTarget(m.MountPath, x.Target)
			x.ReadOnly = x.ReadOnly || m.ReadOnly
			if c.flavor == PodmanCompose10 && strings.Contains(x.Source+x.Target, ":") {
				c.notes = append(c.notes, fmt.Sprintf("service %s mounts %q at %q: 1.0.3 passes mounts as -v SRC:DST, which cannot carry a ':' in a path", service, x.Source, x.Target))
			}
			out = append(out, x)
		}
	}
	return out, nil
}

// member joins a container that is not its pod's lead to the lead's
// namespaces (Flavor Spec), or only orders it after the lead
// (PodmanCompose10, which cannot join namespaces).
func (c *converter) member(s *Service, lead string, pid bool) {
	s.DependsOn = []string{lead}
	if c.flavor == PodmanCompose10 {
		s.Networks = ServiceNetworks{NetworkName: nil}
		return
	}
	s.NetworkMode = "service:" + lead
	s.Ipc = "service:" + lead
	if pid {
		s.Pid = "container:" + lead
	}
}

func sharesPID(p *k8s.Pod) bool {
	ps := p.Template().Spec.ShareProcessNamespace
	return ps != nil && *ps
}

// podServices lists the service names of a pod's containers.
func (c *converter) podServices(p *k8s.Pod) []string {
	var out []string
	for _, ctr := range p.Template().Spec.Containers {
		out = append(out, c.service[[2]string{p.Name, ctr.Name}])
	}
	return out
}

// leadService gives the lead container the pod's network identity: the
// names of its Services, their published ports, the pod's dependencies and
// its evidence.
func (c *converter) leadService(s *Service, p *k8s.Pod, ann map[string]string) {
	var aliases []string
	for _, svc := range p.Services {
		if svc.Name != c.lead[p.Name] {
			aliases = append(aliases, svc.Name)
		}
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer && svc.Spec.Type != corev1.ServiceTypeNodePort {
			continue
		}
		for _, port := range svc.Spec.Ports {
			s.Ports = append(s.Ports, Port{Target: port.TargetPort.IntVal, Published: strconv.Itoa(int(port.Port)), Protocol: strings.ToLower(string(port.Protocol))})
		}
	}
	if sharesPID(p) && len(p.Template().Spec.Containers) > 1 && c.flavor == Spec {
		// The others join its process namespace by this name (see Spec).
		s.ContainerName = c.lead[p.Name]
	}
	s.Networks = ServiceNetworks{NetworkName: {Aliases: aliases}}
	if c.flavor == PodmanCompose10 && len(aliases) > 0 {
		s.Networks = ServiceNetworks{NetworkName: nil}
		c.notes = append(c.notes, fmt.Sprintf("service %s is reached by the name %s only: 1.0.3 gives no network aliases, so clients that use %s must be pointed at %s",
			c.lead[p.Name], c.lead[p.Name], strings.Join(aliases, ", "), c.lead[p.Name]))
	}
	for _, dep := range p.DependsOn {
		s.DependsOn = append(s.DependsOn, c.lead[dep])
	}
	for _, k := range []string{k8s.AnnotationEvidence, k8s.AnnotationAddresses, k8s.AnnotationWarnings, k8s.AnnotationContainers, k8s.AnnotationSecurity} {
		if v := ann[k]; v != "" {
			s.Labels[k] = escape(v)
		}
	}
}

// volumes maps a pod's volumes to compose mounts: named volumes (scoped to
// the pod) for emptyDirs and claims, bind mounts of written files for
// ConfigMap items. A mount's Target is relative to the volume's mount path.
func (c *converter) volumes(p *k8s.Pod) (map[string][]Mount, error) {
	out := map[string][]Mount{}
	tmpl := p.Template()
	if p.StatefulSet != nil {
		for _, claim := range p.StatefulSet.Spec.VolumeClaimTemplates {
			out[claim.Name] = []Mount{c.namedVolume(p.Name, claim.Name)}
		}
	}
	for _, v := range tmpl.Spec.Volumes {
		switch {
		case v.EmptyDir != nil, v.PersistentVolumeClaim != nil:
			out[v.Name] = []Mount{c.namedVolume(p.Name, v.Name)}
		case v.ConfigMap != nil:
			mounts, err := c.configMounts(v.ConfigMap)
			if err != nil {
				return nil, fmt.Errorf("compose: pod %s: %w", p.Name, err)
			}
			out[v.Name] = mounts
		default:
			return nil, fmt.Errorf("compose: pod %s: volume %s has a kind compose drafts do not support", p.Name, v.Name)
		}
	}
	return out, nil
}

func (c *converter) namedVolume(pod, vol string) Mount {
	name := pod + "-" + vol
	c.project.Volumes[name] = &Volume{Labels: map[string]string{k8s.AnnotationEvidence: "volume " + vol + " of pod " + pod}}
	return Mount{Type: "volume", Source: name}
}

// configMounts writes a ConfigMap's items as files and bind-mounts each.
func (c *converter) configMounts(src *corev1.ConfigMapVolumeSource) ([]Mount, error) {
	var cm *corev1.ConfigMap
	for _, x := range c.set.ConfigMaps {
		if x.Name == src.Name {
			cm = x
		}
	}
	if cm == nil {
		return nil, fmt.Errorf("ConfigMap %s is not in the drafts", src.Name)
	}
	var out []Mount
	for _, item := range src.Items {
		file := configPath(cm.Name, item.Key)
		data := []byte(cm.Data[item.Key])
		if b, ok := cm.BinaryData[item.Key]; ok {
			data = b
		} else if moved := c.loop.rewrite(cm.Data[item.Key]); moved != cm.Data[item.Key] {
			// The other flavor's copy keeps the original addresses.
			file, data = path.Join(PodmanCompose10Config, cm.Name, item.Key), []byte(moved)
		}
		c.configs[file] = data
		out = append(out, Mount{Type: "bind", Source: "./" + file, Target: item.Path, ReadOnly: true})
	}
	return out, nil
}

// environment converts a container's environment: plain values escaped,
// secrets taken from .env.
func (c *converter) environment(env []corev1.EnvVar) map[string]string {
	if len(env) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, e := range env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			out[e.Name] = "${" + e.Name + "}"
			c.env[e.Name] = true
		default:
			out[e.Name] = escape(c.loop.rewrite(e.Value))
		}
	}
	return out
}

var kubeletRef = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)|\$`)

// words converts command or args from the kubelet's syntax ("$$" a dollar,
// "$(VAR)" a variable) to compose's ("$$" a dollar, "${VAR}" a variable
// from .env).
func (c *converter) words(ws []string) []string {
	if len(ws) == 0 {
		return nil
	}
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = kubeletRef.ReplaceAllStringFunc(w, func(m string) string {
			if strings.HasPrefix(m, "$(") {
				name := m[2 : len(m)-1]
				c.env[name] = true
				return "${" + name + "}"
			}
			return "$$"
		})
	}
	return out
}

// escape keeps compose from interpolating a literal string.
func escape(s string) string { return strings.ReplaceAll(s, "$", "$$") }

// joinTarget joins a mount path and an item path ("" for whole volumes).
func joinTarget(dir, item string) string {
	if item == "" {
		return dir
	}
	return strings.TrimSuffix(dir, "/") + "/" + item
}
