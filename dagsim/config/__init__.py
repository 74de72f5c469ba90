"""Scenario configuration: the only layer that reads YAML or raw dictionaries."""
