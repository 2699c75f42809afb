"""The strategy engine's knowledge: the model catalog, its schemas and the use-case profiles."""
