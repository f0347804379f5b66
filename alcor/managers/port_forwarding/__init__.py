"""Floating IP port forwardings: DNAT of floating IP ports to fixed IPs."""
