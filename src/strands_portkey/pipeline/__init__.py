"""See ARCHITECTURE.md section 3."""
