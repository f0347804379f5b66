"""Metering: labels of routers' traffic and the prefixes they count."""
