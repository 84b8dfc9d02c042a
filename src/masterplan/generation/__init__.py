"""Masterplan generation: discovery, then a skeleton call and one call per milestone, durable."""
