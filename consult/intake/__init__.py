"""Reading returned workbooks: file safety, cells, value parsing, one return, ingest."""
