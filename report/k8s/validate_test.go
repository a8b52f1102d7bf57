package k8s

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/applyconfigurations"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// validateFiles checks every generated YAML document three ways (strict
// YAML into the typed object, the strict API serializer, and the OpenAPI
// schema client-go carries) and returns the decoded objects by file.
func validateFiles(t *testing.T, files []File) map[string][]runtime.Object {
	t.Helper()
	out := map[string][]runtime.Object{}
	for _, f := range files {
		if f.Name == "kustomization.yaml" {
			var k kustomization
			if err := yaml.UnmarshalStrict(f.Data, &k); err != nil || k.Kind != "Kustomization" || len(k.Resources) != len(files)-1 {
				t.Fatalf("kustomization.yaml: %v %+v", err, k)
			}
			continue
		}
		out[f.Name] = validateDocuments(t, f.Name, f.Data)
	}
	return out
}

func validateDocuments(t *testing.T, name string, data []byte) []runtime.Object {
	t.Helper()
	codecs := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict)
	dec := codecs.UniversalDeserializer()
	converter := applyconfigurations.NewTypeConverter(scheme.Scheme)
	var objs []runtime.Object
	for i, doc := range strings.Split(string(data), "\n---\n") {
		obj, gvk, err := dec.Decode([]byte(doc), nil, nil)
		if err != nil {
			t.Fatalf("%s document %d: strict decode: %v\n%s", name, i, err, doc)
		}
		typed := reflect.New(reflect.TypeOf(obj).Elem()).Interface()
		if err := yaml.UnmarshalStrict([]byte(doc), typed); err != nil {
			t.Fatalf("%s document %d (%s): yaml.UnmarshalStrict: %v", name, i, gvk.Kind, err)
		}
		if _, err := converter.ObjectToTyped(obj); err != nil {
			t.Fatalf("%s document %d (%s): schema: %v", name, i, gvk.Kind, err)
		}
		objs = append(objs, obj)
	}
	return objs
}
