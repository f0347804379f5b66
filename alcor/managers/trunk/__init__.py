"""Trunks: a parent port and its VLAN-tagged subports."""
