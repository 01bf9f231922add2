"""Writing the offline workbook: the layout shared with intake, and the writer."""
