"""The citydata platform's CKAN plugin."""
