"""The syntheses: one document model rendered to Markdown and Word, with charts."""
