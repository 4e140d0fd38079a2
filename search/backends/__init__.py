"""Search backends: the embedded tantivy index (default) and Elasticsearch."""
