"""augcli: an offline dataset augmenter driven by one YAML recipe."""

__version__ = "0.1.0"
