"""FastAPI layer: authenticates, validates, then starts, updates, signals or queries workflows."""
