"""One module per CLI verb; each exports a function of the same name returning an exit code."""
