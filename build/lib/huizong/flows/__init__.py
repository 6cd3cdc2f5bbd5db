"""Prefect flows and tasks: the only place that orchestrates."""
