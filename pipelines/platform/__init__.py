"""Platform-wide assets (not tied to one dataset)."""
