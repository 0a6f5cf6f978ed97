"""Source connectors (`sources/`, one module per source type) and file-format readers (`formats/`).

Importing the package registers every source type with the spec model, so specs naming them
validate: the spec layer itself never imports connectors.
"""

from connectors.registry import register_sources

register_sources()
