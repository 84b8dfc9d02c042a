"""masterplan: from a project description to an approved plan, then to working code."""

__version__ = "0.1.0"
