"""One module per file format (CSV/TSV, XLSX/XLS, JSON/JSON Lines, GeoJSON): raw bytes to Arrow."""
