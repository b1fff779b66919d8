"""smartflow-gov: governance and data-quality control plane of the SmartFlow lakehouse."""

__version__ = "0.1.0"
