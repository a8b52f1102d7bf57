package ebpf

// Test hooks for the external tests of this package.

// LPMany is lpMany.
const LPMany = lpMany

// ListenPort is the listen_ports entry of port.
func (t *Tracer) ListenPort(port uint16) (uint64, error) {
	var v uint64
	err := t.maps.Maps["listen_ports"].Lookup(uint32(port), &v)
	return v, err
}

// InListeners reports whether (netns, port) is in the listeners map.
func (t *Tracer) InListeners(netns uint32, port uint16) bool {
	var v uint8
	return t.maps.Maps["listeners"].Lookup(&decomposeListenKey{Netns: netns, Port: port}, &v) == nil
}
