"""Problem generators shared by tasks; each module registers its generators on import."""
