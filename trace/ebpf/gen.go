package ebpf

// Regenerate the BPF objects (needs clang and libbpf-dev; go build does not):
//
//	go generate ./trace/ebpf/
//
//go:generate go tool bpf2go -cc clang -target bpfel decompose bpf/decompose.bpf.c -- -I./bpf -O2 -g -Wall -Wno-unused-variable
