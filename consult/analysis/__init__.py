"""Coverage, scoring and export: what the store holds, turned into figures."""
