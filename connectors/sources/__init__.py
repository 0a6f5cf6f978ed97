"""One module per source type (HTTP file, REST API, SQL database, S3 drop zone, CKAN portal, local file)."""
