"""Portkey configs: parsed once into a frozen plan, errors naming their JSON path (docs/architecture.md)."""
