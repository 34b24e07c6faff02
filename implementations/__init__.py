"""Tasks: one package per task, each registering itself on import (see matrixbench.registry)."""
