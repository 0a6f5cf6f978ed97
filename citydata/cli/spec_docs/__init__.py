"""The spec reference (docs/spec-reference.md) and JSON Schema (datasets/spec.schema.json),
generated from the models of every layer: `citydata datasets reference [--check]`."""
