"""The SQL models, checks and the warehouse's own statements, shipped in the package as data
(`huizong.sql`): one folder per layer, one model per file."""
