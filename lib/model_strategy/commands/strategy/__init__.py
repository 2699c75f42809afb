"""The model strategy: recommendations, projections, optimisations, roadmap and resilience, as report data."""
